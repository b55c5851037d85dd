"""The Python API's emitting side: emit_many commits a burst at once, or refuses it whole."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import waitbus
from waitbus.paths import resolve
from waitbus.store.store import Store


def test_emit_many_returns_stored_events_in_order(state_dir: Path) -> None:
    stored = waitbus.emit_many(
        [{"source": "ci", "type": "step", "fields": {"n": n}} for n in range(3)]
        + [{"source": "ci", "type": "done", "conclusion": "success", "delivery_id": "end"}],
        state_dir=state_dir)
    assert [e.type for e in stored] == ["step", "step", "step", "done"]
    assert [e.cursor for e in stored] == sorted({e.cursor for e in stored})
    assert stored[-1].conclusion is waitbus.Conclusion.SUCCESS
    again = waitbus.emit_many([{"source": "ci", "type": "done", "delivery_id": "end"}],
                              state_dir=state_dir)
    assert again == [stored[-1]]


def test_emit_many_with_one_bad_item_stores_nothing(state_dir: Path) -> None:
    with pytest.raises(waitbus.UsageError, match="event 1: unknown key 'sorce'"):
        waitbus.emit_many([{"source": "ci", "type": "a"}, {"sorce": "ci", "type": "b"}],
                          state_dir=state_dir)
    waitbus.emit("ci", "other", state_dir=state_dir)
    with Store(resolve(state_dir), read_only=True) as store:
        assert [e.type for e in store.read_after(0)] == ["other"]


def test_aemit_many_is_the_asyncio_twin(state_dir: Path) -> None:
    stored = asyncio.run(waitbus.aemit_many([{"source": "ci", "type": "a"}],
                                            state_dir=state_dir))
    assert [e.type for e in stored] == ["a"]
