"""Retention: delete the oldest events in small batches, then give the freed pages back."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import TypeVar

from waitbus.config import Retention
from waitbus.event import JSONObject
from waitbus.record import record
from waitbus.store.store import Pruned, Store, record_pruned, rollback

log = logging.getLogger(__name__)
# Each step holds the store's write lock for about this long, so an emit queues behind it for
# no more; the rows per delete and the pages per vacuum step grow or shrink to fit it.
STEP_LOCK_S = 0.01
# Where the step sizes start, and their bounds (the floors keep a pass moving on a busy host).
BATCH_ROWS = 200
VACUUM_PAGES = 32
_ROWS_RANGE = (200, 20_000)
_PAGES_RANGE = (32, 8192)
# A size bound prunes down to this share of itself, so one pass is not followed by another
# on the very next event.
LOW_WATER = 0.9
# The WAL is cut back to this after a checkpoint (schema.PRAGMAS journal_size_limit).
WAL_LIMIT_BYTES = 4 * 1024 * 1024
_ANY = 1 << 62
_R = TypeVar("_R")


@record
class Size:
    """What the store takes on disk, and how much of the file holds live pages."""

    db_bytes: int
    wal_bytes: int
    used_bytes: int
    incremental: bool  # auto_vacuum=INCREMENTAL: free pages can leave the file

    @property
    def total_bytes(self) -> int:
        return self.db_bytes + self.wal_bytes

    def to_json(self) -> JSONObject:
        return {"db_bytes": self.db_bytes, "wal_bytes": self.wal_bytes,
                "used_bytes": self.used_bytes, "total_bytes": self.total_bytes,
                "incremental_vacuum": self.incremental}


@record
class Plan:
    """What a policy asks of the store now: a cursor the age and row bounds reach, and bytes."""

    through: int  # every cursor at or below this is past the age or row bound (0: none)
    over_bytes: int  # used bytes above the size bound's low-water mark (0: within it)
    size: Size
    pruned: int  # every cursor at or below this is already gone

    @property
    def needed(self) -> bool:
        return self.through > 0 or self.over_bytes > 0


@record
class Report:
    """One retention pass: what it deleted (or would, dry) and the store before and after."""

    rows: int
    through: int  # every cursor at or below this is pruned after the pass
    before: Size
    after: Size
    held_back_at: int | None  # the floor (an unsent subscriber, the fan-out head) it stopped at
    dry_run: bool = False
    estimated: bool = False  # a dry run's row count for a size bound is an estimate
    started_ns: int = 0  # time.monotonic_ns() at the start and end of the pass
    finished_ns: int = 0

    def to_json(self) -> JSONObject:
        return {"rows": self.rows, "through": self.through, "before": self.before.to_json(),
                "after": self.after.to_json(), "held_back_at": self.held_back_at,
                "dry_run": self.dry_run, "estimated": self.estimated,
                "seconds": (self.finished_ns - self.started_ns) / 1e9}


class Pruner:
    """The store side of retention; each method is one short step for a worker thread."""

    def __init__(self, store: Store, *, batch_rows: int = BATCH_ROWS,
                 vacuum_pages: int = VACUUM_PAGES) -> None:
        self.store = store
        self.batch_rows = batch_rows
        self.vacuum_pages = vacuum_pages

    def __repr__(self) -> str:
        return f"<Pruner {self.store.paths.store} batch={self.batch_rows}>"

    def size(self) -> Size:
        with self.store.reading() as db:
            (page_size,) = db.execute("PRAGMA page_size").fetchone()
            (pages,) = db.execute("PRAGMA page_count").fetchone()
            (free,) = db.execute("PRAGMA freelist_count").fetchone()
            (mode,) = db.execute("PRAGMA auto_vacuum").fetchone()
        wal = self.store.paths.store.with_name(self.store.paths.store.name + "-wal")
        return Size(_file_bytes(self.store.paths.store), _file_bytes(wal),
                    (pages - free) * page_size, mode == 2)

    def plan(self, retention: Retention, now_ns: int) -> Plan:
        # A pass plans and deletes in the store now at the path, never in one moved aside.
        self.store.reopen_if_replaced()
        through = 0
        with self.store.reading() as db:
            if retention.max_age_s is not None:
                cutoff = now_ns - int(retention.max_age_s * 1e9)
                row = db.execute("SELECT cursor FROM events WHERE received_at < ?"
                                 " ORDER BY received_at DESC LIMIT 1", (cutoff,)).fetchone()
                through = max(through, row[0] if row else 0)
            if retention.max_rows is not None:
                row = db.execute("SELECT cursor FROM events ORDER BY cursor DESC"
                                 " LIMIT 1 OFFSET ?", (retention.max_rows,)).fetchone()
                through = max(through, row[0] if row else 0)
        size = self.size()
        over = 0
        if retention.max_bytes is not None and size.total_bytes > retention.max_bytes:
            over = max(0, size.used_bytes - low_water(retention.max_bytes))
        return Plan(through, over, size, self.store.pruned().through)

    def over_bytes(self, retention: Retention) -> int:
        """Used bytes still above the size bound's low-water mark."""
        if retention.max_bytes is None:
            return 0
        return max(0, self.size().used_bytes - low_water(retention.max_bytes))

    def any_after(self, cursor: int) -> bool:
        with self.store.reading() as db:
            found = db.execute("SELECT 1 FROM events WHERE cursor > ? LIMIT 1",
                               (cursor,)).fetchone()
        return found is not None

    def delete_through(self, cursor: int, retention: Retention) -> tuple[int, int]:
        """Delete every event at or below `cursor` in one transaction.

        Returns how many went, and the used bytes still above the size bound's low-water mark.
        """
        started = time.monotonic()
        with self.store.maintenance() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                (newest,) = db.execute("SELECT coalesce(max(received_at), 0) FROM events"
                                       " WHERE cursor <= ?", (cursor,)).fetchone()
                deleted = db.execute("DELETE FROM events WHERE cursor <= ?", (cursor,)).rowcount
                # The record of waits goes with the events of the same time.
                db.execute("DELETE FROM waits WHERE started_at <= ?", (newest,))
                record_pruned(db, Pruned(cursor, int(newest)))
                db.execute("COMMIT")
            except BaseException:
                rollback(db)
                raise
        self.batch_rows = _fit(self.batch_rows, time.monotonic() - started, _ROWS_RANGE)
        self._copy_wal()
        return int(deleted), self.over_bytes(retention)

    def vacuum_step(self) -> int:
        """Hand up to vacuum_pages free pages back to the file system; return how many are left."""
        started = time.monotonic()
        with self.store.maintenance() as db:
            # executescript steps the pragma to completion; execute() would free one page.
            db.executescript(f"PRAGMA incremental_vacuum({int(self.vacuum_pages)})")
            (free,) = db.execute("PRAGMA freelist_count").fetchone()
        self.vacuum_pages = _fit(self.vacuum_pages, time.monotonic() - started, _PAGES_RANGE)
        self._copy_wal()
        return int(free)

    def _copy_wal(self) -> None:
        # Copying the WAL here, outside the write lock, keeps the pages this pass writes from
        # pushing an emitter's commit over the auto-checkpoint threshold (a copy and an fsync
        # charged to that emit).
        with self.store.reading() as db:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def checkpoint(self) -> None:
        """Copy the WAL into the file, then truncate it if no reader needs it right now."""
        with self.store.reading() as db:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        with self.store.maintenance() as db:
            # Inside the write lock and without waiting on readers: never a stall for emits.
            db.execute("PRAGMA busy_timeout=0")
            try:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                db.execute("PRAGMA busy_timeout=10000")

    def vacuum_once(self) -> None:
        """Rewrite the whole file with incremental auto-vacuum (a store from before version 3)."""
        with self.store.maintenance() as db:
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            db.execute("VACUUM")

    def dry_rows(self, plan: Plan, floor: int) -> tuple[int, int, bool]:
        """Rows a pass would delete, the cursor it would reach, and whether that is a guess."""
        with self.store.reading() as db:
            (count, oldest) = db.execute("SELECT count(*), min(cursor) FROM events").fetchone()
            by_bound = 0
            through = min(plan.through, floor)
            if through:
                (by_bound,) = db.execute("SELECT count(*) FROM events WHERE cursor <= ?",
                                         (through,)).fetchone()
        if not plan.over_bytes or not count:
            return int(by_bound), through, False
        per_row = max(1, plan.size.used_bytes // count)
        rows = min(count, max(by_bound, -(-plan.over_bytes // per_row)))
        end = self._nth_cursor(rows) if oldest is not None else 0
        return rows, min(max(through, end), floor), True

    def _nth_cursor(self, rows: int) -> int:
        with self.store.reading() as db:
            row = db.execute("SELECT cursor FROM events ORDER BY cursor LIMIT 1 OFFSET ?",
                             (max(0, rows - 1),)).fetchone()
        return int(row[0]) if row else 0


def _fit(size: int, took_s: float, bounds: tuple[int, int]) -> int:
    """The next step's size: doubled after a step well inside STEP_LOCK_S, halved after one over."""
    if took_s < STEP_LOCK_S / 2:
        size *= 2
    elif took_s > STEP_LOCK_S:
        size //= 2
    return min(max(size, bounds[0]), bounds[1])


def low_water(max_bytes: int) -> int:
    """The live bytes a size bound prunes down to: room below it for the WAL and new events."""
    return max(max_bytes // 2, min(int(max_bytes * LOW_WATER), max_bytes - WAL_LIMIT_BYTES))


async def prune(pruner: Pruner, retention: Retention, *, floor: Callable[[], int], now_ns: int,
                dry_run: bool = False, on_boundary: Callable[[int], None] | None = None,
                stopping: Callable[[], bool] = lambda: False) -> Report:
    """Apply `retention` now, one short step at a time in worker threads.

    `floor()` is the newest cursor that may go (nothing a connected subscriber has not been
    sent); it is asked before every batch. `on_boundary(cursor)` is told each batch's end
    before the batch is deleted, so a subscriber arriving meanwhile is told it asked for
    pruned events. `stopping()` ends the pass between two steps.
    """
    started = time.monotonic_ns()
    plan = await asyncio.to_thread(pruner.plan, retention, now_ns)
    if dry_run:
        rows, through, estimated = await asyncio.to_thread(pruner.dry_rows, plan, floor())
        return Report(rows, through, plan.size, plan.size, None, dry_run=True,
                      estimated=estimated, started_ns=started, finished_ns=time.monotonic_ns())
    deleted, held_back = 0, None
    over, pruned = plan.over_bytes, plan.pruned
    while (over or plan.through) and not stopping():
        # A size bound lets any oldest event go; the age and row bounds stop at plan.through.
        want = _ANY if over else plan.through
        newest_allowed = floor()
        # Cursors only grow, so the next batch is the next batch_rows cursors after the pruned
        # ones (fewer events where cursors were skipped), and its end is known before it runs.
        end = min(want, newest_allowed, pruned + pruner.batch_rows)
        if end <= pruned:
            if newest_allowed < want and await asyncio.to_thread(pruner.any_after,
                                                                 newest_allowed):
                held_back = newest_allowed
            break
        if on_boundary is not None:
            on_boundary(end)  # on the loop, with no await since floor(): no subscriber between
        gone, still_over = await _paced(pruner.delete_through, end, retention)
        deleted, pruned = deleted + gone, end
        if over:
            over = still_over
    while deleted and plan.size.incremental and not stopping() \
            and await _paced(pruner.vacuum_step):
        pass
    if deleted:
        await asyncio.to_thread(pruner.checkpoint)
    after = await asyncio.to_thread(pruner.size)
    through = (await asyncio.to_thread(pruner.store.pruned)).through
    if held_back is not None:
        log.warning("retention stopped at cursor %d: a connected subscriber has not been sent "
                    "the events after it yet", held_back)
    return Report(deleted, through, plan.size, after, held_back, started_ns=started,
                  finished_ns=time.monotonic_ns())


async def _paced(step: Callable[..., _R], *args: object) -> _R:
    """Run a step in a worker thread, then rest as long as it took: a pass takes at most half
    of a core and half of the write lock, however busy the host is."""
    started = time.monotonic()
    result = await asyncio.to_thread(step, *args)
    await asyncio.sleep(time.monotonic() - started)
    return result


def _file_bytes(path: os.PathLike[str]) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
