"""The feed's blocking driver: the same items as the asyncio one, its deadline, no daemon."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.conftest import DaemonProcess
from waitbus.consumers.feed import Feed
from waitbus.errors import NotRunning
from waitbus.event import Event
from waitbus.match import EVERYTHING
from waitbus.paths import resolve
from waitbus.sources import emitter
from waitbus.wire import Live


def _emit(state_dir: Path, count: int) -> None:
    paths = resolve(state_dir)
    for n in range(count):
        emitter.append(paths, emitter.draft("ci", "step", fields={"n": n}))


def _blocking(state_dir: Path, deadline: float) -> list[Event | Live]:
    items: list[Event | Live] = []
    feed = Feed(resolve(state_dir), EVERYTHING, cursor=0)
    batches = feed.blocking_batches(deadline)
    try:
        for batch in batches:
            items += [i for i in batch if isinstance(i, Event | Live)]
            if any(isinstance(i, Live) for i in batch):
                return items
    finally:
        batches.close()
    return items


async def _asyncio(state_dir: Path) -> list[Event | Live]:
    items: list[Event | Live] = []
    async for item in Feed(resolve(state_dir), EVERYTHING, cursor=0):
        if isinstance(item, Event | Live):
            items.append(item)
        if isinstance(item, Live):
            return items
    return items


def test_blocking_and_asyncio_drivers_yield_the_same_items(daemon: DaemonProcess) -> None:
    _emit(daemon.state_dir, 300)
    blocking = _blocking(daemon.state_dir, time.monotonic() + 30)
    assert [i.cursor for i in blocking if isinstance(i, Event)] == list(range(1, 301))
    assert blocking == asyncio.run(asyncio.wait_for(_asyncio(daemon.state_dir), 30))


def test_blocking_feed_raises_timeout_error_at_its_deadline(daemon: DaemonProcess) -> None:
    feed = Feed(resolve(daemon.state_dir), EVERYTHING, cursor=0)
    started = time.monotonic()
    events = feed.blocking_events(time.monotonic() + 0.3)
    with pytest.raises(TimeoutError):
        next(events)
    assert feed.connects == 1
    assert 0.25 <= time.monotonic() - started < 10


def test_blocking_feed_without_a_daemon_says_not_running(state_dir: Path) -> None:
    feed = Feed(resolve(state_dir), EVERYTHING, cursor=0, reconnect_s=0.2)
    with pytest.raises(NotRunning, match="waitbus serve"):
        next(feed.blocking_events())
    assert feed.connects == 0
