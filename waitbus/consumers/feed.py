"""A subscription that survives daemon restarts: reconnect and resume from the last cursor."""

from __future__ import annotations

# The C module under `socket` (whose import builds enums of every constant): the blocking
# driver needs a plain stream socket. socket.socket is a _socket.socket.
import _socket
import contextlib
import logging
import os
import time
from collections.abc import AsyncGenerator, Generator, Iterator

from waitbus import wire
from waitbus.bus.peercred import peer_uid
from waitbus.errors import NotRunning, ProtocolError, Pruned, Refused, StoreError, UsageError
from waitbus.event import Event, JSONObject
from waitbus.match import AnyOf
from waitbus.paths import StatePaths
from waitbus.wire import Lagged, Live, Reset

# asyncio is imported where the asyncio driver needs it: the blocking driver (`waitbus wait`,
# the blocking API) starts without it, which is a fifth of a short-lived process's start-up.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from typing import TypeAlias

log = logging.getLogger(__name__)
DEFAULT_RECONNECT_S = 5.0
_FIRST_RETRY_S = 0.005
_MAX_RETRY_S = 0.1
_MAX_SILENT_PAUSE_S = 1.0
_READ_BYTES = 262144

Item: TypeAlias = Event | Live | Lagged | Reset
"""What a feed yields: a matching event, "caught up, live from here", "fell behind", or "the
store was replaced: its events follow from its start"."""


class Feed:
    """Yields every event matching `match` after `cursor`, in order, exactly once.

    Between the events it yields `Live` each time the subscription has caught up with the store
    (again after every reconnect), `Lagged` when the daemon moved it back to replay, and
    `Reset` when the store was replaced (moved aside and created again): the new store's
    cursors start again, so the feed goes on from its start, cursor 0. When
    the connection drops, it reconnects within `reconnect_s` and asks for events after the last
    cursor it saw, so a daemon restart loses and repeats nothing. `cursor` is the newest one
    read from the daemon: one read can carry several items, so it may be ahead of the item a
    consumer holds (a consumer that stops early resumes from the cursor of what it took).
    """

    def __init__(self, paths: StatePaths, match: AnyOf, *, cursor: int,
                 payload: bool = False, reconnect_s: float = DEFAULT_RECONNECT_S,
                 accept_pruned: bool = False, generation: str | None = None) -> None:
        self.paths = paths
        self.match = match
        self.cursor = cursor
        # The store `cursor` belongs to (None: not known yet; the daemon says it with `live`).
        self.generation = generation
        self.payload = payload
        self.reconnect_s = reconnect_s
        self.connects = 0
        # Pruned events raise Pruned unless the consumer accepts the gap (a follower such as
        # `tail -f` logs it and goes on).
        self.accept_pruned = accept_pruned
        self._silent_since: float | None = None
        self._silent_ends = 0

    def __repr__(self) -> str:
        return f"<Feed {self.paths.socket} cursor={self.cursor} connects={self.connects}>"

    async def __aiter__(self) -> AsyncGenerator[Item, None]:
        async with contextlib.aclosing(self.batches()) as batches:
            async for batch in batches:
                for item in batch:
                    yield item

    async def events(self) -> AsyncGenerator[Event, None]:
        """Only the events, for consumers that do not care when the feed went live."""
        async with contextlib.aclosing(self.batches()) as batches:
            async for batch in batches:
                for item in batch:
                    if isinstance(item, Event):
                        yield item

    async def batches(self) -> AsyncGenerator[list[Item], None]:
        """The items as they arrive, one list per read from the socket (never empty)."""
        import asyncio

        while True:
            reader, writer = await connect(self.paths, self.reconnect_s)
            self.connects += 1
            answered = False
            try:
                writer.write(self._request())
                await writer.drain()
                decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
                while data := await reader.read(_READ_BYTES):
                    if batch := self._items(decoder, data):
                        answered = True
                        yield batch
            except (ConnectionError, asyncio.IncompleteReadError):
                pass  # the daemon went away: reconnect and resume from self.cursor
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
            await asyncio.sleep(self._pause(answered))

    def blocking_batches(self,
                         deadline: float | None = None) -> Generator[list[Item], None, None]:
        """The same items as `batches`, from a plain blocking socket: no event loop to run.

        A process with nothing else to do (`waitbus wait`, the blocking API) saves the event
        loop's start-up and its per-read task switches. Raises TimeoutError at `deadline`
        (a `time.monotonic()` value), wherever it is.
        """
        while True:
            sock = connect_blocking(self.paths, self.reconnect_s, deadline)
            self.connects += 1
            answered = False
            # One buffer for every read: a fresh 256 KiB per read would be mapped and unmapped
            # by malloc each time (three system calls per message).
            buffer = memoryview(bytearray(_READ_BYTES))
            try:
                sock.sendall(self._request())
                decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
                while read := _receive(sock, buffer, deadline):
                    if batch := self._items(decoder, buffer[:read]):
                        answered = True
                        yield batch
            except ConnectionError:
                pass  # the daemon went away: reconnect and resume from self.cursor
            finally:
                sock.close()
            pause = self._pause(answered)
            if deadline is not None and time.monotonic() + pause >= deadline:
                raise TimeoutError
            time.sleep(pause)

    def blocking_events(self, deadline: float | None = None) -> Generator[Event, None, None]:
        """Only the events of `blocking_batches`."""
        for batch in self.blocking_batches(deadline):
            for item in batch:
                if isinstance(item, Event):
                    yield item

    def _pause(self, answered: bool) -> float:
        """How long to wait before subscribing again after a connection ended.

        A daemon that restarts is reconnected at once. One that keeps closing the subscription
        without a word (it cannot serve it) is backed off from, up to a second, and given up
        on after `reconnect_s`, instead of being hammered.
        """
        if answered:
            self._silent_since = None
            return 0.0
        now = time.monotonic()
        if self._silent_since is None:
            self._silent_since, self._silent_ends = now, 0
        self._silent_ends += 1
        if now - self._silent_since > self.reconnect_s:
            msg = (f"the daemon at {self.paths.socket} closed the subscription {self._silent_ends} "
                   f"times in {now - self._silent_since:.1f} s without answering; see its log "
                   "(`journalctl --user -u waitbus`, or serve's output)")
            raise ProtocolError(msg)
        return float(min(_FIRST_RETRY_S * 2.0 ** min(self._silent_ends, 10), _MAX_SILENT_PAUSE_S))

    def _request(self) -> bytes:
        return wire.encode(wire.Subscribe(self.match, self.cursor, self.payload,
                                          self.generation or None))

    def _items(self, decoder: wire.FrameDecoder, data: bytes | memoryview) -> list[Item]:
        items: list[Item] = []
        for obj in decoder.feed(data):
            # Event frames, nearly all of them, straight to their event: no frame object.
            item = self._event(wire.parse_event(obj)) if obj.get("t") == "event" \
                else self._item(obj)
            if item is not None:
                items.append(item)
        return items

    def _event(self, event: Event) -> Event:
        if event.cursor <= self.cursor:
            msg = f"daemon repeated cursor {event.cursor} (at {self.cursor})"
            raise ProtocolError(msg)
        self.cursor = event.cursor
        return event

    def _item(self, obj: JSONObject) -> Item | None:
        match wire.parse_reply(obj):
            case wire.EventFrame(event=event):
                return self._event(event)
            case Live(cursor=cursor, generation=generation):
                self.cursor = max(self.cursor, cursor)
                self.generation = generation or self.generation
                log.info("live at cursor %d", self.cursor)
                return Live(self.cursor, self.generation)
            case Reset(generation=generation, head=head) as reset:
                log.warning("the event store was replaced (moved aside and created again; its "
                            "generation is now %s, with events up to cursor %d): going on from "
                            "its start, cursor 0 (cursor %d was the old store's)",
                            generation, head, self.cursor)
                self.cursor, self.generation = 0, generation
                return reset
            case wire.Pruned(cursor=cursor):
                if not self.accept_pruned:
                    raise Pruned(self.cursor, cursor)
                log.warning("events after cursor %d up to %d were pruned by retention; going on "
                            "from %d", self.cursor, cursor, cursor)
                self.cursor = max(self.cursor, cursor)
                return None
            case Lagged(cursor=cursor) as lagged:
                log.info("lagged at cursor %d; the daemon replays from the store", cursor)
                return lagged
            case wire.ErrorFrame(message=message, store=True):
                msg = f"the daemon could not read the store: {message}"
                raise StoreError(msg)
            case wire.ErrorFrame(message=message):
                msg = f"the daemon refused the subscription: {message}"
                raise Refused(msg)
            case wire.Status() | wire.PruneReport():
                msg = "unexpected status frame on a subscription"
                raise ProtocolError(msg)


