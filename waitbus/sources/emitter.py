"""Emitting from any process: build a draft and commit it straight to the store."""

from __future__ import annotations

import atexit
import os
import time

# threading.Lock is this; the threading module itself costs each `waitbus emit` about 1 ms.
from _thread import allocate_lock
from collections.abc import Mapping, Sequence

from waitbus.errors import UsageError
from waitbus.event import JSON, Conclusion, Draft, Event
from waitbus.paths import StatePaths
from waitbus.store.store import Store

TYPE_CHECKING = False  # typing is left out at run time, as in waitbus.event
if TYPE_CHECKING:
    from typing import TypeGuard

# The keys of one event given as a JSON object (`emit_many`, `emit --batch`).
SPEC_KEYS = ("source", "type", "subject", "conclusion", "fields", "payload", "delivery_id")
_SPEC_KEYS = frozenset(SPEC_KEYS)
# A producer usually emits to one state directory; keep a few open, close the rest.
_MAX_OPEN_STORES = 4
_stores: dict[tuple[int, str], _Cached] = {}
_last: tuple[tuple[int, str], _Cached] | None = None  # the newest of _stores
_lock = allocate_lock()


def draft(source: str, type: str, *, subject: str | None = None,
          conclusion: Conclusion | str | None = None, fields: Mapping[str, JSON] | None = None,
          payload: str | None = None, delivery_id: str | None = None,
          received_at: int | None = None) -> Draft:
    """Build a checked draft; a missing delivery_id gets a fresh random one."""
    # Positional, in Draft's field order: keywords cost a tenth of building a draft.
    return Draft(
        source,
        type,
        delivery_id if delivery_id is not None else new_delivery_id(),
        received_at if received_at is not None else time.time_ns(),
        subject,
        conclusion if conclusion is None else _conclusion(conclusion),
        dict(fields) if fields else {},
        payload,
    )


def new_delivery_id() -> str:
    """32 hex digits: Unix milliseconds (48 bits), then 80 random bits.

    Unique like a random UUID, but in time order (the layout of a UUIDv7), so the store's
    unique index on delivery_id grows at its end instead of splitting pages all over.
    """
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def draft_of(spec: Mapping[str, object]) -> Draft:
    """Build a draft from a JSON object with the keys of `draft` (an `emit --batch` line)."""
    if not spec.keys() <= _SPEC_KEYS:  # a subset test allocates nothing, unlike a difference
        unknown = spec.keys() - _SPEC_KEYS
        msg = (f"unknown key {sorted(unknown)[0]!r}; an event has {', '.join(SPEC_KEYS)} "
               "(source and type are required)")
        raise UsageError(msg)
    source, type_ = spec.get("source"), spec.get("type")
    if not isinstance(source, str) or not isinstance(type_, str):
        msg = "an event needs \"source\" and \"type\" as strings"
        raise UsageError(msg)
    subject, conclusion, payload, delivery_id = (
        spec.get("subject"), spec.get("conclusion"), spec.get("payload"), spec.get("delivery_id"))
    if not (_is_text(subject) and _is_text(conclusion) and _is_text(payload)
            and _is_text(delivery_id)):
        subject, conclusion = _text(spec, "subject"), _text(spec, "conclusion")  # says which
        payload, delivery_id = _text(spec, "payload"), _text(spec, "delivery_id")
    fields = spec.get("fields")
    if not isinstance(fields, dict | None):
        msg = f"fields must be a JSON object, got {type(fields).__name__}"
        raise UsageError(msg)
    return draft(source, type_, subject=subject, conclusion=conclusion, fields=fields,
                 payload=payload, delivery_id=delivery_id)


def append(paths: StatePaths, item: Draft) -> tuple[Event, bool]:
    """Commit through this process's cached store (reopened after a fork): the one way a
    process that is not the daemon writes. Returns the stored event and whether it is new."""
    while True:
        cached = _cached(paths)
        with cached.busy:  # threads sharing a store take turns; other stores are not held up
            if not cached.closed:
                return cached.store.append(item)


def append_many(paths: StatePaths, items: Sequence[Draft]) -> list[Event]:
    """Commit every draft in one transaction, ringing once; the events in the same order."""
    while True:
        cached = _cached(paths)
        with cached.busy:
            if not cached.closed:
                return [event for event, _new in cached.store.append_many(items)]


class _Cached:
    """A cached store and the lock that lets one thread at a time commit through it."""

    __slots__ = ("busy", "closed", "store")

    def __init__(self, store: Store) -> None:
        self.store = store
        self.busy = allocate_lock()
        self.closed = False

    def close_when_idle(self) -> None:
        # A commit waiting on another process's write lock keeps its store: closing the
        # connection under it is unsafe, and waiting for it could hang the process's exit.
        if self.busy.acquire(blocking=False):
            try:
                self.store.close()
                self.closed = True
            finally:
                self.busy.release()


def _cached(paths: StatePaths) -> _Cached:
    global _last  # noqa: PLW0603 (one reference, swapped whole)
    key = (os.getpid(), str(paths.root))
    last = _last  # already the most recently used (every emit after a producer's first):
    if last is not None and last[0] == key:  # nothing to reorder, so no lock to take
        return last[1]
    with _lock:
        cached = _stores.pop(key, None) or _Cached(Store(paths))
        _stores[key] = cached  # most recently used last
        _last = (key, cached)
        while len(_stores) > _MAX_OPEN_STORES:
            (pid, _root), old = next(iter(_stores.items()))
            del _stores[(pid, _root)]
            if pid == os.getpid():  # a fork's inherited connections belong to the parent
                old.close_when_idle()
        return cached


def _is_text(value: object) -> TypeGuard[str | None]:
    return value is None or type(value) is str


def _text(spec: Mapping[str, object], key: str) -> str | None:
    value = spec.get(key)
    if value is None or isinstance(value, str):
        return value
    msg = f"{key} must be a string or null, got {type(value).__name__}"
    raise UsageError(msg)


@atexit.register
def close_all() -> None:
    """Close this process's cached stores (a forked child leaves its parent's alone)."""
    global _last  # noqa: PLW0603
    with _lock:
        for (pid, _root), cached in list(_stores.items()):
            if pid == os.getpid():
                cached.close_when_idle()
        _stores.clear()
        _last = None


def _conclusion(value: Conclusion | str | None) -> Conclusion | None:
    if value is None or isinstance(value, Conclusion):
        return value
    try:
        return Conclusion(value)
    except ValueError:
        choices = ", ".join(c.value for c in Conclusion)
        msg = f"conclusion {value!r} is not one of {choices} (leave it out while not finished)"
        raise UsageError(msg) from None
