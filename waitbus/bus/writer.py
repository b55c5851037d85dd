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

_Result = tuple[Event, bool]
# A draft and who waits for it: an asyncio future on the loop (commit), or a thread (append).
_Job = tuple[Draft, "asyncio.Future[_Result] | Future[_Result]"]


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
        # False: no fan-out due; None: one is due, not yet asked of the loop; True: asked.
        self._hop_pending: bool | None = False
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
        answer: asyncio.Future[_Result] = asyncio.get_running_loop().create_future()
        self._submit(draft, answer)
        return await answer

    def append(self, draft: Draft) -> tuple[Event, bool]:
        """Commit `draft` and block until it is stored (for callers that cannot await)."""
        answer: Future[_Result] = Future()
        self._submit(draft, answer)
        return answer.result()

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

    def _submit(self, draft: Draft, answer: asyncio.Future[_Result] | Future[_Result]) -> None:
        if self._closing or self._thread is None:
            msg = (f"the daemon is stopping and stores nothing more in {self.paths.store}; "
                   "send it again once the daemon is back")
            raise StoreError(msg)
        with self._count_lock:
            self._handed_in.append(time.monotonic())
            self._jobs.put((draft, answer))

    def _work(self, opened: Future[None]) -> None:
        try:
            store = Store(self.paths, on_commit=self._committed)
        except BaseException as exc:
            opened.set_exception(exc)
            return
        opened.set_result(None)
        try:
            while (item := self._jobs.get()) is not None:
                draft, answer = item
                try:
                    result: _Result | BaseException = store.append(draft)
                except BaseException as exc:  # the caller gets it, as from a direct append
                    result = exc
                with self._count_lock:
                    self._handed_in.popleft()  # jobs end in the order they came
                if isinstance(answer, Future):  # a thread waits: not the loop, maybe blocked
                    _settle(answer, result)
                    if self._hop_pending is None:
                        self._hop_pending = True
                        self._call_on_loop(self._hop, None, result)
                elif self._hop_pending is None:
                    # One call for the fan-out and the answer: the fan-out runs first.
                    self._hop_pending = True
                    self._call_on_loop(self._hop, answer, result)
                else:
                    self._call_on_loop(_answer, answer, result)
        finally:
            store.close()
            self._call_on_loop(self._ended.set)

    def _committed(self) -> None:
        """In the writer's thread, right after a commit that added rows: a fan-out is due.

        None means one is due and not yet asked of the loop; commits that land before the loop
        runs it share it: the flag is cleared on the loop before `on_commit` reads, so a commit
        that saw it set is read by that run.
        """
        if self._hop_pending is False:
            self._hop_pending = None

    def _call_on_loop(self, callback: Callable[..., None], *args: object) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody to tell
            self._loop.call_soon_threadsafe(callback, *args)

    def _hop(self, answer: asyncio.Future[_Result] | None,
             result: _Result | BaseException) -> None:
        self._hop_pending = False
        try:
            self._on_commit()
        finally:
            if answer is not None:
                _answer(answer, result)


def _settle(answer: asyncio.Future[_Result] | Future[_Result],
            result: _Result | BaseException) -> None:
    if isinstance(result, BaseException):
        answer.set_exception(result)
    else:
        answer.set_result(result)


def _answer(answer: asyncio.Future[_Result], result: _Result | BaseException) -> None:
    """Hand a finished commit to the caller waiting on the loop (if it still waits)."""
    if answer.cancelled():
        if isinstance(result, BaseException):
            log.warning("a commit whose caller had gone failed: %s", result)
        return
    _settle(answer, result)
