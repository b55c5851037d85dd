"""A real daemon in the test's own event loop: real sockets and store under a temporary path."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from waitbus.bus.daemon import Daemon
from waitbus.config import Settings
from waitbus.paths import StatePaths

START_S = 10.0


@contextlib.asynccontextmanager
async def serving(paths: StatePaths, *, max_queue_frames: int = 4096,
                  batch_rows: int = 512) -> AsyncIterator[Daemon]:
    """Run `Daemon(settings).serve()` as a task until the block ends, then drain it."""
    daemon = Daemon(Settings(paths=paths, listen_port=None, max_queue_frames=max_queue_frames,
                             batch_rows=batch_rows))
    ready = asyncio.Event()
    task = asyncio.create_task(daemon.serve(on_ready=lambda _daemon: ready.set()))
    waiting = asyncio.create_task(ready.wait())
    async with asyncio.timeout(START_S):
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiting.cancel()
        task.result()  # raises what stopped the daemon from starting
    try:
        yield daemon
    finally:
        daemon.stop()
        async with asyncio.timeout(START_S):
            await task
