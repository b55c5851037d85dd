"""waitbus: a workstation-local event bus for coding agents and the tools around them.

Sources (GitHub, Alertmanager, pytest, Docker, files, agents) commit events to one SQLite store;
a daemon (`waitbus serve`) fans them out over a private AF_UNIX socket. Start with `emit`,
`wait_for` and `subscribe` (or their asyncio twins), or the CLI: `waitbus --help`.
"""

from __future__ import annotations

import importlib

# Not typing.TYPE_CHECKING: importing typing would cost every `waitbus` process (and each agent
# hook call) several ms; mypy treats any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from waitbus.api import aemit, asubscribe, await_for, emit, subscribe, wait_for
    from waitbus.errors import NotRunning, UsageError, WaitbusError, WaitTimeout
    from waitbus.event import Conclusion, Event
    from waitbus.messaging import arequest, arespond, request, respond

# Names load on first use, so `import waitbus.x` (the pytest plugin, the CLI) stays cheap.
_HOMES = {
    "aemit": "waitbus.api",
    "asubscribe": "waitbus.api",
    "await_for": "waitbus.api",
    "emit": "waitbus.api",
    "subscribe": "waitbus.api",
    "wait_for": "waitbus.api",
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
    "UsageError",
    "WaitTimeout",
    "WaitbusError",
    "aemit",
    "arequest",
    "arespond",
    "asubscribe",
    "await_for",
    "emit",
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
