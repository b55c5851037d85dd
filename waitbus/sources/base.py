"""What a source is: something the daemon starts, that turns outside input into drafts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from waitbus.event import Draft, Event


class Sink(Protocol):
    """Where a running source puts its drafts; the daemon commits and fans them out.

    A source awaits `commit`: the commit waits for the store's write lock in the daemon's
    writer thread while the loop goes on. `append` is the blocking form, kept for version 1
    plugins: it holds up its caller, the whole event loop when called from a coroutine, until
    the row is stored; call it from a thread (`asyncio.to_thread`) or use `commit`. Either way
    drafts are committed in the order they are handed in.
    """

    async def commit(self, draft: Draft) -> tuple[Event, bool]:
        """Commit `draft`; return the stored event and whether it was new. When it returns the
        row is durable and has been offered to subscribers."""
        ...

    def append(self, draft: Draft) -> tuple[Event, bool]:
        """Commit `draft`, blocking the caller until it is stored; as `commit` otherwise."""
        ...

    def report(self, source: str, problem: str | None) -> None:
        """Say that `source` is degraded: running, but not doing all of its work now
        (`problem` says why and what to do), or, with None, that it is whole again. Shown by
        serve and status."""
        ...


@runtime_checkable
class Source(Protocol):
    """A producer with a lifecycle: the daemon runs it as a task and cancels it to stop it."""

    name: str

    async def run(self, sink: Sink) -> None:
        """Produce drafts into `sink` until cancelled; raise to report a failure."""
        ...


@runtime_checkable
class PageHost(Protocol):
    """A source that also answers HTTP GETs for read-only pages (the webhook listener).

    `rejects` counts the requests it refused, by reason, for the daemon's metrics.
    """

    rejects: Counter[str]

    def add_page(self, path: str, content_type: str, render: Callable[[], bytes]) -> None:
        """Serve `render()` with `content_type` for GET `path`."""
        ...
