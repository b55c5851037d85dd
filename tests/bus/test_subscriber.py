"""One subscriber against an in-process daemon: the replay to live hand-off, and lagging."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

from tests.bus.inprocess import serving
from waitbus import wire
from waitbus.consumers.feed import Feed, Item
from waitbus.event import Event
from waitbus.match import EVERYTHING
from waitbus.paths import resolve
from waitbus.sources import emitter

BOUND_S = 30.0


def test_replay_hands_over_to_live_with_no_gap_and_no_duplicate(state_dir: Path) -> None:
    """Another process keeps committing while the subscriber replays in small batches."""
    paths = resolve(state_dir)
    for n in range(200):
        emitter.append(paths, emitter.draft("early", "x", fields={"n": n}))
    total = 600
    started = threading.Event()

    def writer() -> None:  # a producer of its own, ringing the doorbell like any process
        started.set()
        for n in range(200, total):
            emitter.append(paths, emitter.draft("late", "x", fields={"n": n}))

    async def main() -> list[Item]:
        items: list[Item] = []
        async with serving(paths, batch_rows=7), asyncio.timeout(BOUND_S):
            feed = Feed(paths, EVERYTHING, cursor=0)
            thread = threading.Thread(target=writer)
            async with contextlib.aclosing(feed.__aiter__()) as stream:
                async for item in stream:
                    if not started.is_set():
                        thread.start()  # once the replay has begun
                        started.wait(BOUND_S)
                    items.append(item)
                    # Done once every event is in and the subscription has gone live: if the
                    # writer outran the replay, live comes only after its last event.
                    taken = [i.cursor for i in items if isinstance(i, Event)][-1:]
                    if taken == [total] and any(isinstance(i, wire.Live) for i in items):
                        break
            thread.join(BOUND_S)
        return items

    items = asyncio.run(main())
    cursors = [item.cursor for item in items if isinstance(item, Event)]
    assert cursors == list(range(1, total + 1))
    lives = [i for i, item in enumerate(items) if isinstance(item, wire.Live)]
    assert lives, "the subscription never said it was live"
    # Everything before the first Live was replayed from the store; it reached at least the
    # events that existed when the subscription started.
    assert lives[0] >= 200


def test_a_reader_that_falls_behind_is_told_and_then_gets_every_event(state_dir: Path) -> None:
    """Its queue overflows while it reads nothing: lagged, a replay, then live again."""
    paths = resolve(state_dir)
    count, pad = 400, "x" * 4000  # about 1.6 MB: past the socket and transport buffers

    async def main() -> list[wire.Reply]:
        frames: list[wire.Reply] = []
        async with serving(paths, max_queue_frames=8) as daemon, asyncio.timeout(BOUND_S):
            reader, writer = await asyncio.open_unix_connection(paths.socket)
            writer.write(wire.encode(wire.Subscribe(EVERYTHING, 0)))
            await writer.drain()
            decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
            while not any(isinstance(f, wire.Live) for f in frames):
                frames += [wire.parse_reply(o) for o in decoder.feed(await reader.read(65536))]
            # The daemon's blocking sink, called on the loop: every commit is stored before the
            # loop runs again, then all of them fan out at once while this client reads nothing.
            for n in range(count):
                daemon.append(emitter.draft("burst", "x", fields={"n": n, "pad": pad}))
            while not (isinstance(frames[-1], wire.Live) and frames[-1].cursor >= count
                       and any(isinstance(f, wire.Lagged) for f in frames)):
                frames += [wire.parse_reply(o) for o in decoder.feed(await reader.read(65536))]
            writer.close()
        return frames

    frames = asyncio.run(main())
    lagged = [f for f in frames if isinstance(f, wire.Lagged)]
    assert lagged, "the subscriber was never told it lagged"
    cursors = [f.event.cursor for f in frames if isinstance(f, wire.EventFrame)]
    assert cursors == list(range(1, count + 1))
