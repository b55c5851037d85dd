"""The one table of exit codes every command uses."""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    MATCHED = 0
    FAILED = 1
    USAGE = 2
    PRUNED = 66
    UNREACHABLE = 69
    INTERNAL = 70
    STORE = 74
    REFUSED = 77
    CONFIG = 78
    TIMEOUT = 124
    INTERRUPTED = 130
    CLOSED_OUTPUT = 141


MEANINGS = {
    Exit.MATCHED: "matched (or the command succeeded)",
    Exit.FAILED: "matched an event whose conclusion is failure, cancelled or timed_out",
    Exit.USAGE: "usage error: a bad flag, clause or value",
    Exit.PRUNED: "the events asked for (--since) were pruned by retention",
    Exit.UNREACHABLE: "no daemon answered within the reconnect budget",
    Exit.INTERNAL: "internal error: a bug in waitbus, or a demo that did not work (-v tells more)",
    Exit.STORE: "the event store could not be read or written",
    Exit.REFUSED: "refused as unsafe: a verification failed, or a file changed since install",
    Exit.CONFIG: "doctor found a set-up problem (each failing line says what to do)",
    Exit.TIMEOUT: "timed out without a match",
    Exit.INTERRUPTED: "interrupted (Ctrl-C)",
    Exit.CLOSED_OUTPUT: "the reader of the output went away (a closed pipe)",
}


def table() -> str:
    rows = (f"  {int(code):>3}  {text}" for code, text in MEANINGS.items())
    return "exit codes:\n" + "\n".join(rows)
