"""The model behind `waitbus top`: recent events per source and subject, rate, and daemon state."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from waitbus.consumers.feed import DEFAULT_RECONNECT_S, Feed, status
from waitbus.errors import WaitbusError
from waitbus.event import Event, JSONObject
from waitbus.match import EVERYTHING
from waitbus.paths import StatePaths
from waitbus.store.store import Store

RATE_WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class Row:
    """One source and subject: how many events it had and the newest one."""

    source: str
    subject: str | None
    count: int
    last: Event


@dataclass(frozen=True, slots=True)
class DaemonInfo:
    """What the daemon's status said at the last redraw."""

    pid: int | None
    head: int | None
    subscribers: int
    max_lag: int
    lagged: int
    sources: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_status(cls, info: JSONObject) -> DaemonInfo:
        raw = info.get("subscribers")
        subs = [s for s in raw if isinstance(s, dict)] if isinstance(raw, list) else []
        lags = [s.get("lag") for s in subs]
        lagged = [s.get("lagged") for s in subs]
        sources = info.get("sources")
        pid, head = info.get("pid"), info.get("head")
        return cls(
            pid=pid if isinstance(pid, int) else None,
            head=head if isinstance(head, int) else None,
            subscribers=len(subs),
            max_lag=max((n for n in lags if isinstance(n, int)), default=0),
            lagged=sum(n for n in lagged if isinstance(n, int)),
            sources={k: str(v) for k, v in sources.items()} if isinstance(sources, dict) else {},
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one redraw shows; rows are newest first, recent events oldest first."""

    rows: tuple[Row, ...]
    recent: tuple[Event, ...]
    total: int
    rate_per_min: float
    daemon: DaemonInfo | None
    down: str | None


class TopView:
    """Folds events into per-(source, subject) rows, a recent list and a one-minute rate."""

    def __init__(self, *, recent: int = 50, max_rows: int = 500) -> None:
        self.total = 0
        self.daemon: DaemonInfo | None = None
        self.down: str | None = None
        self._rows: dict[tuple[str, str | None], Row] = {}
        self._recent: deque[Event] = deque(maxlen=recent)
        self._stamps: deque[int] = deque()
        self._max_rows = max_rows

    def __repr__(self) -> str:
        return f"<TopView total={self.total} rows={len(self._rows)}>"

    def add(self, event: Event) -> None:
        key = (event.source, event.subject)
        old = self._rows.get(key)
        self._rows[key] = Row(event.source, event.subject, (old.count if old else 0) + 1, event)
        if len(self._rows) > self._max_rows:
            oldest = min(self._rows.values(), key=lambda r: r.last.cursor)
            del self._rows[(oldest.source, oldest.subject)]
        self._recent.append(event)
        self._stamps.append(event.received_at)
        self.total += 1

    def set_status(self, info: JSONObject) -> None:
        self.daemon, self.down = DaemonInfo.from_status(info), None

    def set_down(self, reason: str) -> None:
        self.daemon, self.down = None, reason

    def snapshot(self, now_ns: int | None = None) -> Snapshot:
        """The view as of `now_ns`; the rate counts events received in the last minute."""
        now = time.time_ns() if now_ns is None else now_ns
        floor = now - int(RATE_WINDOW_S * 1e9)
        while self._stamps and self._stamps[0] < floor:
            self._stamps.popleft()
        rows = sorted(self._rows.values(), key=lambda r: -r.last.cursor)
        rate = sum(1 for stamp in self._stamps if stamp >= floor) * 60.0 / RATE_WINDOW_S
        return Snapshot(tuple(rows), tuple(self._recent), self.total, rate, self.daemon,
                        self.down)


class Watch:
    """Feeds a TopView from the bus; yields once live, then once per batch of new events."""

    def __init__(self, paths: StatePaths, view: TopView, *, backlog: int = 50,
                 reconnect_s: float = DEFAULT_RECONNECT_S) -> None:
        self.paths = paths
        self.view = view
        self.backlog = backlog
        self.reconnect_s = reconnect_s
        self._inbox: asyncio.Queue[Event | None] = asyncio.Queue()

    def poke(self) -> None:
        """Ask for one more (empty) batch, e.g. after a terminal resize or a key press."""
        self._inbox.put_nowait(None)

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Yield [] once subscribed, then each batch of new events, the view already updated."""
        # Going live again after a daemon restart is worth a redraw: the status has changed.
        feed = Feed(self.paths, EVERYTHING, cursor=self._load_backlog(),
                    reconnect_s=self.reconnect_s, on_live=lambda _cursor: self.poke())
        pump = asyncio.create_task(self._pump(feed))
        try:
            await self._until_live(feed, pump)
            await self._refresh_status()
            yield []
            while True:
                batch = await self._next_batch(pump)
                for event in batch:
                    self.view.add(event)
                await self._refresh_status()
                yield batch
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    def _load_backlog(self) -> int:
        if not self.paths.store.exists():
            return 0
        with Store(self.paths, create=False) as store:
            for event in store.latest(self.backlog):
                self.view.add(event)
            return store.head()

    async def _pump(self, feed: Feed) -> None:
        async for event in feed:
            self._inbox.put_nowait(event)

    async def _until_live(self, feed: Feed, pump: asyncio.Task[None]) -> None:
        live = asyncio.create_task(feed.live.wait())
        await asyncio.wait({live, pump}, return_when=asyncio.FIRST_COMPLETED)
        if pump.done():
            live.cancel()
            pump.result()  # raises NotRunning or Refused

    async def _next_batch(self, pump: asyncio.Task[None]) -> list[Event]:
        got = asyncio.create_task(self._inbox.get())
        await asyncio.wait({got, pump}, return_when=asyncio.FIRST_COMPLETED)
        if not got.done():
            got.cancel()
            pump.result()
        items = [got.result()]
        while not self._inbox.empty():
            items.append(self._inbox.get_nowait())
        return [item for item in items if item is not None]

    async def _refresh_status(self) -> None:
        try:
            reply = await status(self.paths, reconnect_s=0.0)
        except (WaitbusError, OSError) as exc:
            self.view.set_down(str(exc))
        else:
            self.view.set_status(reply.info)
