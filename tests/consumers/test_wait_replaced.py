"""A wait whose cursor belongs to a replaced store counts the new store from its start."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from tests.conftest import DaemonProcess
from tests.store.test_replaced import move_aside
from waitbus.consumers import wait as waiting
from waitbus.consumers.since import Since
from waitbus.errors import WaitTimeout
from waitbus.paths import resolve
from waitbus.sources import emitter
from waitbus.store.store import Store


def test_a_cursor_of_another_generation_counts_the_store_from_its_start(
        state_dir: Path) -> None:
    paths = resolve(state_dir)
    for kind in ("build", "test", "test"):
        emitter.append(paths, emitter.draft("ci", kind))
    with Store(paths, read_only=True) as store:
        generation = store.generation
    # Cursor 2 of another store: this store's event 1 came after it.
    wait = waiting.build('type="build"', source="ci", timeout_s=0,
                         since=Since(cursor=2, generation="0" * 16))
    outcome = waiting.run_blocking(wait, paths)
    assert [e.cursor for e in outcome.events] == [1]
    assert (outcome.generation, outcome.replaced) == (generation, True)


def test_a_cursor_beyond_the_store_restarts_the_wait_and_says_so(
        state_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    paths = resolve(state_dir)
    emitter.append(paths, emitter.draft("ci", "build"))
    wait = waiting.build('type="build"', source="ci", timeout_s=0, since=50)
    with caplog.at_level(logging.WARNING):
        outcome = waiting.run_blocking(wait, paths)
    assert [e.cursor for e in outcome.events] == [1]
    assert outcome.replaced
    assert "cursor 50 is beyond the newest cursor of this store, 1" in caplog.text


def test_the_same_generation_keeps_its_cursor(state_dir: Path) -> None:
    paths = resolve(state_dir)
    for kind in ("build", "test"):
        emitter.append(paths, emitter.draft("ci", kind))
    with Store(paths, read_only=True) as store:
        generation = store.generation
    wait = waiting.build('type="build"', source="ci", timeout_s=0,
                         since=Since(cursor=1, generation=generation))
    with pytest.raises(WaitTimeout) as raised:
        waiting.run_blocking(wait, paths)
    assert (raised.value.cursor, raised.value.generation) == (2, generation)
    assert not raised.value.replaced


def test_a_wait_whose_store_is_replaced_meanwhile_matches_in_the_new_one(
        daemon: DaemonProcess) -> None:
    paths = resolve(daemon.state_dir)
    emitter.append(paths, emitter.draft("ci", "build"))
    wait = waiting.build('type="deploy"', source="ci", timeout_s=30)
    moved: list[int] = []

    async def on_live(cursor: int) -> None:
        if not moved:
            moved.append(cursor)
            move_aside(paths, daemon.state_dir.parent / "aside")
            emitter.append(paths, emitter.draft("ci", "deploy"))

    outcome = asyncio.run(waiting.run(wait, paths, on_live=on_live))
    assert moved == [1]
    assert [(e.cursor, e.type) for e in outcome.events] == [(1, "deploy")]
    assert outcome.replaced
