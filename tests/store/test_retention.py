"""Retention on a real store: each bound, the floor, dry runs, and the file giving space back."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from waitbus.config import Retention
from waitbus.event import Draft
from waitbus.paths import StatePaths
from waitbus.sources import emitter
from waitbus.store import retention
from waitbus.store.retention import Pruner, prune
from waitbus.store.store import Store

DAY_NS = 86400 * 10**9
OFF = Retention(None, None, None)


def _fill(store: Store, count: int, *, received_at: int | None = None, pad: int = 0) -> None:
    for n in range(count):
        draft = emitter.draft("ci", "build", fields={"n": n, "pad": "x" * pad})
        if received_at is not None:
            draft = Draft(draft.source, draft.type, draft.delivery_id, received_at,
                          fields=draft.fields)
        store.append(draft)


def _run(store: Store, policy: Retention, *, floor: int | None = None,
         dry_run: bool = False) -> retention.Report:
    pruner = Pruner(store, batch_rows=50)
    return asyncio.run(prune(pruner, policy, floor=lambda: store.head() if floor is None
                             else floor, now_ns=time.time_ns(), dry_run=dry_run))


def _cursors(store: Store) -> list[int]:
    return [e.cursor for e in store.read_after(0, limit=100_000)]


def test_age_bound_deletes_exactly_the_events_received_before_it(state_dir: Path) -> None:
    with Store(StatePaths(state_dir)) as store:
        _fill(store, 30, received_at=time.time_ns() - 40 * DAY_NS)
        _fill(store, 20)
        report = _run(store, Retention(max_age_s=30 * 86400, max_bytes=None))
        assert report.rows == 30
        assert report.through == 30
        assert _cursors(store) == list(range(31, 51))
        assert store.pruned().through == 30


def test_row_bound_keeps_the_newest_rows(state_dir: Path) -> None:
    with Store(StatePaths(state_dir)) as store:
        _fill(store, 120)
        report = _run(store, Retention(None, None, max_rows=25))
        assert report.rows == 95
        assert _cursors(store) == list(range(96, 121))


def test_size_bound_brings_the_file_back_under_it(state_dir: Path) -> None:
    with Store(StatePaths(state_dir)) as store:
        _fill(store, 3000, pad=2000)  # about 7 MB
        with store.maintenance() as db:
            # The rows in the file and the WAL short, as a running daemon keeps them.
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pruner = Pruner(store)
        before = pruner.size()
        assert before.incremental
        bound = before.total_bytes // 2
        report = _run(store, Retention(None, max_bytes=bound))
        after = pruner.size()
        assert report.rows > 0
        assert after.total_bytes <= bound
        assert after.db_bytes < before.db_bytes  # pages left the file, not only the table
        kept = _cursors(store)
        assert kept == list(range(report.through + 1, 3001))  # the oldest went, in order


def test_nothing_past_the_floor_is_deleted_and_the_report_says_where_it_stopped(
        state_dir: Path) -> None:
    with Store(StatePaths(state_dir)) as store:
        _fill(store, 100)
        report = _run(store, Retention(None, None, max_rows=10), floor=40)
        assert report.rows == 40
        assert report.held_back_at == 40
        assert _cursors(store) == list(range(41, 101))


def test_dry_run_deletes_nothing_and_says_what_would_go(state_dir: Path) -> None:
    with Store(StatePaths(state_dir)) as store:
        _fill(store, 100)
        report = _run(store, Retention(None, None, max_rows=30), dry_run=True)
        assert (report.rows, report.through, report.dry_run) == (70, 70, True)
        assert len(_cursors(store)) == 100
        assert store.pruned().through == 0


def test_no_bound_reached_deletes_nothing(state_dir: Path) -> None:
    with Store(StatePaths(state_dir)) as store:
        _fill(store, 10)
        assert _run(store, Retention()).rows == 0
        assert _run(store, OFF).rows == 0
        assert len(_cursors(store)) == 10


def test_a_wait_from_now_after_pruning_starts_past_the_pruned_cursors(state_dir: Path) -> None:
    """cursor_before counts pruned cursors as before a later moment, never as asked for."""
    with Store(StatePaths(state_dir)) as store:
        _fill(store, 10)
        _run(store, Retention(None, None, max_rows=0))
        assert _cursors(store) == []
        assert store.cursor_before(time.time_ns()) == 10
        assert store.cursor_before(0) == 0


def test_a_store_from_before_incremental_vacuum_is_rewritten_once(state_dir: Path) -> None:
    paths = StatePaths(state_dir)
    paths.ensure()
    db = sqlite3.connect(paths.store)
    db.execute("PRAGMA journal_mode=WAL")  # auto_vacuum stays NONE, as older stores have it
    db.close()
    with Store(paths) as store:
        _fill(store, 10)
        pruner = Pruner(store)
        assert not pruner.size().incremental
        pruner.vacuum_once()
        assert pruner.size().incremental
        assert len(_cursors(store)) == 10


@pytest.mark.parametrize(("bound", "target"), [
    (256 * 2**20, int(256 * 2**20 * 0.9)),
    (16 * 2**20, 12 * 2**20),
    (2 * 2**20, 2**20),
])
def test_low_water_leaves_room_for_the_wal(bound: int, target: int) -> None:
    assert retention.low_water(bound) == target
