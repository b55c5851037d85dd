"""The swarm supervisor's own subscription: every event of the run, awaited with bounds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from waitbus.consumers.feed import Feed
from waitbus.demo.agent import kind, run_match
from waitbus.event import Event
from waitbus.paths import StatePaths
from waitbus.wire import Live


class Ledger:
    """Records the run's agent-lane events in delivery order; `until` waits on a condition."""

    def __init__(self, paths: StatePaths, run: str, *, cursor: int) -> None:
        self.feed = Feed(paths, run_match(run), cursor=cursor)
        self.events: list[Event] = []
        self.live = False
        self._ended = False
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<Ledger events={len(self.events)} cursor={self.feed.cursor}>"

    async def start(self, timeout_s: float) -> None:
        """Subscribe and return once the daemon says the subscription is live."""
        task = self._task = asyncio.create_task(self._pump())
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(lambda: self.live or self._ended)
        if self._ended:
            await task  # raises what ended the feed (NotRunning, Refused)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def of(self, step: str, **fields: object) -> list[Event]:
        """Recorded events of kind `step` whose fields include every given key and value."""
        return [e for e in self.events
                if kind(e) == step and all(e.fields.get(k) == v for k, v in fields.items())]

    async def until(self, ready: Callable[[], bool], timeout_s: float) -> bool:
        """Wait until `ready()` holds (re-checked on each new event); False after `timeout_s`."""
        try:
            async with asyncio.timeout(timeout_s), self._changed:
                await self._changed.wait_for(ready)
        except TimeoutError:
            return False
        return True

    async def _pump(self) -> None:
        try:
            async for item in self.feed:
                async with self._changed:
                    if isinstance(item, Event):
                        self.events.append(item)
                    elif isinstance(item, Live):
                        self.live = True
                    self._changed.notify_all()
        finally:
            self._ended = True
            async with self._changed:  # wakes start() when the feed fails
                self._changed.notify_all()
