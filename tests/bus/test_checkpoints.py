"""WAL checkpoints: the daemon copies the WAL in a worker thread; emitters leave it alone."""

from __future__ import annotations

import asyncio
from pathlib import Path

from waitbus.bus.checkpoints import Checkpoints
from waitbus.paths import resolve
from waitbus.sources import emitter
from waitbus.store.store import Store


def _fill(store: Store, rows: int) -> int:
    """Commit `rows` events one by one; return the store file's size afterwards."""
    for seq in range(rows):
        store.append(emitter.draft("t", "x", fields={"seq": seq, "pad": "x" * 200}))
    return store.paths.store.stat().st_size


def test_emitters_leave_the_wal_to_the_daemon(state_dir: Path) -> None:
    with Store(resolve(state_dir)) as store:
        before = _fill(store, 1)
        # 400 one-event commits write well over SQLite's default 1,000-page threshold.
        assert _fill(store, 400) == before
        assert (state_dir / "events.db-wal").stat().st_size > 1000 * 4096


def test_the_daemon_checkpoints_after_enough_rows(state_dir: Path) -> None:
    # A writer stays open throughout, as the daemon's own does: the last connection to close
    # checkpoints by itself.
    with Store(resolve(state_dir)) as store:
        before = _fill(store, 400)
        _checkpoint_after_100_rows(state_dir)
        assert store.paths.store.stat().st_size > before


def _checkpoint_after_100_rows(state_dir: Path) -> None:
    async def fan_out() -> Checkpoints:
        checkpoints = Checkpoints(resolve(state_dir), every_rows=100)
        checkpoints.on_fan_out(99)
        assert checkpoints.done == 0
        checkpoints.on_fan_out(1)
        await checkpoints.close()
        return checkpoints

    assert asyncio.run(fan_out()).done == 1
