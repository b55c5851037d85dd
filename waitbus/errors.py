"""The exceptions a waitbus caller can catch, each saying what happened and what to do."""

from __future__ import annotations

# pathlib for the type checker only: importing the errors costs a short command nothing more.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


class WaitbusError(Exception):
    """Base class for every error a waitbus caller can catch."""


class UsageError(WaitbusError):
    """The caller asked for something malformed: a bad predicate, flag or value."""


class MatchError(UsageError):
    """A predicate could not be parsed."""


class NotRunning(WaitbusError):
    """No daemon answered at the socket within the reconnect budget."""

    def __init__(self, socket_path: Path, budget_s: float) -> None:
        msg = (
            f"no waitbus daemon answered at {socket_path} within {budget_s:g} s; "
            "start one with `waitbus serve` (or install it with `waitbus install-systemd`)"
        )
        super().__init__(msg)
        self.socket_path = socket_path
        self.budget_s = budget_s


class WaitTimeout(WaitbusError):
    """A wait ended without a match; `cursor` is where a later wait can resume."""

    def __init__(self, timeout_s: float, cursor: int) -> None:
        msg = (
            f"no matching event within {timeout_s:g} s; "
            f"resume with --since {cursor} or wait longer with --timeout"
        )
        super().__init__(msg)
        self.timeout_s = timeout_s
        self.cursor = cursor
        # The generation of the store the cursor belongs to, and whether the store was replaced
        # during the wait (set by the wait that raises this).
        self.generation: str | None = None
        self.replaced = False


class Pruned(WaitbusError):
    """Events a wait or subscription asked for were deleted by retention; `cursor` is where the
    kept events start."""

    def __init__(self, since: int, cursor: int) -> None:
        msg = (
            f"the events after cursor {since} up to {cursor} were pruned by retention before "
            f"they could be read; resume with --since {cursor} to accept the gap, or keep more "
            "history (`waitbus serve --retain-age`, `--retain-bytes`)"
        )
        super().__init__(msg)
        self.since = since
        self.cursor = cursor


class StoreError(WaitbusError):
    """The event store could not be read or written."""


class SourceFailed(WaitbusError):
    """A daemon source cannot run (a port taken, a socket missing); the message says what to do."""


class ProtocolError(WaitbusError):
    """A peer sent a frame that breaks the wire protocol."""


class Refused(WaitbusError):
    """The daemon refused a request and said why."""
