"""One connected subscriber: what it matches, its cursor, and a bounded queue of frames."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence

from waitbus import wire
from waitbus.event import Event
from waitbus.match import AnyOf
from waitbus.store.store import Store

# Below this much unsent data a live frame goes straight to the transport; above it, frames
# wait in the bounded queue while the delivery task drains the socket.
DIRECT_WRITE_LIMIT_BYTES = 64 * 1024
# Queued frames go to the transport in writes of about this much, each drained before the next,
# so the transport holds at most this plus one frame however much is queued.
FLUSH_BYTES = 256 * 1024


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
        max_queue_bytes: int = 4 * 1024 * 1024,
        replay_batch_bytes: int = 1024 * 1024,
        generation: str | None = None,
    ) -> None:
        self.uid = uid
        self.match: AnyOf = request.match
        self.wants_payload = request.payload
        self.cursor = since
        self.live = False
        self.lagged_count = 0
        self.generation = generation  # the store's, said with `live`
        self._writer = writer
        self._transport = writer.transport  # a property behind the writer: read it once
        self._max_queue_frames = max_queue_frames
        self._max_queue_bytes = max_queue_bytes
        self._replay_batch_bytes = replay_batch_bytes
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._ready = asyncio.Event()

    def __repr__(self) -> str:
        state = "live" if self.live else "replaying"
        return (
            f"<Subscriber uid={self.uid} cursor={self.cursor} {state} "
            f"queued={len(self._queue)} ({self._queued_bytes} bytes) lagged={self.lagged_count}>"
        )

    def offer(self, events: Sequence[Event], frame: Callable[[Event, bool], bytes]) -> None:
        """Take what matches among `events` (one fan-out batch, in cursor order); never blocks.

        While the socket has room the frames go to it in one write: a wake that read many rows
        costs each subscriber one system call, and no task switch. Past that they wait in the
        bounded queue (in frames and in bytes); past either bound, the subscriber is marked
        lagged and takes nothing more.
        """
        if not self.live:
            return
        direct: list[bytes] = []
        room = DIRECT_WRITE_LIMIT_BYTES - self._buffered() if not self._queue else 0
        for event in events:
            if event.cursor <= self.cursor:
                continue
            previous, self.cursor = self.cursor, event.cursor
            if not self.match.matches(event):
                continue
            data = frame(event, self.wants_payload)
            if room > 0:
                direct.append(data)
                room -= len(data)
            elif len(self._queue) < self._max_queue_frames and (
                    not self._queue
                    or self._queued_bytes + len(data) <= self._max_queue_bytes):
                self._queue.append(data)
                self._queued_bytes += len(data)
                self._ready.set()
            else:
                self.cursor = previous
                self.live = False
                self.lagged_count += 1
                self._ready.set()
                break
        if direct:
            # Before anything queued above reaches the socket: the delivery task runs later.
            # The transport itself: StreamWriter.write only forwards to it.
            self._transport.write(direct[0] if len(direct) == 1 else b"".join(direct))

    def _buffered(self) -> int:
        """Bytes the transport still holds; a closing one has no room at all."""
        transport = self._transport
        if transport.is_closing():
            return DIRECT_WRITE_LIMIT_BYTES
        return transport.get_write_buffer_size()

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
            chunk: list[bytes] = []
            size = 0
            while self._queue and size < FLUSH_BYTES:
                data = self._queue.popleft()
                chunk.append(data)
                size += len(data)
            self._queued_bytes -= size
            self._writer.write(chunk[0] if len(chunk) == 1 else b"".join(chunk))
            await self._writer.drain()

    async def _replay(self, store_factory: Callable[[], Store], head: Callable[[], int],
                      batch_rows: int) -> None:
        store = await asyncio.to_thread(store_factory)
        try:
            while self.cursor < head():
                rows = await asyncio.to_thread(
                    store.read_after, self.cursor, limit=batch_rows, payload=self.wants_payload,
                    max_bytes=self._replay_batch_bytes)
                if not rows:
                    break
                frames = [wire.encode_event(e) for e in rows if self.match.matches(e)]
                if frames:
                    self._writer.write(b"".join(frames))
                self.cursor = rows[-1].cursor
                await self._writer.drain()
        finally:
            store.close()
        # No await between the check above and here: the fan-out cannot run in between.
        self.live = True
        self._writer.write(wire.encode(wire.Live(max(self.cursor, head()), self.generation)))
        await self._writer.drain()
