"""macOS and BSD: kqueue vnode filters, with directory listings diffed to name the change.

Untested here: the project's machines and CI run Linux, so this path has no real-kernel test.
"""
# The select module's kqueue names exist only in non-Linux stubs; mypy checks on Linux.
# mypy: disable-error-code="attr-defined"

from __future__ import annotations

import contextlib
import logging
import os
import select
import time
from dataclasses import dataclass
from pathlib import Path

from waitbus.event import Draft
from waitbus.sources.base import Sink
from waitbus.sources.fs.changes import Kind, WatchError, change, overflow
from waitbus.sources.fs.notifier import commit_all, readable

log = logging.getLogger(__name__)
O_EVTONLY = getattr(os, "O_EVTONLY", 0x8000)  # open for notifications only (macOS)
DIR_FLAGS = select.KQ_NOTE_WRITE | select.KQ_NOTE_DELETE | select.KQ_NOTE_RENAME
FILE_FLAGS = DIR_FLAGS | select.KQ_NOTE_EXTEND


@dataclass(frozen=True, slots=True)
class Entry:
    inode: int
    is_dir: bool


@dataclass(slots=True)
class Watch:
    path: Path
    fd: int
    is_dir: bool
    root: bool
    listing: dict[str, Entry]


class KqueueSource:
    """Watches files and the entries directly inside directories (not their subtrees).

    kqueue reports writes, not closes: a file written in several chunks may give several
    close_write events. A rename inside a watched directory is paired by inode; the other
    notifier facts (cookie) do not exist here and stay None.
    """

    name = "fs"

    def __init__(self, paths: tuple[Path, ...]) -> None:
        self.paths = paths
        self.watches: dict[int, Watch] = {}
        self._kq = select.kqueue()

    def __repr__(self) -> str:
        return f"<KqueueSource paths={len(self.paths)} watches={len(self.watches)}>"

    async def run(self, sink: Sink) -> None:
        try:
            for path in self.paths:
                self._watch(path, root=True)
            log.info("fs: watching %s", ", ".join(str(p) for p in self.paths))
            while True:  # until the daemon cancels this task
                await readable(self._kq.fileno())
                await commit_all(sink, self._read())
        finally:
            for watch in self.watches.values():
                os.close(watch.fd)
            self._kq.close()

    def _watch(self, path: Path, *, root: bool) -> Watch | None:
        try:
            fd = os.open(path, O_EVTONLY)
        except OSError as exc:
            if root:
                msg = f"cannot watch {path}: {exc.strerror}"
                raise WatchError(msg) from exc
            return None
        is_dir = path.is_dir()
        flags = DIR_FLAGS if is_dir else FILE_FLAGS
        event = select.kevent(fd, filter=select.KQ_FILTER_VNODE,
                              flags=select.KQ_EV_ADD | select.KQ_EV_CLEAR, fflags=flags)
        self._kq.control([event], 0, 0)
        watch = Watch(path, fd, is_dir, root, _listing(path) if is_dir else {})
        self.watches[fd] = watch
        if is_dir and root:
            for name, entry in watch.listing.items():
                if not entry.is_dir:
                    self._watch(path / name, root=False)
        return watch

    def _read(self) -> list[Draft]:
        now = time.time_ns()
        drafts: list[Draft] = []
        for kev in self._kq.control(None, 64, 0):
            watch = self.watches.get(kev.ident)
            if watch is not None:
                drafts.extend(self._changes(watch, kev.fflags, now))
        return drafts

    def _changes(self, watch: Watch, fflags: int, now: int) -> list[Draft]:
        if fflags & (select.KQ_NOTE_DELETE | select.KQ_NOTE_RENAME):
            kind = Kind.DELETE if fflags & select.KQ_NOTE_DELETE else Kind.MOVE
            if not watch.root:
                self._unwatch(watch)
                return []  # the parent directory's listing reports it, with its name
            return [change(kind, watch.path, is_dir=watch.is_dir, received_at=now,
                           moved_from=watch.path if kind is Kind.MOVE else None)]
        if not watch.is_dir:
            return [change(Kind.CLOSE_WRITE, watch.path, received_at=now)]
        return self._rescan(watch, now)

    def _rescan(self, watch: Watch, now: int) -> list[Draft]:
        try:
            after = _listing(watch.path)
        except OSError:
            return [overflow(self.paths, received_at=now)]
        before, watch.listing = watch.listing, after
        gone = {n: e for n, e in before.items() if n not in after or after[n].inode != e.inode}
        new = {n: e for n, e in after.items() if n not in before or before[n].inode != e.inode}
        by_inode = {e.inode: n for n, e in gone.items()}
        out: list[Draft] = []
        for name, entry in new.items():
            path = watch.path / name
            old = by_inode.pop(entry.inode, None)
            if old is not None:
                out.append(change(Kind.MOVE, path, is_dir=entry.is_dir, received_at=now,
                                  moved_from=watch.path / old, moved_to=path))
            else:
                out.append(change(Kind.CREATE, path, is_dir=entry.is_dir, received_at=now))
            if not entry.is_dir and watch.root:
                self._watch(path, root=False)
        out.extend(change(Kind.DELETE, watch.path / name, is_dir=gone[name].is_dir,
                          received_at=now) for name in by_inode.values())
        return out

    def _unwatch(self, watch: Watch) -> None:
        self.watches.pop(watch.fd, None)
        with contextlib.suppress(OSError):
            os.close(watch.fd)


def _listing(path: Path) -> dict[str, Entry]:
    with os.scandir(path) as entries:
        return {e.name: Entry(e.inode(), e.is_dir(follow_symlinks=False)) for e in entries}
