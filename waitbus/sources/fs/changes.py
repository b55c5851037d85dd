"""The fs source's vocabulary: what changed, as drafts every notifier builds the same way."""

from __future__ import annotations

import enum
import os
from pathlib import Path

from waitbus.errors import WaitbusError
from waitbus.event import Conclusion, Draft, JSONObject
from waitbus.sources import emitter

SOURCE = "fs"


class Kind(enum.StrEnum):
    CLOSE_WRITE = "close_write"  # a file opened for writing was closed
    CREATE = "create"
    DELETE = "delete"
    MOVE = "move"


def change(kind: Kind, path: Path, *, is_dir: bool = False, moved_from: Path | None = None,
           moved_to: Path | None = None, cookie: int | None = None,
           received_at: int | None = None) -> Draft:
    """One change under a watched path; `path` is where the entry is now (or was, if gone)."""
    fields: JSONObject = {"path": str(path), "name": path.name, "kind": str(kind),
                          "is_dir": is_dir}
    size = _size(path) if kind is not Kind.DELETE and not is_dir else None
    if size is not None:
        fields["size"] = size
    if kind is Kind.MOVE:
        fields["from"] = None if moved_from is None else str(moved_from)
        fields["to"] = None if moved_to is None else str(moved_to)
        fields["cookie"] = cookie
    return emitter.draft(SOURCE, "change", subject=str(path), fields=fields,
                         received_at=received_at)


def overflow(watched: tuple[Path, ...], *, received_at: int | None = None) -> Draft:
    """The notifier dropped events: a failure, so waiters know to rescan instead of trusting."""
    fields: JSONObject = {
        "paths": [str(p) for p in watched],
        "message": "the kernel's event queue overflowed and changes were dropped; rescan "
        "the watched paths (raise fs.inotify.max_queued_events to make this rarer)",
    }
    return emitter.draft(SOURCE, "overflow", conclusion=Conclusion.FAILURE, fields=fields,
                         received_at=received_at)


def _size(path: Path) -> int | None:
    # Read when the event is handled, so a file rewritten since reports its newer size.
    try:
        return os.stat(path).st_size
    except OSError:
        return None


class WatchError(WaitbusError):
    """A path could not be watched."""
