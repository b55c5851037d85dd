"""waitbus: a workstation-local event bus for coding agents and the tools around them.

Sources (GitHub, Alertmanager, pytest, Docker, files, agents) commit events to one SQLite store;
a daemon (`waitbus serve`) fans them out over a private AF_UNIX socket. Start with `emit`,
`wait_for` and `subscribe` (or their asyncio twins), or the CLI: `waitbus --help`.
"""

from waitbus.api import aemit, asubscribe, await_for, emit, subscribe, wait_for
from waitbus.errors import NotRunning, UsageError, WaitbusError, WaitTimeout
from waitbus.event import Conclusion, Event
from waitbus.messaging import arequest, arespond, request, respond

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
