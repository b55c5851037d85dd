"""The webhook listener: HTTP/1.1 on loopback, parsed by h11, with limits on size and time."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import http
import logging
import sys
import termios
import time
from collections import Counter
from collections.abc import Callable, Mapping

import h11

from waitbus.errors import SourceFailed, WaitbusError
from waitbus.event import dump_json
from waitbus.record import record
from waitbus.sources.base import Sink
from waitbus.sources.webhook.exchange import Reply, Request

log = logging.getLogger(__name__)
HOST = "127.0.0.1"
READ_CHUNK_BYTES = 65536
# Under pressure, a connection that has sent part of a request for this long gives way.
TRICKLE_GRACE_S = 1.0
# A route gets the whole request and the time it arrived (ns) and returns the reply.
Route = Callable[[Request, int], Reply]


@record
class Limits:
    """What one request may take before it is refused."""

    max_body_bytes: int = 1024 * 1024
    max_header_bytes: int = 16 * 1024
    request_timeout_s: float = 10.0
    # Open connections; at the limit a new one takes the slot of the connection that has been
    # waiting longest for its request to arrive whole (an idle or trickling one).
    max_connections: int = 64


DEFAULT_LIMITS = Limits()


class Listener:
    """A `Source` serving webhook routes on 127.0.0.1; every body is checked before it is stored."""

    name = "webhook"

    def __init__(self, port: int, routes: Mapping[str, Route], limits: Limits = DEFAULT_LIMITS,
                 on_listening: Callable[[str], None] | None = None) -> None:
        self.port = port
        self.routes = dict(routes)
        self.limits = limits
        self.on_listening = on_listening
        self.url: str | None = None
        self.rejects: Counter[str] = Counter()
        self.pages: dict[str, tuple[str, Callable[[], bytes]]] = {}
        self.evicted = 0  # connections closed to make room for newer ones
        self._open: dict[asyncio.Task[None], _Connection] = {}
        self._pressed = False
        self._sink: Sink | None = None

    def add_page(self, path: str, content_type: str, render: Callable[[], bytes]) -> None:
        """Answer GET `path` with `render()` (the daemon's /metrics)."""
        self.pages[path] = (content_type, render)

    def __repr__(self) -> str:
        where = self.url or f"{HOST}:{self.port} (not listening)"
        return (f"<Listener {where} routes={sorted(self.routes)} open={len(self._open)} "
                f"evicted={self.evicted}>")

    async def run(self, sink: Sink) -> None:
        """Serve until cancelled; a port that cannot be bound fails the source (said by serve
        and status); the rest of the daemon goes on."""
        self._sink = sink
        try:
            server = await asyncio.start_server(
                lambda r, w: self._on_connection(sink, r, w), HOST, self.port)
        except OSError as exc:
            msg = (f"cannot listen on {HOST}:{self.port} ({exc.strerror or exc}); choose another "
                   "port with `waitbus serve --listen-port`, or `off`")
            raise SourceFailed(msg) from exc
        self.url = "http://{}:{}".format(*server.sockets[0].getsockname()[:2])
        log.info("webhook listener on %s", self.url)
        if self.on_listening is not None:
            self.on_listening(self.url)
        try:
            await asyncio.Event().wait()
        finally:
            server.close()
            tasks = [*self._open]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _on_connection(self, sink: Sink, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._open) >= self.limits.max_connections and not self._evict():
            self.rejects["no_free_connection"] += 1
            writer.close()
            return
        connection = _Connection(self, sink, reader, writer)
        self._open[task] = connection
        try:
            await connection.serve()
        except (ConnectionError, TimeoutError):
            pass  # the client went away or stopped reading: nothing was half-stored
        finally:
            self._open.pop(task, None)
            writer.close()
            self._ease()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _evict(self) -> bool:
        """Make room: close the idle connection that has waited longest for a request, else
        one that has trickled part of a request for over a second.

        Holding a silent connection costs a sender nothing; a real delivery sends its request
        at once, so it is never idle, and is done long before it could be the oldest trickler.
        """
        waiting = sorted((c.waiting_since, id(task), task) for task, c in self._open.items()
                         if c.waiting_since is not None)
        now = time.monotonic()
        victim = next((task for _since, _key, task in waiting if self._open[task].idle()),
                      None)
        if victim is None and waiting and now - waiting[0][0] >= TRICKLE_GRACE_S:
            victim = waiting[0][2]
        if victim is None:
            return False  # every slot is busy with a request: refuse the newcomer
        self._open.pop(victim).abort()
        self.evicted += 1
        self.rejects["evicted"] += 1
        if not self._pressed:
            self._pressed = True
            problem = (f"under pressure: all {self.limits.max_connections} connections were "
                       "taken, so the ones waiting longest for a whole request are closed to "
                       "make room; something local is holding connections open")
            log.warning("webhook listener %s", problem)
            if self._sink is not None:
                self._sink.report(self.name, problem)
        return True

    def _ease(self) -> None:
        """End a pressure episode once half the connections are free again."""
        if self._pressed and len(self._open) <= self.limits.max_connections // 2:
            self._pressed = False
            log.warning("webhook listener: pressure over; %d connections closed to make room "
                        "so far", self.evicted)
            if self._sink is not None:
                self._sink.report(self.name, None)


class _Refusal(Exception):
    """A request refused before its route ran; the connection closes after the reply."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Connection:
    """One client connection: requests in turn, each whole within the time limit."""

    def __init__(self, listener: Listener, sink: Sink, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.routes = listener.routes
        self.pages = listener.pages
        self.rejects = listener.rejects
        self.limits = listener.limits
        self.sink = sink
        self.reader = reader
        self.writer = writer
        self.conn = h11.Connection(h11.SERVER,
                                   max_incomplete_event_size=self.limits.max_header_bytes)
        self.received_any = False
        # Since when this connection has been waiting for a whole request; None while one is
        # being answered. The listener evicts the longest waiting when it runs out of room.
        self.waiting_since: float | None = time.monotonic()

    def abort(self) -> None:
        """Drop the connection now; its serve() sees the end of the stream and returns."""
        self.writer.transport.abort()

    def idle(self) -> bool:
        """Nothing of the current request has arrived, read or still in the kernel's buffer."""
        # Bytes the loop has read for this connection but its task has not taken yet sit in
        # the StreamReader, which has no public way to say so.
        if self.received_any:
            return False
        buffered: bytes | bytearray = getattr(self.reader, "_buffer", b"")
        if buffered:
            return False
        sock = self.writer.get_extra_info("socket")
        if sock is None:
            return True
        try:
            pending = fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
        except OSError:
            return True  # the socket is already gone
        return int.from_bytes(pending, sys.byteorder) == 0

    async def serve(self) -> None:
        while True:
            self.received_any = False
            self.waiting_since = time.monotonic()
            try:
                async with asyncio.timeout(self.limits.request_timeout_s):
                    request = await self._read_request()
            except TimeoutError:
                if self.received_any:
                    await self._send(408, "the request did not arrive whole in "
                                          f"{self.limits.request_timeout_s:g} s", close=True)
                return
            except _Refusal as refusal:
                await self._send(refusal.status, str(refusal), close=True)
                return
            if request is None:
                return
            self.waiting_since = None
            if request.path in self.pages:
                await self._send_page(*self.pages[request.path])
                if self.conn.our_state is not h11.DONE or self.conn.their_state is not h11.DONE:
                    return
                self.conn.start_next_cycle()
                continue
            reply = await self._answer(request)
            # A refused body closes its connection, so a bad sender gets no second try for free.
            await self._send(reply.status, reply.message, close=reply.status >= 400)
            if self.conn.our_state is not h11.DONE or self.conn.their_state is not h11.DONE:
                return
            self.conn.start_next_cycle()

    async def _read_request(self) -> Request | None:
        head: h11.Request | None = None
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise _Refusal(exc.error_status_hint, f"bad HTTP request: {exc}") from None
            if event is h11.NEED_DATA:
                await self._receive()
            elif isinstance(event, h11.Request):
                head = event
                self._check_head(event)
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > self.limits.max_body_bytes:
                    raise _Refusal(413, self._too_large())
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return _request(head, b"".join(chunks))
            elif isinstance(event, h11.ConnectionClosed):
                return None

    async def _receive(self) -> None:
        if self.conn.they_are_waiting_for_100_continue:
            go_on = h11.InformationalResponse(status_code=100, headers=[])
            self.writer.write(self.conn.send(go_on) or b"")
        data = await self.reader.read(READ_CHUNK_BYTES)
        self.received_any = self.received_any or bool(data)
        self.conn.receive_data(data)

    def _check_head(self, head: h11.Request) -> None:
        path = head.target.decode("ascii", "replace").partition("?")[0]
        if path in self.pages:
            if head.method != b"GET":
                raise _Refusal(405, f"{path} takes GET only")
            return
        if path not in self.routes:
            known = ", ".join(sorted(self.routes))
            raise _Refusal(404, f"no webhook route {path!r}; routes: {known}")
        if head.method != b"POST":
            raise _Refusal(405, f"{path} takes POST only")
        head_bytes = len(head.target) + sum(len(k) + len(v) + 4 for k, v in head.headers)
        if head_bytes > self.limits.max_header_bytes:
            # h11 bounds only a head that arrives in pieces; one that arrives whole is checked here.
            raise _Refusal(431, f"request headers are over the {self.limits.max_header_bytes}-"
                                "byte limit")
        headers = _headers(head)
        media = headers.get("content-type", "").partition(";")[0].strip().lower()
        if media != "application/json":
            raise _Refusal(415, f"content type {media or 'none'!r} is not application/json; "
                                "set the sender's content type to application/json")
        length = headers.get("content-length")
        if length is not None and int(length) > self.limits.max_body_bytes:
            raise _Refusal(413, self._too_large())

    def _too_large(self) -> str:
        return f"body is over the {self.limits.max_body_bytes}-byte limit"

    async def _answer(self, request: Request) -> Reply:
        route = self.routes[request.path]
        try:
            reply = route(request, time.time_ns())
        except Exception:
            log.exception("webhook route %s failed on a request", request.path)
            return Reply(500, "the route failed on this body; nothing was stored")
        new = 0
        try:
            # Answered only once durable: a 2xx means the sender need never deliver it again.
            for draft in reply.drafts:
                new += (await self.sink.commit(draft))[1]
        except WaitbusError as exc:
            return Reply(503, f"the store refused the event ({exc}); deliver it again later")
        log.info("webhook %s %d: %s (%d new of %d)", request.path, reply.status, reply.message,
                 new, len(reply.drafts))
        if reply.drafts and not new:
            return Reply(reply.status, f"{reply.message} (a redelivery: already stored)")
        return Reply(reply.status, reply.message)

    async def _send(self, status: int, message: str, *, close: bool) -> None:
        if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        if status >= 400:
            self.rejects[_reason(status)] += 1
        key = "message" if status < 400 else "error"
        payload = (dump_json({key: message}) + "\n").encode()
        await self._respond(status, "application/json", payload, close=close)

    async def _send_page(self, content_type: str, render: Callable[[], bytes]) -> None:
        await self._respond(200, content_type, render(), close=False)

    async def _respond(self, status: int, content_type: str, payload: bytes, *,
                       close: bool) -> None:
        headers = [("content-type", content_type), ("content-length", str(len(payload)))]
        if close:
            headers.append(("connection", "close"))
        reason = http.HTTPStatus(status).phrase.encode() if status in _STATUSES else b""
        data = self.conn.send(h11.Response(status_code=status, headers=headers, reason=reason))
        data = (data or b"") + (self.conn.send(h11.Data(data=payload)) or b"")
        data += self.conn.send(h11.EndOfMessage()) or b""
        self.writer.write(data)
        async with asyncio.timeout(self.limits.request_timeout_s):
            await self.writer.drain()


_STATUSES = frozenset(int(s) for s in http.HTTPStatus)


def _reason(status: int) -> str:
    """A metric label for a refusal: the status phrase in snake case, e.g. payload_too_large."""
    if status not in _STATUSES:
        return str(status)
    return http.HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")


def _headers(head: h11.Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in head.headers:
        key = name.decode("ascii", "replace")
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _request(head: h11.Request, content: bytes) -> Request:
    path = head.target.decode("ascii", "replace").partition("?")[0]
    return Request(head.method.decode("ascii", "replace"), path, _headers(head), content)
