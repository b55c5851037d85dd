"""Retention inside the daemon: passes start as events arrive, one at a time, off the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time

from waitbus import lockfile
from waitbus.bus.broadcast import Broadcast
from waitbus.config import Retention
from waitbus.event import JSONObject
from waitbus.paths import StatePaths
from waitbus.store import retention
from waitbus.store.store import Store

log = logging.getLogger(__name__)
# A pass is considered after this many new events, or on the first event this long after the
# last pass: retention runs when events arrive, so an idle bus does no work at all.
CHECK_EVERY_ROWS = 1000
CHECK_EVERY_S = 60.0


class Pruning:
    """Applies the daemon's retention; never deletes what a connected subscriber still needs.

    `boundary` is the newest cursor that is pruned or about to be: a subscriber asking for
    events after an older cursor is told they were pruned.
    """

    def __init__(self, store: Store, policy: Retention, broadcast: Broadcast, *,
                 check_every_rows: int = CHECK_EVERY_ROWS,
                 check_every_s: float = CHECK_EVERY_S) -> None:
        self.policy = policy
        self.broadcast = broadcast
        self.pruner = retention.Pruner(store)
        self.boundary = store.pruned().through
        self.last: retention.Report | None = None
        self.passes = 0
        self.pruned_rows = 0
        self._check_every_rows = check_every_rows
        self._check_every_s = check_every_s
        self._rows_since_check = 0
        self._checked_at = time.monotonic()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def __repr__(self) -> str:
        state = "running" if self.running else "idle"
        return f"<Pruning boundary={self.boundary} passes={self.passes} {state}>"

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def floor(self) -> int:
        """The newest cursor that may go: offered to every subscriber, and fanned out."""
        cursors = [s.cursor for s in self.broadcast.subscribers]
        return min([self.broadcast.head, *cursors])

    def on_fan_out(self, rows: int) -> None:
        """Count new events; start a pass when enough arrived or enough time has passed."""
        self._rows_since_check += rows
        due = (self._rows_since_check >= self._check_every_rows
               or time.monotonic() - self._checked_at >= self._check_every_s)
        if due and rows and self.policy.bounded and not self.running and not self._stopping:
            self.start()

    def start(self) -> None:
        """Start a pass with the daemon's policy in the background."""
        self._rows_since_check = 0
        self._checked_at = time.monotonic()
        self._task = asyncio.ensure_future(self._background())

    async def run(self, policy: Retention | None = None, *,
                  dry_run: bool = False) -> retention.Report:
        """One pass with `policy` (default: the daemon's), after any pass already running."""
        async with self._lock:
            report = await retention.prune(
                self.pruner, policy or self.policy, floor=self.floor, now_ns=time.time_ns(),
                dry_run=dry_run, on_boundary=self._advance, stopping=lambda: self._stopping)
        if not dry_run:
            self.last = report
            self.passes += 1
            self.pruned_rows += report.rows
            self.boundary = max(self.boundary, report.through)
        return report

    async def close(self) -> None:
        """Let a running pass finish its current step, then stop."""
        self._stopping = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task

    def status(self) -> JSONObject:
        return {"policy": self.policy.to_json(), "pruned_through": self.boundary,
                "passes": self.passes, "running": self.running,
                "last": None if self.last is None else self.last.to_json()}

    async def _background(self) -> None:
        try:
            report = await self.run()
        except Exception:
            log.exception("retention pass failed; the next events start another")
            return
        if report.rows:
            log.info("retention pruned %d events through cursor %d (%d -> %d bytes)",
                     report.rows, report.through, report.before.total_bytes,
                     report.after.total_bytes)

    def _advance(self, cursor: int) -> None:
        self.boundary = max(self.boundary, cursor)


async def prune_without_daemon(paths: StatePaths, policy: Retention, *,
                               dry_run: bool = False) -> retention.Report | None:
    """Apply `policy` while no daemon runs; None when a daemon holds the state directory.

    The daemon's lock is held for the whole pass, so no daemon starts (and no subscriber
    connects) while events are being deleted.
    """
    fd = lockfile.try_take(paths.daemon_lock)
    if fd is None:
        return None
    try:
        with Store(paths) as store:
            return await retention.prune(retention.Pruner(store), policy, floor=store.head,
                                         now_ns=time.time_ns(), dry_run=dry_run)
    finally:
        os.close(fd)
