"""Emitting from any process: build a draft and commit it straight to the store."""

from __future__ import annotations

import atexit
import os
import threading
import time
import uuid
from collections.abc import Mapping

from waitbus.event import JSON, Conclusion, Draft, Event
from waitbus.paths import StatePaths
from waitbus.store.store import Store

# A producer usually emits to one state directory; keep a few open, close the rest.
_MAX_OPEN_STORES = 4
_stores: dict[tuple[int, str], Store] = {}
_lock = threading.Lock()


def draft(source: str, type: str, *, subject: str | None = None,
          conclusion: Conclusion | str | None = None, fields: Mapping[str, JSON] | None = None,
          payload: str | None = None, delivery_id: str | None = None,
          received_at: int | None = None) -> Draft:
    """Build a checked draft; a missing delivery_id gets a fresh random one."""
    return Draft(
        source=source,
        type=type,
        delivery_id=delivery_id if delivery_id is not None else uuid.uuid4().hex,
        received_at=received_at if received_at is not None else time.time_ns(),
        subject=subject,
        conclusion=_conclusion(conclusion),
        fields=dict(fields or {}),
        payload=payload,
    )


def append(paths: StatePaths, item: Draft) -> Event:
    """Commit through this process's cached store (reopened after a fork)."""
    key = (os.getpid(), str(paths.root))
    with _lock:
        store = _stores.pop(key, None) or Store(paths)
        _stores[key] = store  # most recently used last
        while len(_stores) > _MAX_OPEN_STORES:
            (pid, _root), old = next(iter(_stores.items()))
            del _stores[(pid, _root)]
            if pid == os.getpid():  # a fork's inherited connections belong to the parent
                old.close()
        event, _new = store.append(item)
    return event


@atexit.register
def close_all() -> None:
    """Close this process's cached stores (a forked child leaves its parent's alone)."""
    with _lock:
        for (pid, _root), store in list(_stores.items()):
            if pid == os.getpid():
                store.close()
        _stores.clear()


def _conclusion(value: Conclusion | str | None) -> Conclusion | None:
    if value is None or isinstance(value, Conclusion):
        return value
    try:
        return Conclusion(value)
    except ValueError:
        from waitbus.errors import UsageError

        choices = ", ".join(c.value for c in Conclusion)
        msg = f"conclusion {value!r} is not one of {choices} (leave it out while not finished)"
        raise UsageError(msg) from None
