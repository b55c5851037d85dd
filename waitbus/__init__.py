"""waitbus: a workstation-local event bus for coding agents and the tools around them.

Sources (GitHub, Alertmanager, pytest, Docker, files, agents) commit events to one SQLite store;
a daemon (`waitbus serve`) fans them out over a private AF_UNIX socket. Start with `emit`,
`wait_for` and `subscribe` (or their asyncio twins), or the CLI: `waitbus --help`.
"""

from __future__ import annotations

import importlib

# Not typing.TYPE_CHECKING: importing typing is a measurable part of a short command's start-up.
TYPE_CHECKING = False

if TYPE_CHECKING:  # `name as name`: re-exported for the type checker, whatever __all__ is
    from waitbus.api import aemit as aemit
    from waitbus.api import aemit_many as aemit_many
    from waitbus.api import asubscribe as asubscribe
    from waitbus.api import await_for as await_for
    from waitbus.api import emit as emit
    from waitbus.api import emit_many as emit_many
    from waitbus.api import subscribe as subscribe
    from waitbus.api import wait_for as wait_for
    from waitbus.consumers.since import Since as Since
    from waitbus.errors import NotRunning as NotRunning
    from waitbus.errors import UsageError as UsageError
    from waitbus.errors import WaitbusError as WaitbusError
    from waitbus.errors import WaitTimeout as WaitTimeout
    from waitbus.event import Conclusion as Conclusion
    from waitbus.event import Event as Event
    from waitbus.messaging import arequest as arequest
    from waitbus.messaging import arespond as arespond
    from waitbus.messaging import request as request
    from waitbus.messaging import respond as respond

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

# The public names are the keys above (str, which the linter cannot see through the star):
# adding one there, and to the type checker's imports, is the API decision;
# tests/test_package.py resolves every name and keeps the two lists equal.
__all__ = [*_HOMES]  # noqa: PLE0604


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