async def connect(paths: StatePaths,
                  reconnect_s: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the daemon, retrying with backoff for up to `reconnect_s`."""
    import asyncio

    for delay in _retries(paths, reconnect_s):
        try:
            reader, writer = await asyncio.open_unix_connection(paths.socket)
        except OSError:
            await asyncio.sleep(delay)
            continue
        try:
            _check_peer(writer.get_extra_info("socket"), paths)
        except BaseException:
            writer.close()
            raise
        return reader, writer
    raise AssertionError  # pragma: no cover: _retries raises when it ends


def connect_blocking(paths: StatePaths, reconnect_s: float,
                     deadline: float | None = None) -> _socket.socket:
    """`connect` for a blocking socket; raises TimeoutError at `deadline` if no daemon by then."""
    for delay in _retries(paths, reconnect_s):
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        if deadline is not None:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            sock.connect(os.fspath(paths.socket))
        except OSError:
            sock.close()
            if deadline is not None and time.monotonic() + delay >= deadline:
                raise TimeoutError from None
            time.sleep(delay)
            continue
        try:
            _check_peer(sock, paths)
        except BaseException:
            sock.close()
            raise
        return sock
    raise AssertionError  # pragma: no cover: _retries raises when it ends


def _check_peer(sock: _socket.socket, paths: StatePaths) -> None:
    """Believe nothing from a socket that another user's process serves."""
    uid = peer_uid(sock)
    if uid != os.getuid():
        msg = (f"the daemon at {paths.socket} runs as uid {uid}, not as you (uid "
               f"{os.getuid()}); refusing to trust it: choose another state directory with "
               "--state-dir or WAITBUS_STATE_DIR")
        raise UsageError(msg)


def _retries(paths: StatePaths, reconnect_s: float) -> Iterator[float]:
    """The pauses between connection attempts; NotRunning once `reconnect_s` has passed."""
    paths.check()
    deadline = time.monotonic() + reconnect_s
    delay = _FIRST_RETRY_S
    while True:
        left = deadline - time.monotonic()
        # Backing off only while no daemon exists; a running daemon is never polled.
        yield min(delay, max(0.0, left))
        if left <= 0:
            raise NotRunning(paths.socket, reconnect_s)
        delay = min(delay * 2, _MAX_RETRY_S)


def _receive(sock: _socket.socket, buffer: memoryview, deadline: float | None) -> int:
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
    return sock.recv_into(buffer)
