"""A subscription that survives daemon restarts: reconnect and resume from the last cursor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from waitbus import wire
from waitbus.errors import NotRunning, ProtocolError, Refused
from waitbus.event import Event
from waitbus.match import AnyOf
from waitbus.paths import StatePaths
from waitbus.store.store import Store

log = logging.getLogger(__name__)
DEFAULT_RECONNECT_S = 5.0
_FIRST_RETRY_S = 0.005
_MAX_RETRY_S = 0.1


class Feed:
    """Yields every event matching `filter` after `cursor`, in order, exactly once.

    When the connection drops, it reconnects within `reconnect_s` and asks for events after
    the last cursor it saw, so a daemon restart loses and repeats nothing.
    """

    def __init__(self, paths: StatePaths, filter: AnyOf, *, cursor: int,
                 payload: bool = False, reconnect_s: float = DEFAULT_RECONNECT_S,
                 on_live: Callable[[int], None] | None = None) -> None:
        self.paths = paths
        self.filter = filter
        self.cursor = cursor
        self.payload = payload
        self.reconnect_s = reconnect_s
        self.connects = 0
        self.live = asyncio.Event()
        self.on_live = on_live

    def __repr__(self) -> str:
        return f"<Feed {self.paths.socket} cursor={self.cursor} connects={self.connects}>"

    async def __aiter__(self) -> AsyncGenerator[Event, None]:
        while True:
            reader, writer = await connect(self.paths, self.reconnect_s)
            self.connects += 1
            try:
                request = wire.Subscribe(self.filter, self.cursor, self.payload)
                writer.write(wire.encode(request))
                await writer.drain()
                async for event in self._events(reader):
                    yield event
            except (ConnectionError, asyncio.IncompleteReadError):
                pass  # the daemon went away: reconnect and resume from self.cursor
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
            self.live.clear()

    async def _events(self, reader: asyncio.StreamReader) -> AsyncIterator[Event]:
        decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
        while True:
            data = await reader.read(262144)
            if not data:
                return
            for obj in decoder.feed(data):
                match wire.parse_reply(obj):
                    case wire.EventFrame(event=event):
                        if event.cursor <= self.cursor:
                            msg = f"daemon repeated cursor {event.cursor} (at {self.cursor})"
                            raise ProtocolError(msg)
                        self.cursor = event.cursor
                        yield event
                    case wire.Live(cursor=cursor):
                        self.cursor = max(self.cursor, cursor)
                        self.live.set()
                        log.info("live at cursor %d", self.cursor)
                        if self.on_live is not None:
                            self.on_live(self.cursor)
                    case wire.Lagged(cursor=cursor):
                        self.live.clear()
                        log.info("lagged at cursor %d; the daemon replays from the store", cursor)
                    case wire.ErrorFrame(message=message):
                        msg = f"the daemon refused the subscription: {message}"
                        raise Refused(msg)
                    case wire.Status():
                        msg = "unexpected status frame on a subscription"
                        raise ProtocolError(msg)


async def connect(paths: StatePaths,
                  reconnect_s: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the daemon, retrying with backoff for up to `reconnect_s`."""
    deadline = time.monotonic() + reconnect_s
    delay = _FIRST_RETRY_S
    while True:
        try:
            return await asyncio.open_unix_connection(paths.socket)
        except OSError:
            if time.monotonic() >= deadline:
                raise NotRunning(paths.socket, reconnect_s) from None
            # Backing off only while no daemon exists; a running daemon is never polled.
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, _MAX_RETRY_S)


def start_cursor(paths: StatePaths, since: int | None = None, since_ns: int | None = None) -> int:
    """Where a new wait or subscription starts: an explicit cursor, a time, or the store's head.

    Reading the head before connecting is what makes a wait race-free: an event committed after
    this call has a higher cursor, so the replay delivers it even if it beat the connection.
    """
    if since is not None:
        return since
    if not paths.store.exists():
        return 0
    with Store(paths, create=False) as store:
        return store.head() if since_ns is None else store.cursor_before(since_ns)


async def status(paths: StatePaths, *, reconnect_s: float = DEFAULT_RECONNECT_S) -> wire.Status:
    """Ask the daemon for its state."""
    reader, writer = await connect(paths, reconnect_s)
    try:
        writer.write(wire.encode(wire.StatusRequest()))
        await writer.drain()
        decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
        while data := await reader.read(65536):
            for obj in decoder.feed(data):
                reply = wire.parse_reply(obj)
                if isinstance(reply, wire.Status):
                    return reply
                if isinstance(reply, wire.ErrorFrame):
                    raise Refused(reply.message)
    finally:
        writer.close()
    raise NotRunning(paths.socket, reconnect_s)
