"""The record of waits: when each started and ended, how, and when its event woke it."""

from __future__ import annotations

import enum
import json
import logging

from waitbus.errors import WaitbusError
from waitbus.paths import StatePaths
from waitbus.record import record
from waitbus.store.store import Store

log = logging.getLogger(__name__)


class Ending(enum.StrEnum):
    """How a wait ended."""

    MATCHED = "matched"
    FAILED = "failed"  # matched an event whose conclusion is a failure
    TIMED_OUT = "timed_out"  # for an MCP wait: pending, to be called again
    PRUNED = "pruned"
    INTERRUPTED = "interrupted"


@record
class WaitRecord:
    """One wait as `waitbus stats` reads it; times are wall-clock nanoseconds."""

    started_at: int
    ended_at: int
    client: str  # cli, api or mcp
    sources: tuple[str, ...]  # the sources it waited on; empty: any source
    ending: Ending
    event_at: int | None = None  # received_at of the event that ended it
    woke_at: int | None = None  # when the waiter had that event

    @property
    def woke_live(self) -> bool:
        """It slept and an event committed after it started woke it (not a stored one)."""
        return (self.event_at is not None and self.woke_at is not None
                and self.event_at >= self.started_at)

    @property
    def wake_latency_ns(self) -> int | None:
        if not self.woke_live:
            return None
        assert self.woke_at is not None
        assert self.event_at is not None
        return max(0, self.woke_at - self.event_at)


def open_for_record(paths: StatePaths) -> Store | None:
    """A writer to `save` a record through later, or None when there is no store to take it.

    Opening the store costs more than the insert: a waiter opens it while it waits, so that
    saving its record after the verdict is only the insert.
    """
    if not paths.store.exists():
        return None  # no store to record in: none is created for a record
    try:
        return Store(paths)
    except WaitbusError as exc:
        log.debug("wait will not be recorded: %s", exc)
        return None


def save(paths: StatePaths, record: WaitRecord, store: Store | None = None) -> None:
    """Add `record` (through `store`, which it closes, when the caller opened one ahead); a
    store that cannot take it loses the record, never the wait's result."""
    if store is None:
        store = open_for_record(paths)
        if store is None:
            return
    try:
        with store, store.maintenance() as db:
            db.execute(
                "INSERT INTO waits (started_at, ended_at, client, sources, outcome, event_at,"
                " woke_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record.started_at, record.ended_at, record.client,
                 json.dumps(list(record.sources)), str(record.ending), record.event_at,
                 record.woke_at))
    except WaitbusError as exc:
        log.debug("wait not recorded: %s", exc)


def read(store: Store, since_ns: int) -> list[WaitRecord]:
    """Every recorded wait that started at or after `since_ns`, oldest first."""
    with store.reading() as db:
        rows = db.execute(
            "SELECT started_at, ended_at, client, sources, outcome, event_at, woke_at"
            " FROM waits WHERE started_at >= ? ORDER BY started_at", (since_ns,)).fetchall()
    return [WaitRecord(r[0], r[1], r[2], tuple(json.loads(r[3])), Ending(r[4]), r[5], r[6])
            for r in rows]
