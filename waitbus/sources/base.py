"""What a source is: something the daemon starts, that turns outside input into drafts."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from waitbus.event import Draft, Event


class Sink(Protocol):
    """Where a running source puts its drafts; the daemon commits and fans them out."""

    def append(self, draft: Draft) -> tuple[Event, bool]:
        """Commit `draft`; return the stored event and whether it was new."""
        ...


@runtime_checkable
class Source(Protocol):
    """A producer with a lifecycle: the daemon runs it as a task and cancels it to stop it."""

    name: str

    async def run(self, sink: Sink) -> None:
        """Produce drafts into `sink` until cancelled; raise to report a failure."""
        ...
