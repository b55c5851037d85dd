"""The model behind `waitbus top`: recent events per source and subject, rate, and daemon state."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from waitbus.consumers.feed import DEFAULT_RECONNECT_S, Feed
from waitbus.consumers.status import status
from waitbus.errors import WaitbusError
from waitbus.event import Event
from waitbus.match import EVERYTHING
from waitbus.paths import StatePaths
from waitbus.store.store import Store
from waitbus.wire import Live, StatusInfo

RATE_WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class Row:
    """One source and subject: how many events it had and the newest one."""

    source: str
    subject: str | None
    count: int
    last: Event


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one redraw shows; rows are newest first, recent events oldest first."""

    rows: tuple[Row, ...]
    recent: tuple[Event, ...]
    total: int
    rate_per_min: float
    daemon: StatusInfo | None
    down: str | None


class TopView:
    """Folds events into per-(source, subject) rows, a recent list and a one-minute rate."""

    def __init__(self, *, recent: int = 50, max_rows: int = 500) -> None:
        self.total = 0
        self.daemon: StatusInfo | None = None
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

    def set_status(self, info: StatusInfo) -> None:
        self.daemon, self.down = info, None

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
    """Feeds a TopView from the bus, one batch of new events at a time."""

    def __init__(self, paths: StatePaths, view: TopView, *, backlog: int = 50,
                 reconnect_s: float = DEFAULT_RECONNECT_S) -> None:
        self.paths = paths
        self.view = view
        self.backlog = backlog
        self.reconnect_s = reconnect_s

    def __repr__(self) -> str:
        return f"<Watch {self.paths.root} {self.view!r}>"

    async def batches(self) -> AsyncGenerator[list[Event], None]:
        """Yield each batch of new events, the view and the daemon's status already updated;
        and [] each time the feed goes live (at start, and after a daemon restart)."""
        feed = Feed(self.paths, EVERYTHING, cursor=self._load_backlog(),
                    reconnect_s=self.reconnect_s)
        async with contextlib.aclosing(feed.batches()) as batches:
            async for batch in batches:
                events = [item for item in batch if isinstance(item, Event)]
                for event in events:
                    self.view.add(event)
                if events or any(isinstance(item, Live) for item in batch):
                    await self._refresh_status()
                    yield events

    def _load_backlog(self) -> int:
        if not self.paths.store.exists():
            return 0
        with Store(self.paths, read_only=True) as store:
            for event in store.latest(self.backlog):
                self.view.add(event)
            return store.head()

    async def _refresh_status(self) -> None:
        try:
            info = await status(self.paths, reconnect_s=0.0)
        except (WaitbusError, OSError) as exc:
            self.view.set_down(str(exc))
        else:
            self.view.set_status(info)
