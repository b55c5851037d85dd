"""One webhook connection: HTTP/1.1 requests parsed by h11, each whole within its limits.

Imported by the listener with its first connection, so an idle daemon does not load h11.
"""

from __future__ import annotations

import asyncio
import fcntl
import http
import sys
import termios
import time
from collections.abc import Callable

import h11

from waitbus.errors import WaitbusError
from waitbus.event import dump_json
from waitbus.sources.base import Sink
from waitbus.sources.webhook.exchange import Reply, Request
from waitbus.sources.webhook.http import READ_CHUNK_BYTES, Listener, log


class _Refusal(Exception):
    """A request refused before its route ran; the connection closes after the reply."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Connection:
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
