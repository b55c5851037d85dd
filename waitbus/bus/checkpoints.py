"""WAL checkpoints run by the daemon, off the loop, so that no emitter's commit pays for one."""

from __future__ import annotations

import asyncio
import logging

from waitbus.errors import StoreError
from waitbus.paths import StatePaths
from waitbus.store.store import Store

log = logging.getLogger(__name__)
# About SQLite's own cadence (1000 WAL pages) at the five or so pages one emit writes.
CHECKPOINT_EVERY_ROWS = 200


class Checkpoints:
    """Copies the WAL into the store file after every `every_rows` rows fanned out.

    An emitter's own auto-checkpoint waits much longer (schema.PRAGMAS), so the copy and its
    fsync run here, in a worker thread, instead of inside some emitter's commit while it holds
    the write lock. A PASSIVE checkpoint waits for no writer and no reader. Nothing runs while
    no events arrive, so an idle daemon does no work.
    """

    def __init__(self, paths: StatePaths, *, every_rows: int = CHECKPOINT_EVERY_ROWS) -> None:
        self.paths = paths
        self.every_rows = every_rows
        self.done = 0
        self._rows = 0
        self._store: Store | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<Checkpoints done={self.done} rows_since={self._rows}>"

    def on_fan_out(self, rows: int) -> None:
        """Count fanned-out rows; start a checkpoint when enough have arrived and none runs."""
        self._rows += rows
        if self._rows >= self.every_rows and (self._task is None or self._task.done()):
            self._rows = 0
            self._task = asyncio.ensure_future(self._run())

    async def close(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._store is not None:
            self._store.close()
            self._store = None

    async def _run(self) -> None:
        try:
            await asyncio.to_thread(self._checkpoint)
        except StoreError as exc:
            log.warning("WAL checkpoint failed (%s); emitters will checkpoint instead", exc)

    def _checkpoint(self) -> None:
        if self._store is None:
            self._store = Store(self.paths)
        self._store.reopen_if_replaced()  # copy the WAL of the store now at the path
        self._store.checkpoint()
        self.done += 1
