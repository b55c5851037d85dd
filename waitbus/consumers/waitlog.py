"""Timing a wait for `waitbus stats`: when it started, how it ended, when its event woke it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from waitbus.consumers import ci
from waitbus.consumers.wait import Outcome, Wait
from waitbus.errors import Pruned, WaitTimeout
from waitbus.match import AllOf, AnyOf
from waitbus.paths import StatePaths
from waitbus.store.store import Store
from waitbus.store.waits import Ending, WaitRecord, open_for_record, save


class WaitLog:
    """One wait being timed; `woke(outcome)` when it ends with events, then `save()`."""

    def __init__(self, paths: StatePaths, wait: Wait, client: str) -> None:
        self.paths = paths
        self.client = client
        self.sources = _sources(wait)
        self.started_at = time.time_ns()
        self.record: WaitRecord | None = None
        self._store: Store | None = None

    def __repr__(self) -> str:
        return f"<WaitLog {self.client} sources={self.sources} record={self.record}>"

    def woke(self, outcome: Outcome) -> None:
        now = time.time_ns()
        ending = Ending.FAILED if outcome.failed else Ending.MATCHED
        event_at = outcome.events[-1].received_at if outcome.events else None
        self.record = WaitRecord(self.started_at, now, self.client, self.sources, ending,
                                 event_at, now)

    def ended(self, ending: Ending) -> None:
        self.record = WaitRecord(self.started_at, time.time_ns(), self.client, self.sources,
                                 ending)

    def prepare(self, _cursor: int = 0) -> None:
        """Open the store for the record now, while waiting (`on_live`): `save` after the
        verdict is then only the insert, and a woken `waitbus wait` exits sooner.

        Opened again at each call (each time the feed goes live, so after a reconnect too): a
        store replaced meanwhile gets the record, not the file moved aside.
        """
        self.close()
        self._store = open_for_record(self.paths)

    def save(self) -> None:
        if self.record is not None:
            save(self.paths, self.record, self._store)
            self.record = None
            self._store = None
        self.close()

    def close(self) -> None:
        """Let go of a store opened ahead that no record went through."""
        if self._store is not None:
            self._store.close()
            self._store = None


@contextmanager
def logged(paths: StatePaths, wait: Wait, client: str) -> Iterator[WaitLog]:
    """Time the wait run inside; a timeout, a prune or an interruption is saved on the way out.

    A wait that ends with events is saved by the caller (`woke`, then `save`), after it has
    given the caller its result.
    """
    entry = WaitLog(paths, wait, client)
    try:
        yield entry
    except WaitTimeout:
        entry.ended(Ending.TIMED_OUT)
        entry.save()
        raise
    except Pruned:
        entry.ended(Ending.PRUNED)
        entry.save()
        raise
    except BaseException as exc:
        # Ctrl-C, a cancelled task or an exit (not an error) interrupts the wait. Told apart
        # by kind, not by naming asyncio's CancelledError: `waitbus wait` runs without asyncio.
        if isinstance(exc, Exception):
            entry.close()
            raise
        entry.ended(Ending.INTERRUPTED)
        entry.save()
        raise


def _sources(wait: Wait) -> tuple[str, ...]:
    """The sources the wait listens to; empty when any source could end it."""
    want = wait.want
    if isinstance(want, ci.Commit):
        return ("github",)
    matches = want.matches_ if isinstance(want, AnyOf | AllOf) else wait.subscription.matches_
    named = {m.source for m in matches}
    return () if None in named else tuple(sorted(s for s in named if s is not None))
