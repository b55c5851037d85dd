"""The server's one feed from the daemon: it marks latest views changed and wakes their readers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from waitbus.consumers.feed import Feed
from waitbus.errors import NotRunning
from waitbus.event import Event
from waitbus.match import EVERYTHING
from waitbus.mcp_server import uris
from waitbus.paths import StatePaths
from waitbus.wire import Live

log = logging.getLogger(__name__)

Notify = Callable[[str], Awaitable[None]]


class Watcher:
    """Follows every event after `cursor` and hands each changed latest-view URI to `notify`.

    Reading from the daemon and writing to the client are separate tasks joined by a set of
    changed URIs, so a client that reads slowly gets coalesced notifications and never holds
    back the feed; and the daemon bounds its own queue for this subscriber in any case.
    """

    def __init__(self, paths: StatePaths, notify: Notify, *, cursor: int,
                 reconnect_s: float) -> None:
        self.paths = paths
        self.cursor = cursor
        self.reconnect_s = reconnect_s
        self.live = False
        self._notify = notify
        self._changed: dict[str, None] = {}
        self._wake = asyncio.Event()

    def __repr__(self) -> str:
        state = "live" if self.live else "connecting"
        return f"<Watcher cursor={self.cursor} {state} changed={len(self._changed)}>"

    async def run(self) -> None:
        """Follow the daemon and deliver notifications until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._deliver())
            await self._follow()

    async def _follow(self) -> None:
        while True:
            feed = Feed(self.paths, EVERYTHING, cursor=self.cursor, reconnect_s=self.reconnect_s)
            try:
                async for item in feed:
                    self.cursor = feed.cursor
                    if isinstance(item, Event):
                        self._mark(item)
                    else:
                        self.live = isinstance(item, Live)
                        log.info("watcher %s at cursor %d", "live" if self.live else "lagged",
                                 self.cursor)
            except NotRunning as exc:
                # Feed backs off while no daemon exists; keep following from the same cursor.
                self.live = False
                log.warning("%s; still retrying", exc)

    def _mark(self, event: Event) -> None:
        self._changed[uris.latest(event.source)] = None
        if event.subject is not None:
            self._changed[uris.latest(event.source, event.subject)] = None
        self._wake.set()

    async def _deliver(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            changed, self._changed = list(self._changed), {}
            for uri in changed:
                await self._notify(uri)
