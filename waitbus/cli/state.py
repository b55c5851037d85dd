"""Shared argv-to-library glue for the commands."""

from __future__ import annotations

import argparse
import os

from waitbus.consumers.feed import DEFAULT_RECONNECT_S
from waitbus.paths import StatePaths, resolve


def paths_from(args: argparse.Namespace) -> StatePaths:
    return resolve(args.state_dir)


def reconnect_s() -> float:
    raw = os.environ.get("WAITBUS_RECONNECT_S")
    return float(raw) if raw else DEFAULT_RECONNECT_S


def process_started_ns() -> int:
    """When this process began, as wall-clock ns, so `wait` covers events from its very start.

    An event emitted while the interpreter was still starting has a later received_at, so a
    wait started "at the same instant" as an emit never misses it. Linux reports the start in
    clock ticks (10 ms), so the bound is rounded down by one tick; elsewhere, now.
    """
    import time

    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        started_ticks = int(fields[19])
    except (OSError, IndexError, ValueError):
        return time.time_ns()
    tick_s = 1.0 / os.sysconf("SC_CLK_TCK")
    age_s = time.clock_gettime(time.CLOCK_BOOTTIME) - started_ticks * tick_s
    return time.time_ns() - int((age_s + tick_s) * 1e9)
