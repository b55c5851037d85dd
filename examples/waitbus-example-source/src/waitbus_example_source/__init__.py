"""An example waitbus source plugin: reports its own start and stop as events."""

from __future__ import annotations

import asyncio
import os
import time

from waitbus.config import Settings
from waitbus.event import Conclusion, Draft
from waitbus.sources.base import Sink, Source


class Hello:
    """Emits `hello/started` when run and `hello/stopped` when the daemon cancels it."""

    name = "hello"

    def __init__(self, settings: Settings) -> None:
        self.state_dir = str(settings.paths.root)
        self.started_ns = 0

    def __repr__(self) -> str:
        return f"<Hello started_ns={self.started_ns}>"

    async def run(self, sink: Sink) -> None:
        self.started_ns = time.time_ns()
        await sink.commit(self._draft("started", None))
        try:
            await asyncio.Event().wait()  # nothing else to do until the daemon stops us
        except asyncio.CancelledError:
            await sink.commit(self._draft("stopped", Conclusion.SUCCESS))
            raise

    def _draft(self, kind: str, conclusion: Conclusion | None) -> Draft:
        return Draft(
            source=self.name, type=kind, subject=self.state_dir, conclusion=conclusion,
            delivery_id=f"hello:{os.getpid()}:{self.started_ns}:{kind}",
            received_at=time.time_ns(), fields={"pid": os.getpid()},
        )


def load(settings: Settings) -> Source:
    """The entry point: the daemon calls this once at start."""
    return Hello(settings)
