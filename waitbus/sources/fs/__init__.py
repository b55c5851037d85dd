"""The filesystem source: the kernel's notifier (inotify or kqueue) turned into events."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from pathlib import Path

from waitbus.sources.base import Source


def watcher(paths: Sequence[Path]) -> Source:
    """The notifier-backed source for this platform, watching `paths`."""
    if platform.system() == "Linux":
        from waitbus.sources.fs.inotify import InotifySource

        return InotifySource(tuple(paths))
    from waitbus.sources.fs.kqueue import KqueueSource

    return KqueueSource(tuple(paths))
