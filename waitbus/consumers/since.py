"""Where a wait or subscription starts, decided before it connects so that it cannot miss."""

from __future__ import annotations

import os
import time

from waitbus.errors import UsageError
from waitbus.event import parse_cursor
from waitbus.paths import StatePaths
from waitbus.record import record
from waitbus.store.store import Store


@record
class Since:
    """After cursor `cursor`, or after the newest event received before `received_ns`.

    With neither, the store's head when the wait starts: "from now". Reading the start before
    connecting is what makes a wait race-free: an event committed after that point has a
    higher cursor, so the daemon's replay delivers it even if it beat the subscription.
    `generation` is the store's generation `cursor` was read from, when known: a cursor of a
    store that was replaced since (moved aside and created again) starts the wait at the new
    store's start instead.
    """

    cursor: int | None = None
    received_ns: int | None = None
    generation: str | None = None

    def __post_init__(self) -> None:
        if self.cursor is not None and self.received_ns is not None:
            msg = "a wait starts after a cursor or after a time, not both"
            raise UsageError(msg)
        if self.cursor is not None:
            parse_cursor(self.cursor, "since")

    @classmethod
    def process_start(cls) -> Since:
        """From the moment this process started: `cmd & waitbus wait ...` misses nothing
        that `cmd` emits while this interpreter is still starting."""
        return cls(received_ns=process_started_ns())

    @classmethod
    def ago(cls, seconds: float) -> Since:
        """Events received in the last `seconds`."""
        return cls(received_ns=time.time_ns() - int(seconds * 1e9))

    def start(self, paths: StatePaths) -> int:
        """The cursor after which events count."""
        if self.cursor is not None:
            return self.cursor
        if not paths.store.exists():
            return 0
        with Store(paths, read_only=True) as store:
            return store.head() if self.received_ns is None else store.cursor_before(
                self.received_ns)


NOW = Since()


def process_started_ns() -> int:
    """When this process began, as wall-clock ns.

    An event emitted while the interpreter was still starting has a later received_at, so a
    wait started "at the same instant" as an emit never misses it. Linux reports the start in
    clock ticks (10 ms), so the bound is rounded down by one tick; elsewhere, now.
    """
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        started_ticks = int(fields[19])
    except (OSError, IndexError, ValueError):
        return time.time_ns()
    tick_s = 1.0 / os.sysconf("SC_CLK_TCK")
    age_s = time.clock_gettime(time.CLOCK_BOOTTIME) - started_ticks * tick_s
    return time.time_ns() - int((age_s + tick_s) * 1e9)
