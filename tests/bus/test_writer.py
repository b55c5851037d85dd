"""The daemon's writer: commits in order, off the loop, and none lost at stop."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from tests.bus.inprocess import serving
from tests.lock_holder import holding_the_store_lock, release
from waitbus import wire
from waitbus.bus.writer import Writer
from waitbus.errors import StoreError
from waitbus.event import Draft, Event
from waitbus.match import AnyOf, Match
from waitbus.paths import resolve
from waitbus.sources import emitter
from waitbus.store.store import Store

BOUND_S = 30.0


def drafts(count: int, source: str = "w") -> list[Draft]:
    return [emitter.draft(source, "n", delivery_id=f"{source}-{n}", fields={"n": n})
            for n in range(count)]


def test_commits_are_stored_in_the_order_they_were_handed_in(state_dir: Path) -> None:
    paths = resolve(state_dir)
    fanned: list[int] = []

    async def main() -> list[tuple[Event, bool]]:
        writer = Writer(paths, on_commit=lambda: fanned.append(len(fanned)))
        await writer.start()
        try:
            async with asyncio.timeout(BOUND_S):
                return await asyncio.gather(*(writer.commit(d) for d in drafts(100)))
        finally:
            await writer.close()

    results = asyncio.run(main())
    assert [event.cursor for event, _new in results] == list(range(1, 101))
    assert all(new for _event, new in results)
    assert fanned, "on_commit never ran on the loop"


def test_a_redelivery_is_answered_with_the_stored_event_and_fans_nothing_out(
        state_dir: Path) -> None:
    paths = resolve(state_dir)
    fanned: list[int] = []

    async def main() -> list[tuple[Event, bool]]:
        writer = Writer(paths, on_commit=lambda: fanned.append(1))
        await writer.start()
        try:
            draft = drafts(1)[0]
            first = await writer.commit(draft)
            runs = len(fanned)
            again = await writer.commit(draft)
            assert len(fanned) == runs, "a redelivery fanned out"
            return [first, again]
        finally:
            await writer.close()

    (first, new), (again, renew) = asyncio.run(main())
    assert (first.cursor, new, again.cursor, renew) == (1, True, 1, False)


def test_a_commit_whose_caller_is_cancelled_is_still_stored(state_dir: Path) -> None:
    """Handed in is as good as stored: a webhook connection closing does not undo it."""
    paths = resolve(state_dir)

    async def main() -> None:
        writer = Writer(paths, on_commit=lambda: None)
        await writer.start()
        with holding_the_store_lock(paths) as holder:
            caller = asyncio.ensure_future(writer.commit(drafts(1)[0]))
            await asyncio.sleep(0)  # one loop turn: the task hands its draft in
            caller.cancel()
            await asyncio.gather(caller, return_exceptions=True)
            release(holder)
        async with asyncio.timeout(BOUND_S):
            await writer.close()

    asyncio.run(main())
    with Store(paths, read_only=True) as store:
        assert [e.delivery_id for e in store.read_after(0)] == ["w-0"]


def test_commits_queued_behind_a_held_lock_are_stored_before_close_returns(
        state_dir: Path) -> None:
    """Close refuses new drafts at once, and waits for the queued ones to commit."""
    paths = resolve(state_dir)

    async def main() -> tuple[list[tuple[Event, bool]], str]:
        writer = Writer(paths, on_commit=lambda: None)
        await writer.start()
        with holding_the_store_lock(paths) as holder:
            queued = [asyncio.ensure_future(writer.commit(d)) for d in drafts(20)]
            await asyncio.sleep(0)  # one loop turn: each task hands its draft in
            assert writer.pending == 20
            closing = asyncio.ensure_future(writer.close())
            await asyncio.sleep(0)  # one loop turn: close starts
            with pytest.raises(StoreError) as refused:
                await writer.commit(drafts(1, "late")[0])
            assert not any(task.done() for task in queued)
            release(holder)
        async with asyncio.timeout(BOUND_S):
            await closing
        assert all(task.done() for task in queued)
        return [task.result() for task in queued], str(refused.value)

    results, refusal = asyncio.run(main())
    assert [event.cursor for event, new in results if new] == list(range(1, 21))
    assert "the daemon is stopping" in refusal
    with Store(paths, read_only=True) as store:
        assert store.count() == 20


def test_a_lock_held_past_the_drain_bound_is_logged_and_close_returns(
        state_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    paths = resolve(state_dir)

    async def main() -> tuple[Event, bool]:
        writer = Writer(paths, on_commit=lambda: None)
        await writer.start()
        with holding_the_store_lock(paths) as holder:
            held = asyncio.ensure_future(writer.commit(drafts(1)[0]))
            await asyncio.sleep(0)  # one loop turn: the task hands its draft in
            with caplog.at_level(logging.ERROR, "waitbus.bus.writer"):
                await writer.close(timeout_s=0.2)
            assert not held.done()
            release(holder)
        async with asyncio.timeout(BOUND_S):
            return await held  # the thread goes on once the lock is free

    event, new = asyncio.run(main())
    assert (event.cursor, new) == (1, True)
    assert "1 commit(s) still wait for the write lock" in caplog.text
    assert str(paths.store_lock) in caplog.text


def test_a_store_error_reaches_the_caller_with_its_cause(state_dir: Path) -> None:
    paths = resolve(state_dir)
    Store(paths).close()
    with sqlite3.connect(paths.store) as db:  # a real SQLite failure on every insert
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON events"
                   " BEGIN SELECT RAISE(ABORT, 'inserts are refused here'); END")

    async def main() -> str:
        writer = Writer(paths, on_commit=lambda: None)
        await writer.start()
        try:
            with pytest.raises(StoreError) as failed:
                await writer.commit(drafts(1)[0])
            return str(failed.value)
        finally:
            await writer.close()

    message = asyncio.run(main())
    assert "inserts are refused here" in message
    assert str(paths.store) in message


def test_a_blocking_append_from_the_loop_stores_and_fans_out(state_dir: Path) -> None:
    """The version 1 plugin call, made on the event loop itself, neither deadlocks nor loses."""
    paths = resolve(state_dir)

    async def main() -> tuple[Event, wire.Reply]:
        async with serving(paths) as daemon, asyncio.timeout(BOUND_S):
            reader, writer = await asyncio.open_unix_connection(paths.socket)
            writer.write(wire.encode(wire.Subscribe(AnyOf((Match("v1", ()),)), None)))
            await writer.drain()
            decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
            frames: list[wire.Reply] = []
            while not any(isinstance(f, wire.Live) for f in frames):
                frames += [wire.parse_reply(o) for o in decoder.feed(await reader.read(65536))]
            event, _new = daemon.append(emitter.draft("v1", "x"))
            while not any(isinstance(f, wire.EventFrame) for f in frames):
                frames += [wire.parse_reply(o) for o in decoder.feed(await reader.read(65536))]
            writer.close()
        return event, next(f for f in frames if isinstance(f, wire.EventFrame))

    event, frame = asyncio.run(main())
    assert isinstance(frame, wire.EventFrame)
    assert frame.event.cursor == event.cursor == 1
