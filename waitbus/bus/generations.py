"""The store's generation in the daemon: a replaced store is followed, and its subscribers told."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from waitbus import wire
from waitbus.bus.broadcast import Broadcast
from waitbus.paths import StatePaths
from waitbus.store import schema
from waitbus.store.store import Store, store_uri

log = logging.getLogger(__name__)


class Generations:
    """Follows the store at the path when it is replaced (moved aside and created again).

    `current` is the generation of the store served. `replaced` is done once that store has
    been replaced: every subscriber of it waits on it, and then ends with a `reset`. A store of
    another generation numbers its events from 1 again, so the fan-out starts over at its
    first event instead of skipping every event up to the old head.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.current = store.generation
        self.replaced: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def __repr__(self) -> str:
        return f"<Generations current={self.current} replaced={self.replaced.done()}>"

    def follow(self, broadcast: Broadcast) -> bool:
        """Reopen on the store now at the path if it was replaced; True when its generation
        differs (the caller resets what depends on cursors)."""
        store = self.store
        if not store.replaced() or not store.paths.store.exists():
            return False  # moved away and not created again yet: the next writer creates it
        if not _has_schema(store.paths):
            # Still being created: its creator writes the schema under the write lock, which
            # the loop never waits for, and rings after its first commit.
            return False
        store.reopen_if_replaced()
        if store.generation == self.current:
            return False  # a copy of the same store: its cursors mean what they meant
        log.warning("the event store %s was replaced (generation %s, was %s): its cursors start "
                    "again; %d subscribers are told to subscribe again from its start",
                    store.paths.store, store.generation, self.current, len(broadcast.subscribers))
        self.current = store.generation
        for subscriber in broadcast.subscribers:
            subscriber.live = False  # offered nothing more: its own task sends the reset
        broadcast.subscribers.clear()
        broadcast.head = 0
        self.replaced.set_result(None)
        self.replaced = asyncio.get_running_loop().create_future()
        return True

    def stale(self, request: wire.Subscribe, newest: int) -> bool:
        """Whether a subscription's cursor belongs to a store this one replaced; `newest` is
        the newest cursor this store has handed out."""
        if request.generation is not None:
            return request.generation != self.current
        # Cursors are never reused: one above every cursor this store handed out is another's.
        return request.since is not None and request.since > newest

    def reset_frame(self, request: wire.Subscribe, head: int) -> bytes:
        """What a subscriber of a replaced store is told. A client older than `reset` gets an
        error it understands, and ends on it, instead of a frame it cannot read."""
        if request.version >= 2:
            return wire.encode(wire.Reset(self.current, head))
        message = (f"the event store {self.store.paths.store} was replaced (its generation is "
                   f"now {self.current}): its cursors start again from 1 and mean other events "
                   "than the cursors you have; subscribe again from cursor 0 to follow it (a "
                   "newer waitbus does so by itself)")
        return wire.encode(wire.ErrorFrame(message, store=True))


def _has_schema(paths: StatePaths) -> bool:
    """Whether the store at `paths` has this version's schema, read without any lock."""
    try:
        db = sqlite3.connect(store_uri(paths, "ro"), uri=True)
    except sqlite3.Error:
        return False
    try:
        return schema.current(db)
    except sqlite3.Error:
        return False  # not yet a database, or busy being made one
    finally:
        db.close()
