"""Linux: inotify through ctypes, read when the loop says the descriptor is readable."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from waitbus.event import Draft
from waitbus.sources.base import Sink
from waitbus.sources.fs.changes import Kind, WatchError, change, overflow
from waitbus.sources.fs.notifier import commit_all, readable

log = logging.getLogger(__name__)

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_EXCL_UNLINK = 0x04000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
WATCH_MASK = (IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
              | IN_DELETE_SELF | IN_MOVE_SELF | IN_EXCL_UNLINK)
_HEADER = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then the name
READ_BYTES = 64 * 1024
# Reads per wake-up before yielding to the loop, so a flood cannot starve the daemon's clients.
MAX_READS_PER_WAKE = 16


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One struct inotify_event as the kernel wrote it."""

    wd: int
    mask: int
    cookie: int
    name: bytes


def parse(data: bytes) -> list[RawEvent]:
    """Split one read's bytes into events; the kernel never splits an event across reads."""
    events, at = [], 0
    while at + _HEADER.size <= len(data):
        wd, mask, cookie, length = _HEADER.unpack_from(data, at)
        start = at + _HEADER.size
        events.append(RawEvent(wd, mask, cookie, data[start:start + length].rstrip(b"\0")))
        at = start + length
    return events


@dataclass
class Translator:
    """Turns raw events into drafts, pairing a move's two halves by their cookie."""

    watches: dict[int, Path]
    roots: tuple[Path, ...] = field(default=())
    # Move halves whose partner was not in the batch, held for one more batch at most.
    unpaired: dict[int, tuple[Path, bool]] = field(default_factory=dict)

    def feed(self, events: Iterable[RawEvent], received_at: int, *,
             final: bool = True) -> list[Draft]:
        """Drafts for one batch of events, in kernel order.

        rename() queues a move's two halves one after the other, so a reader can wake between
        them. With `final=False`, a lone "moved from" is held in `unpaired` for the next batch;
        a final batch reports what is still alone as a move with one end None (it crossed the
        edge of the watched paths).
        """
        out: list[Draft] = []
        for raw in events:
            draft = self._one(raw, self.unpaired, received_at)
            if draft is not None:
                out.append(draft)
        if final:
            for cookie, (path, is_dir) in self.unpaired.items():
                out.append(change(Kind.MOVE, path, is_dir=is_dir, moved_from=path,
                                  cookie=cookie, received_at=received_at))
            self.unpaired.clear()
        return out

    def _one(self, raw: RawEvent, moved_from: dict[int, tuple[Path, bool]],
             received_at: int) -> Draft | None:
        if raw.mask & IN_Q_OVERFLOW:
            return overflow(self.roots, received_at=received_at)
        base = self.watches.get(raw.wd)
        if base is None:
            return None  # a watch already removed; its last events are moot
        if raw.mask & IN_IGNORED:
            del self.watches[raw.wd]
            return None
        path = base / os.fsdecode(raw.name) if raw.name else base
        is_dir = bool(raw.mask & IN_ISDIR)
        if raw.mask & IN_MOVED_FROM:
            moved_from[raw.cookie] = (path, is_dir)
            return None
        if raw.mask & IN_MOVED_TO:
            source = moved_from.pop(raw.cookie, None)
            return change(Kind.MOVE, path, is_dir=is_dir, moved_to=path, cookie=raw.cookie,
                          moved_from=None if source is None else source[0],
                          received_at=received_at)
        kind = _KINDS.get(raw.mask & (IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_DELETE_SELF
                                      | IN_MOVE_SELF))
        if kind is None:
            return None
        if kind is Kind.MOVE:  # the watched path itself moved: where to is unknown
            return change(kind, path, is_dir=path.is_dir(), moved_from=path,
                          received_at=received_at)
        return change(kind, path, is_dir=is_dir, received_at=received_at)


_KINDS = {
    IN_CLOSE_WRITE: Kind.CLOSE_WRITE,
    IN_CREATE: Kind.CREATE,
    IN_DELETE: Kind.DELETE,
    IN_DELETE_SELF: Kind.DELETE,
    IN_MOVE_SELF: Kind.MOVE,
}


class Inotify:
    """An inotify instance: a non-blocking descriptor and its watches."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.inotify_init1.argtypes = [ctypes.c_int]
        self._libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        fd = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            msg = (f"cannot start inotify: {os.strerror(err)}; raise fs.inotify.max_user_instances "
                   "or stop other watchers")
            raise WatchError(msg)
        self.fd: int = fd

    def __repr__(self) -> str:
        return f"<Inotify fd={self.fd}>"

    def add_watch(self, path: Path) -> int:
        wd = int(self._libc.inotify_add_watch(self.fd, os.fsencode(path), WATCH_MASK))
        if wd < 0:
            err = ctypes.get_errno()
            msg = f"cannot watch {path}: {os.strerror(err)}"
            if err == 28:  # ENOSPC: the per-user watch limit, not the disk
                msg += "; raise fs.inotify.max_user_watches"
            raise WatchError(msg)
        return wd

    def read(self) -> list[RawEvent]:
        """Everything queued now (up to a bound), without blocking."""
        events: list[RawEvent] = []
        for _ in range(MAX_READS_PER_WAKE):
            try:
                data = os.read(self.fd, READ_BYTES)
            except BlockingIOError:
                break
            events.extend(parse(data))
        return events

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class InotifySource:
    """Watches files and the entries directly inside directories (not their subtrees)."""

    name = "fs"

    def __init__(self, paths: tuple[Path, ...]) -> None:
        self.paths = paths
        self.seen = 0

    def __repr__(self) -> str:
        return f"<InotifySource paths={len(self.paths)} seen={self.seen}>"

    async def run(self, sink: Sink) -> None:
        notifier = Inotify()
        try:
            watches = {notifier.add_watch(p): p for p in self.paths}
            translator = Translator(watches, self.paths)
            log.info("fs: watching %s", ", ".join(str(p) for p in self.paths))
            while True:  # until the daemon cancels this task
                await readable(notifier.fd)
                await self._drain(notifier, translator, sink)
        finally:
            notifier.close()

    async def _drain(self, notifier: Inotify, translator: Translator, sink: Sink) -> None:
        drafts = translator.feed(notifier.read(), time.time_ns(), final=False)
        self.seen += len(drafts)
        await commit_all(sink, drafts)
        if translator.unpaired:
            # A loop turn later (and the commits above) the rename that queued the first half
            # has queued the second: read once more, then report what is still alone. No timer.
            await asyncio.sleep(0)
            drafts = translator.feed(notifier.read(), time.time_ns())
            self.seen += len(drafts)
            await commit_all(sink, drafts)
