"""One connected subscriber: what it matches, its cursor, and a bounded queue of frames."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from waitbus import wire
from waitbus.event import Event
from waitbus.match import AnyOf
from waitbus.store.store import Store

# Below this much unsent data a live frame goes straight to the transport; above it, frames
# wait in the bounded queue while the delivery task drains the socket.
DIRECT_WRITE_LIMIT_BYTES = 64 * 1024


class Subscriber:
    """Replays the backlog from the store, then takes live frames from the fan-out.

    `cursor` is the newest event this subscriber has been offered (matched or not). While it
    replays or has lagged, the fan-out skips it; it goes live only once its cursor has reached
    the fan-out's head, so the hand-off has no gap and no duplicate.
    """

    def __init__(
        self,
        *,
        uid: int,
        writer: asyncio.StreamWriter,
        request: wire.Subscribe,
        since: int,
        max_queue_frames: int,
    ) -> None:
        self.uid = uid
        self.match: AnyOf = request.match
        self.wants_payload = request.payload
        self.cursor = since
        self.live = False
        self.lagged_count = 0
        self._writer = writer
        self._max_queue_frames = max_queue_frames
        self._queue: deque[bytes] = deque()
        self._ready = asyncio.Event()

    def __repr__(self) -> str:
        state = "live" if self.live else "replaying"
        return (
            f"<Subscriber uid={self.uid} cursor={self.cursor} {state} "
            f"queued={len(self._queue)} lagged={self.lagged_count}>"
        )

    def offer(self, event: Event, frame: Callable[[Event, bool], bytes]) -> None:
        """Queue `event` if it matches; never blocks. Past the bound, mark it lagged."""
        if not self.live or event.cursor <= self.cursor:
            return
        previous, self.cursor = self.cursor, event.cursor
        if not self.match.matches(event):
            return
        data = frame(event, self.wants_payload)
        if not self._queue and self._socket_has_room():
            # Straight to the socket: no task switch per subscriber on the hot path.
            self._writer.write(data)
            return
        if len(self._queue) >= self._max_queue_frames:
            self.cursor = previous
            self.live = False
            self.lagged_count += 1
            self._ready.set()
            return
        self._queue.append(data)
        self._ready.set()

    def _socket_has_room(self) -> bool:
        transport = self._writer.transport
        return (not transport.is_closing()
                and transport.get_write_buffer_size() < DIRECT_WRITE_LIMIT_BYTES)

    async def serve(self, store_factory: Callable[[], Store], head: Callable[[], int],
                    batch_rows: int) -> None:
        """Deliver until the connection closes: replay, go live, and replay again after a lag."""
        while True:
            await self._replay(store_factory, head, batch_rows)
            while self.live or self._queue:
                await self._ready.wait()
                self._ready.clear()
                await self._flush()
            # Out of live mode with nothing queued: the fan-out found the queue full. Tell the
            # client, then catch up from the store.
            self._writer.write(wire.encode(wire.Lagged(self.cursor)))
            await self._writer.drain()

    async def _flush(self) -> None:
        while self._queue:
            self._writer.write(self._queue.popleft())
        await self._writer.drain()

    async def _replay(self, store_factory: Callable[[], Store], head: Callable[[], int],
                      batch_rows: int) -> None:
        store = await asyncio.to_thread(store_factory)
        try:
            while self.cursor < head():
                rows = await asyncio.to_thread(
                    store.read_after, self.cursor, limit=batch_rows, payload=self.wants_payload
                )
                if not rows:
                    break
                for event in rows:
                    if self.match.matches(event):
                        self._writer.write(wire.encode_event(event))
                self.cursor = rows[-1].cursor
                await self._writer.drain()
        finally:
            store.close()
        # No await between the check above and here: the fan-out cannot run in between.
        self.live = True
        self._writer.write(wire.encode(wire.Live(max(self.cursor, head()))))
        await self._writer.drain()
