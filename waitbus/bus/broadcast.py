"""The fan-out: read new rows after the head and offer each to every live subscriber."""

from __future__ import annotations

import logging
from collections.abc import Callable

from waitbus import wire
from waitbus.bus.subscriber import Subscriber
from waitbus.event import Event
from waitbus.store.store import Store

log = logging.getLogger(__name__)


class Broadcast:
    """Owns the head cursor: every row at or below it has been offered to live subscribers."""

    def __init__(self, store: Store, *, batch_rows: int) -> None:
        self.store = store
        self.head = store.head()
        self.subscribers: set[Subscriber] = set()
        self.batch_rows = batch_rows
        self.fanned_out = 0
        # Told every batch once it has been offered (the daemon's metrics count it).
        self.on_batch: Callable[[list[Event]], None] | None = None

    def __repr__(self) -> str:
        return f"<Broadcast head={self.head} subscribers={len(self.subscribers)}>"

    def fan_out(self) -> int:
        """Offer every row committed after the head; return how many rows were read."""
        total = 0
        while True:
            rows = self.store.read_after(self.head, limit=self.batch_rows)
            if not rows:
                return total
            frame = _Frames(self.store).get
            for subscriber in self.subscribers:
                if subscriber.live:
                    subscriber.offer(rows, frame)
            self.head = rows[-1].cursor
            total += len(rows)
            self.fanned_out += len(rows)
            if self.on_batch is not None:
                self.on_batch(rows)
            if len(rows) < self.batch_rows:
                # That was everything committed when it was read; a later commit rings again.
                return total


class _Frames:
    """One batch's frames: each event encoded once per payload choice, however many take it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._made: tuple[dict[int, bytes], dict[int, bytes]] = ({}, {})

    def get(self, event: Event, payload: bool) -> bytes:
        made = self._made[payload]
        data = made.get(event.cursor)
        if data is None:
            data = made[event.cursor] = wire.encode_event(
                self._with_payload(event) if payload else event)
        return data

    def _with_payload(self, event: Event) -> Event:
        full = self._store.get(event.cursor, payload=True)
        return full if full is not None else event
