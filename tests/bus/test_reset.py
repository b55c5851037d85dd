"""A replaced store (moved aside, created again) is said to subscribers, never skipped over."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from tests.bus.inprocess import serving
from tests.store.test_replaced import move_aside
from waitbus import wire
from waitbus.consumers.feed import Feed, Item
from waitbus.event import Event
from waitbus.match import EVERYTHING
from waitbus.paths import StatePaths, resolve
from waitbus.sources import emitter
from waitbus.store.store import Store

BOUND_S = 30.0


async def answers(paths: StatePaths, request: bytes) -> list[wire.Reply]:
    """Send one request and read every frame until the daemon closes the connection."""
    reader, writer = await asyncio.open_unix_connection(paths.socket)
    writer.write(request)
    await writer.drain()
    decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
    frames: list[wire.Reply] = []
    while data := await reader.read(65536):
        frames += [wire.parse_reply(obj) for obj in decoder.feed(data)]
    writer.close()
    return frames


def stored(paths: StatePaths, count: int) -> str:
    for n in range(count):
        emitter.append(paths, emitter.draft("ci", "build", fields={"n": n}))
    with Store(paths, read_only=True) as store:
        return store.generation


def test_a_subscribe_from_another_generation_gets_a_reset(state_dir: Path) -> None:
    paths = resolve(state_dir)
    generation = stored(paths, 3)

    async def main() -> list[wire.Reply]:
        async with serving(paths), asyncio.timeout(BOUND_S):
            request = wire.Subscribe(EVERYTHING, 2, generation="0" * 16)
            return await answers(paths, wire.encode(request))

    assert asyncio.run(main()) == [wire.Reset(generation, 3)]


def test_a_cursor_beyond_every_cursor_of_the_store_gets_a_reset(state_dir: Path) -> None:
    paths = resolve(state_dir)
    generation = stored(paths, 3)

    async def main() -> list[wire.Reply]:
        async with serving(paths), asyncio.timeout(BOUND_S):
            return await answers(paths, wire.encode(wire.Subscribe(EVERYTHING, 50)))

    assert asyncio.run(main()) == [wire.Reset(generation, 3)]


def test_a_client_older_than_resets_gets_an_error_it_understands(state_dir: Path) -> None:
    paths = resolve(state_dir)
    stored(paths, 3)
    # Byte for byte what a protocol-1 client sends: no generation, version 1.
    body = json.dumps({"t": "subscribe", "v": 1, "filter": [{"source": "ci", "clauses": []}],
                       "since": 50, "payload": False}).encode()

    async def main() -> list[wire.Reply]:
        async with serving(paths), asyncio.timeout(BOUND_S):
            return await answers(paths, wire.HEADER.pack(len(body)) + body)

    (frame,) = asyncio.run(main())
    assert isinstance(frame, wire.ErrorFrame)
    assert frame.store
    assert "was replaced" in frame.message
    assert "subscribe again from cursor 0" in frame.message


def test_the_same_generation_subscribes_as_before_and_live_says_it(state_dir: Path) -> None:
    paths = resolve(state_dir)
    generation = stored(paths, 3)

    async def main() -> list[wire.Reply]:
        async with serving(paths) as daemon, asyncio.timeout(BOUND_S):
            assert daemon.status().generation == generation
            reader, writer = await asyncio.open_unix_connection(paths.socket)
            writer.write(wire.encode(wire.Subscribe(EVERYTHING, 1, generation=generation)))
            decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
            frames: list[wire.Reply] = []
            while not any(isinstance(f, wire.Live) for f in frames):
                frames += [wire.parse_reply(o) for o in decoder.feed(await reader.read(65536))]
            writer.close()
            return frames

    frames = asyncio.run(main())
    assert [f.event.cursor for f in frames if isinstance(f, wire.EventFrame)] == [2, 3]
    assert frames[-1] == wire.Live(3, generation)


def test_a_connected_feed_is_reset_and_follows_the_new_store_from_its_start(
        state_dir: Path) -> None:
    paths = resolve(state_dir)
    old = stored(paths, 2)

    async def main() -> tuple[list[Item], Feed]:
        items: list[Item] = []
        async with serving(paths), asyncio.timeout(BOUND_S):
            feed = Feed(paths, EVERYTHING, cursor=0)
            async with contextlib.aclosing(feed.__aiter__()) as following:
                async for item in following:
                    items.append(item)
                    if isinstance(item, wire.Live) and len(items) == 3:
                        move_aside(paths, state_dir.parent / "aside")
                        emitter.append(paths, emitter.draft("ci", "after"))  # rings the daemon
                    if isinstance(item, Event) and item.type == "after":
                        return items, feed
        raise AssertionError

    items, feed = asyncio.run(main())
    with Store(paths, read_only=True) as store:
        new = store.generation
    assert new != old
    assert [type(i).__name__ for i in items] == ["Event", "Event", "Live", "Reset", "Event"]
    assert items[2] == wire.Live(2, old)
    assert items[3] == wire.Reset(new, 1)
    last = items[4]
    assert isinstance(last, Event)
    assert (last.cursor, last.type) == (1, "after")
    assert (feed.cursor, feed.generation) == (1, new)


def test_a_connected_client_older_than_resets_ends_on_an_error_when_the_store_is_replaced(
        state_dir: Path) -> None:
    paths = resolve(state_dir)
    stored(paths, 2)
    body = json.dumps({"t": "subscribe", "v": 1, "filter": [{"source": "ci", "clauses": []}],
                       "since": 0, "payload": False}).encode()

    async def main() -> list[wire.Reply]:
        async with serving(paths), asyncio.timeout(BOUND_S):
            reader, writer = await asyncio.open_unix_connection(paths.socket)
            writer.write(wire.HEADER.pack(len(body)) + body)
            decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
            frames: list[wire.Reply] = []
            while not any(isinstance(f, wire.Live) for f in frames):
                frames += [wire.parse_reply(o) for o in decoder.feed(await reader.read(65536))]
            move_aside(paths, state_dir.parent / "aside")
            emitter.append(paths, emitter.draft("ci", "after"))  # rings the daemon
            while data := await reader.read(65536):  # until the daemon closes
                frames += [wire.parse_reply(o) for o in decoder.feed(data)]
            writer.close()
            return frames

    frames = asyncio.run(main())
    assert [type(f).__name__ for f in frames] == ["EventFrame", "EventFrame", "Live",
                                                  "ErrorFrame"]
    last = frames[-1]
    assert isinstance(last, wire.ErrorFrame)
    assert last.store
    assert "was replaced" in last.message
