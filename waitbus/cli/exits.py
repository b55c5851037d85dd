"""The one table of exit codes every command uses."""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    MATCHED = 0
    FAILED = 1
    USAGE = 2
    PRUNED = 66
    UNREACHABLE = 69
    CONFIG = 78
    STORE = 74
    TIMEOUT = 124
    INTERRUPTED = 130


MEANINGS = {
    Exit.MATCHED: "matched (or the command succeeded)",
    Exit.FAILED: "matched an event whose conclusion is failure, cancelled or timed_out",
    Exit.USAGE: "usage error: a bad flag, clause or value",
    Exit.PRUNED: "the events asked for (--since) were pruned by retention",
    Exit.UNREACHABLE: "no daemon answered within the reconnect budget",
    Exit.CONFIG: "doctor found a set-up problem (each failing line says what to do)",
    Exit.STORE: "the event store could not be read or written",
    Exit.TIMEOUT: "timed out without a match",
    Exit.INTERRUPTED: "interrupted (Ctrl-C)",
}


def table() -> str:
    rows = (f"  {int(code):>3}  {text}" for code, text in MEANINGS.items())
    return "exit codes:\n" + "\n".join(rows)
