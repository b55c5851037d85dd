"""waitbus: a workstation-local event bus for coding agents and the tools around them.

Sources (GitHub, Alertmanager, pytest, Docker, files, agents) commit events to one SQLite store;
a daemon (`waitbus serve`) fans them out over a private AF_UNIX socket. Start with `emit`,
`wait_for` and `subscribe` (or their asyncio twins), or the CLI: `waitbus --help`.
"""

from __future__ import annotations

import importlib

# Not typing.TYPE_CHECKING: importing typing is a measurable part of a short command's start-up.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from waitbus.api import (
        aemit,
        aemit_many,
        asubscribe,
        await_for,
        emit,
        emit_many,
        subscribe,
        wait_for,
    )
    from waitbus.consumers.since import Since
    from waitbus.errors import NotRunning, UsageError, WaitbusError, WaitTimeout
    from waitbus.event import Conclusion, Event
    from waitbus.messaging import arequest, arespond, request, respond

# Names load on first use, so `import waitbus.x` (the pytest plugin, the CLI) stays cheap.
_HOMES = {
    "aemit": "waitbus.api",
    "aemit_many": "waitbus.api",
    "asubscribe": "waitbus.api",
    "await_for": "waitbus.api",
    "emit": "waitbus.api",
    "emit_many": "waitbus.api",
    "subscribe": "waitbus.api",
    "wait_for": "waitbus.api",
    "Since": "waitbus.consumers.since",
    "NotRunning": "waitbus.errors",
    "UsageError": "waitbus.errors",
    "WaitbusError": "waitbus.errors",
    "WaitTimeout": "waitbus.errors",
    "Conclusion": "waitbus.event",
    "Event": "waitbus.event",
    "arequest": "waitbus.messaging",
    "arespond": "waitbus.messaging",
    "request": "waitbus.messaging",
    "respond": "waitbus.messaging",
}

__all__ = [
    "Conclusion",
    "Event",
    "NotRunning",
    "Since",
    "UsageError",
    "WaitTimeout",
    "WaitbusError",
    "aemit",
    "aemit_many",
    "arequest",
    "arespond",
    "asubscribe",
    "await_for",
    "emit",
    "emit_many",
    "request",
    "respond",
    "subscribe",
    "wait_for",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        msg = f"module 'waitbus' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
