"""The blocking API refuses to run inside an event loop and names the asyncio twin."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from waitbus import UsageError, subscribe, wait_for


def test_wait_for_inside_a_loop_points_at_await_for(state_dir: Path) -> None:
    async def inside() -> None:
        with pytest.raises(UsageError, match="await await_for"):
            wait_for(source="x", timeout_s=0.1, state_dir=state_dir)

    asyncio.run(inside())


def test_subscribe_inside_a_loop_points_at_asubscribe(state_dir: Path) -> None:
    async def inside() -> None:
        with pytest.raises(UsageError, match="async for event in asubscribe"):
            next(subscribe(source="x", state_dir=state_dir))

    asyncio.run(inside())


def test_aemit_keeps_the_loop_running_while_another_writer_holds_the_store(
        state_dir: Path) -> None:
    import fcntl
    import threading

    from waitbus import aemit, emit
    from waitbus.paths import resolve

    paths = resolve(state_dir)
    emit("t", "first", state_dir=state_dir)  # the store and its lock file exist
    held = os.open(paths.store_lock, os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)  # another writer in the middle of a commit
    release = threading.Event()
    released_by_the_loop: list[bool] = []

    def holder() -> None:
        # Bounded: a blocked loop can never set `release`, so give up after 10 s.
        released_by_the_loop.append(release.wait(10))
        fcntl.flock(held, fcntl.LOCK_UN)

    thread = threading.Thread(target=holder)
    thread.start()

    async def main() -> int:
        task = asyncio.create_task(aemit("t", "second", state_dir=state_dir))
        await asyncio.sleep(0)  # the commit has started and now waits for the lock
        release.set()  # only reached while the commit waits: the loop is still running
        async with asyncio.timeout(20):
            event = await task
        return event.cursor

    try:
        cursor = asyncio.run(main())
    finally:
        release.set()
        thread.join(20)
        os.close(held)
    assert released_by_the_loop == [True]
    assert cursor == 2
