"""The daemon's writer: one thread through which every commit the daemon makes goes, in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

from waitbus.errors import StoreError
from waitbus.event import Draft, Event
from waitbus.paths import StatePaths
from waitbus.store.store import Store

log = logging.getLogger(__name__)
# How long stop waits for commits still queued (behind a write lock someone else holds).
DRAIN_S = 10.0

_Job = tuple[Draft, "Future[tuple[Event, bool]]"]


class Writer:
    """Commits drafts to the store in a thread of its own, one at a time, in the order given.

    The store's write lock is a `flock` that any process may hold for as long as it likes, and
    a commit can wait on the disk: both are waited for in this thread, never on the event loop,
    so the daemon keeps answering while a commit waits. `on_commit` runs on the loop after
    commits that added rows (once for several that land before it runs), before any caller of
    `commit` hears of them.
    """

    def __init__(self, paths: StatePaths, on_commit: Callable[[], None]) -> None:
        self.paths = paths
        self._on_commit = on_commit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ended = asyncio.Event()
        self._closing = False
        self._hop_pending = False
        self._count_lock = threading.Lock()
        self._handed_in: deque[float] = deque()  # monotonic times of the pending drafts

    @property
    def pending(self) -> int:
        """Drafts handed in and not yet committed (nor failed)."""
        return len(self._handed_in)

    def oldest_pending_s(self) -> float:
        """How long the oldest pending draft has waited (0 when none waits)."""
        with self._count_lock:
            oldest = self._handed_in[0] if self._handed_in else None
        return 0.0 if oldest is None else time.monotonic() - oldest

    def __repr__(self) -> str:
        state = "closing" if self._closing else "open" if self._thread else "not started"
        return f"<Writer {self.paths.store} {state} pending={self.pending}>"

    async def start(self) -> None:
        """Open the store (creating or upgrading it) in the writer's thread, and start it."""
        self._loop = asyncio.get_running_loop()
        opened: Future[None] = Future()
        self._thread = threading.Thread(target=self._work, args=(opened,),
                                        name="waitbus-writer", daemon=True)
        self._thread.start()
        try:
            await asyncio.wrap_future(opened)
        except BaseException:
            self._thread = None
            raise

    async def commit(self, draft: Draft) -> tuple[Event, bool]:
        """Commit `draft` without blocking the loop; return the stored event and whether it is
        new. Once handed in, the commit happens even if the caller is cancelled meanwhile."""
        job = self._submit(draft)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[tuple[Event, bool]] = loop.create_future()
        job.add_done_callback(lambda done: loop.call_soon_threadsafe(_settle, done, answer))
        return await answer

    def append(self, draft: Draft) -> tuple[Event, bool]:
        """Commit `draft` and block until it is stored (for callers that cannot await)."""
        return self._submit(draft).result()

    async def close(self, timeout_s: float = DRAIN_S) -> None:
        """Refuse new drafts, let the queued ones commit, then close the store.

        Commits still waiting after `timeout_s` (another process keeps the write lock) are
        logged; their thread is left to finish them, or to end with the process.
        """
        if self._thread is None or self._closing:
            return
        self._closing = True
        self._jobs.put(None)
        try:
            async with asyncio.timeout(timeout_s):
                await self._ended.wait()
        except TimeoutError:
            # No traceback: the cause is another process, named by what to run.
            log.error(  # noqa: TRY400
                "%d commit(s) still wait for the write lock on %s after %.0f s; they are lost "
                "if this process ends first; find the process holding it with `fuser %s`",
                self.pending, self.paths.store, timeout_s, self.paths.store_lock)

    def _submit(self, draft: Draft) -> Future[tuple[Event, bool]]:
        if self._closing or self._thread is None:
            msg = (f"the daemon is stopping and stores nothing more in {self.paths.store}; "
                   "send it again once the daemon is back")
            raise StoreError(msg)
        job: Future[tuple[Event, bool]] = Future()
        with self._count_lock:
            self._handed_in.append(time.monotonic())
            self._jobs.put((draft, job))
        return job

    def _work(self, opened: Future[None]) -> None:
        try:
            store = Store(self.paths, on_commit=self._committed)
        except BaseException as exc:
            opened.set_exception(exc)
            return
        opened.set_result(None)
        try:
            while (item := self._jobs.get()) is not None:
                draft, job = item
                try:
                    job.set_result(store.append(draft))
                except BaseException as exc:  # the caller gets it, as from a direct append
                    job.set_exception(exc)
                finally:
                    with self._count_lock:
                        self._handed_in.popleft()  # jobs end in the order they came
        finally:
            store.close()
            self._call_on_loop(self._ended.set)

    def _committed(self) -> None:
        """In the writer's thread, right after a commit that added rows: hop to the loop.

        Several commits before the loop gets to it need one hop: the flag is cleared on the
        loop before `on_commit` reads, so a commit that saw it still set is read by that run.
        """
        if self._hop_pending:
            return
        self._hop_pending = True
        self._call_on_loop(self._hop)

    def _call_on_loop(self, callback: Callable[[], None]) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody to tell
            self._loop.call_soon_threadsafe(callback)

    def _hop(self) -> None:
        self._hop_pending = False
        self._on_commit()


def _settle(job: Future[tuple[Event, bool]], answer: asyncio.Future[tuple[Event, bool]]) -> None:
    """Hand a finished commit to the caller waiting on the loop (if it still waits)."""
    exc = job.exception()
    if answer.cancelled():
        if exc is not None:
            log.warning("a commit whose caller had gone failed: %s", exc)
        return
    if exc is not None:
        answer.set_exception(exc)
    else:
        answer.set_result(job.result())

