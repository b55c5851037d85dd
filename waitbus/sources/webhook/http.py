"""The webhook listener: HTTP/1.1 on loopback, parsed by h11, with limits on size and time.

Each connection is served by `connection.Connection`, imported with the first one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping

from waitbus.errors import SourceFailed
from waitbus.record import record
from waitbus.sources.base import Sink
from waitbus.sources.webhook.exchange import Reply, Request

TYPE_CHECKING = False
if TYPE_CHECKING:
    from waitbus.sources.webhook.connection import Connection

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
        self._open: dict[asyncio.Task[None], Connection] = {}
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
        # Here, not above: h11 (and the dataclasses it imports) load with the first connection,
        # not in every idle daemon (about 1 MB of its memory).
        from waitbus.sources.webhook.connection import Connection

        connection = Connection(self, sink, reader, writer)
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
