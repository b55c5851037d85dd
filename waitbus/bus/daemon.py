"""The daemon: start, run until a signal, drain. Only the doorbell and clients wake it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from waitbus import lockfile, wire
from waitbus.bus import metrics
from waitbus.bus.broadcast import Broadcast
from waitbus.bus.checkpoints import Checkpoints
from waitbus.bus.generations import Generations
from waitbus.bus.metrics import Metrics
from waitbus.bus.peercred import peer_uid
from waitbus.bus.pruning import Pruning
from waitbus.bus.subscriber import Subscriber
from waitbus.bus.writer import Writer
from waitbus.config import Settings
from waitbus.errors import ProtocolError, StoreError, WaitbusError
from waitbus.event import Draft, Event
from waitbus.paths import clear_socket
from waitbus.sources.base import PageHost, Source
from waitbus.store import doorbell
from waitbus.store.store import Store, fold_wal
from waitbus.wire import SourceInfo, SourceState, StatusInfo, SubscriberInfo

log = logging.getLogger(__name__)
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Daemon:
    """`Daemon(settings).serve()` runs one bus over one state directory."""

    def __init__(self, settings: Settings, sources: Sequence[Source] = ()) -> None:
        self.settings = settings
        self.sources = tuple(sources)
        self.started_at_ns = 0
        self.source_state = {s.name: SourceInfo(SourceState.STOPPED) for s in self.sources}
        self._stop = asyncio.Event()
        self._lock_fd = -1
        self._writer: Writer | None = None
        self._store: Store | None = None  # the fan-out's reader; the writer has its own
        self._broadcast: Broadcast | None = None
        self._pruning: Pruning | None = None
        self._checkpoints: Checkpoints | None = None
        self.metrics = Metrics()
        self._lagged_gone = 0  # lagged counts of subscribers that have disconnected
        self._clients: set[asyncio.Task[None]] = set()
        self._generations: Generations | None = None

    def __repr__(self) -> str:
        return f"<Daemon {self.settings.paths.root} {self._broadcast!r}>"

    def stop(self) -> None:
        """Ask a running daemon to drain and return from serve()."""
        self._stop.set()

    async def serve(self, on_ready: Callable[[Daemon], None] | None = None) -> None:
        """Start, run until stop() or a signal, then drain."""
        server, bell = await self._start()
        try:
            if on_ready is not None:
                on_ready(self)
            await self._run()
        finally:
            await self._drain(server, bell)

    async def _start(self) -> tuple[asyncio.Server, socket.socket]:
        paths = self.settings.paths.ensure()
        self._lock_fd = lockfile.take(paths.daemon_lock, "daemon")
        # The daemon's own commits fan out at once instead of ringing its own doorbell.
        self._writer = Writer(paths, on_commit=self._committed)
        await self._writer.start()
        self._store = Store(paths, read_only=True)
        self._generations = Generations(self._store)
        self._broadcast = Broadcast(self._store, batch_rows=self.settings.batch_rows)
        self._pruning = Pruning(Store(paths), self.settings.retention, self._broadcast)
        self._checkpoints = Checkpoints(paths)
        self._broadcast.on_batch = lambda rows: self.metrics.on_fanned_out(rows, time.time_ns())
        self._serve_metrics()
        bell = doorbell.bind(paths.doorbell)
        loop = asyncio.get_running_loop()
        loop.add_reader(bell.fileno(), self._on_ring, bell)
        clear_socket(paths.socket)
        old = os.umask(0o177)
        try:
            server = await asyncio.start_unix_server(self._on_client, path=paths.socket)
        finally:
            os.umask(old)
        os.chmod(paths.socket, 0o600)
        for sig in HANDLED_SIGNALS:
            loop.add_signal_handler(sig, self._stop.set)
        self.started_at_ns = time.time_ns()
        # Rows committed while no daemon ran (or whose ring was lost) go out now.
        self._fan_out()
        self._start_retention()
        return server, bell

    async def _run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                for source in self.sources:
                    group.create_task(self._run_source(source))
                await self._stop.wait()
                raise _Stopping
        except* _Stopping:
            pass

    async def _drain(self, server: asyncio.Server, bell: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        for sig in HANDLED_SIGNALS:
            loop.remove_signal_handler(sig)
        loop.remove_reader(bell.fileno())
        server.close()
        for task in (*self._clients,):
            task.cancel()
        await asyncio.gather(*self._clients, return_exceptions=True)
        if self._writer is not None:
            await self._writer.close()  # what sources handed in is stored before the end
        if self._pruning is not None:
            await self._pruning.close()
            self._pruning.pruner.store.close()
        if self._checkpoints is not None:
            await self._checkpoints.close()
        bell.close()
        paths = self.settings.paths
        for path in (paths.socket, paths.doorbell):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        if self._store is not None:
            self._store.close()
            # The fan-out's reader closed last and, read-only, left the log beside the store.
            fold_wal(paths)
        os.close(self._lock_fd)

    async def commit(self, draft: Draft) -> tuple[Event, bool]:
        """The in-process sink for sources: commit in the writer's thread, then fan out."""
        assert self._writer is not None
        return await self._writer.commit(draft)

    def append(self, draft: Draft) -> tuple[Event, bool]:
        """`commit` for callers that cannot await: blocks its thread until the row is stored."""
        assert self._writer is not None
        return self._writer.append(draft)

    def status(self) -> StatusInfo:
        assert self._broadcast is not None
        b = self._broadcast
        return StatusInfo(
            pid=os.getpid(), state_dir=str(self.settings.paths.root), head=b.head,
            started_at=self.started_at_ns, fanned_out=b.fanned_out,
            subscribers=tuple(
                SubscriberInfo(uid=s.uid, cursor=s.cursor, lag=max(0, b.head - s.cursor),
                               live=s.live, lagged=s.lagged_count)
                for s in b.subscribers),
            sources=dict(self.source_state),
            retention=None if self._pruning is None else self._pruning.status(),
            pending_commits=0 if self._writer is None else self._writer.pending,
            oldest_pending_s=0.0 if self._writer is None else self._writer.oldest_pending_s(),
            generation=None if self._generations is None else self._generations.current)

    def _serve_metrics(self) -> None:
        broadcast, pruning, paths = self._broadcast, self._pruning, self.settings.paths
        assert broadcast is not None
        assert pruning is not None
        subs = broadcast.subscribers
        add = self.metrics.add
        add("waitbus_head_cursor", "gauge", "The newest cursor offered to live subscribers.",
            lambda: [({}, broadcast.head)])
        add("waitbus_subscribers", "gauge", "Connected subscribers, live or replaying.",
            lambda: [({"state": "live"}, sum(s.live for s in subs)),
                     ({"state": "replaying"}, sum(not s.live for s in subs))])
        add("waitbus_subscriber_lag_events", "gauge",
            "Events the furthest-behind subscriber has yet to be offered.",
            lambda: [({}, max((broadcast.head - s.cursor for s in subs), default=0))])
        add("waitbus_subscriber_lagged_total", "counter",
            "Times a subscriber fell behind its queue and went back to replay.",
            lambda: [({}, self._lagged_gone + sum(s.lagged_count for s in subs))])
        add("waitbus_store_bytes", "gauge", "Bytes the store's files take on disk.",
            lambda: [({"file": name}, _file_bytes(paths.store, suffix))
                     for name, suffix in (("db", ""), ("wal", "-wal"))])
        add("waitbus_retention_pruned_events_total", "counter",
            "Events deleted by retention since the daemon started.",
            lambda: [({}, pruning.pruned_rows)])
        add("waitbus_retention_pruned_through", "gauge",
            "Every cursor at or below this has been pruned.", lambda: [({}, pruning.boundary)])
        for source in self.sources:
            if isinstance(source, PageHost):
                source.add_page("/metrics", metrics.CONTENT_TYPE, self.metrics.render)
                add("waitbus_webhook_rejects_total", "counter",
                    "Webhook requests refused, by reason.", _by("reason", source.rejects))

    def _fan_out(self) -> None:
        assert self._broadcast is not None
        rows = self._broadcast.fan_out()
        if self._pruning is not None:
            self._pruning.on_fan_out(rows)
        if self._checkpoints is not None:
            self._checkpoints.on_fan_out(rows)

    def _start_retention(self) -> None:
        assert self._pruning is not None
        if not self._pruning.pruner.size().incremental:
            log.warning("%s predates incremental vacuum: retention stops it growing but cannot "
                        "shrink it; run `waitbus prune --vacuum` once (emits wait while it "
                        "rewrites the file)", self.settings.paths.store)
        if self.settings.retention.bounded:
            self._pruning.start()

    async def _serve_prune(self, request: wire.PruneRequest,
                           writer: asyncio.StreamWriter) -> None:
        assert self._pruning is not None
        try:
            report = await self._pruning.run(request.retention, dry_run=request.dry_run)
        except WaitbusError as exc:
            writer.write(wire.encode(wire.ErrorFrame(f"retention failed: {exc}")))
        else:
            writer.write(wire.encode(wire.PruneReport(report.to_json())))
        await writer.drain()

    def _on_ring(self, bell: socket.socket) -> None:
        doorbell.drain(bell)
        self._committed()

    def _committed(self) -> None:
        try:
            self._follow_store()
            self._fan_out()
        except Exception:
            # A store error must not kill the daemon (nor fail a source's committed append);
            # the next ring or subscriber retries from the same head.
            log.exception("fan-out failed; will retry on the next ring")

    def _follow_store(self) -> None:
        """Serve the store now at the path if it was replaced (`Generations.follow`)."""
        assert self._generations is not None
        assert self._broadcast is not None
        if self._generations.follow(self._broadcast) and self._pruning is not None:
            self._pruning.boundary = self._generations.store.pruned().through

    def _stale(self, request: wire.Subscribe) -> bool:
        assert self._generations is not None
        assert self._broadcast is not None
        boundary = 0 if self._pruning is None else self._pruning.boundary
        return self._generations.stale(
            request, max(self._broadcast.head, boundary, self._generations.store.newest()))

    def report(self, source: str, problem: str | None) -> None:
        """A source's word on its health: said once on the daemon's log, kept for status."""
        before = self.source_state.get(source)
        degraded = before is not None and before.state is SourceState.DEGRADED
        if problem is None:
            if degraded:
                log.warning("source %s works again", source)
                self.source_state[source] = SourceInfo(SourceState.RUNNING)
            return
        if not degraded or before is None or before.error != problem:
            log.warning("source %s: %s", source, problem)
        self.source_state[source] = SourceInfo(SourceState.DEGRADED, problem)

    async def _run_source(self, source: Source) -> None:
        self.source_state[source.name] = SourceInfo(SourceState.RUNNING)
        try:
            await source.run(self)
        except asyncio.CancelledError:
            self.source_state[source.name] = SourceInfo(SourceState.STOPPED)
            raise
        except WaitbusError as exc:
            # An expected failure that says what to do; no traceback on serve's output.
            log.warning("source %s failed: %s", source.name, exc)
            self.source_state[source.name] = SourceInfo(SourceState.FAILED, str(exc))
        except Exception as exc:
            log.exception("source %s failed", source.name)
            self.source_state[source.name] = SourceInfo(SourceState.FAILED, str(exc))
        else:
            self.source_state[source.name] = SourceInfo(SourceState.FINISHED)

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            await self._serve_client(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            if not self._stop.is_set():
                raise
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_client(self, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        sock: socket.socket = writer.get_extra_info("socket")
        uid = peer_uid(sock)
        if uid != os.getuid():
            log.warning("refused a client with uid %d (the daemon runs as %d)", uid, os.getuid())
            return
        decoder = wire.FrameDecoder(wire.MAX_REQUEST_BYTES)
        try:
            request = await _read_request(reader, decoder)
        except ProtocolError as exc:
            writer.write(wire.encode(wire.ErrorFrame(f"{exc}; closing this connection")))
            await writer.drain()
            return
        if request is None:
            return
        if isinstance(request, wire.StatusRequest):
            writer.write(wire.encode(wire.Status(self.status())))
            await writer.drain()
            return
        if isinstance(request, wire.PruneRequest):
            await self._serve_prune(request, writer)
            return
        await self._serve_subscriber(uid, request, reader, writer)

    async def _serve_subscriber(self, uid: int, request: wire.Subscribe,
                                reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter) -> None:
        broadcast, generations = self._broadcast, self._generations
        assert broadcast is not None
        assert generations is not None
        replaced = generations.replaced
        try:
            self._follow_store()
            # A row whose ring was lost (its writer died between commit and ring) goes out now.
            self._fan_out()
            stale = self._stale(request)
        except StoreError as exc:
            log.warning("could not read the store for a new subscriber: %s", exc)
            writer.write(wire.encode(wire.ErrorFrame(str(exc), store=True)))
            return
        if stale or replaced is not generations.replaced:
            writer.write(generations.reset_frame(request, broadcast.head))
            return
        since = broadcast.head if request.since is None else request.since
        pruned = self._pruning.boundary if self._pruning is not None else 0
        if since < pruned:
            # Said before any event, so the client never mistakes the rest for everything.
            writer.write(wire.encode(wire.Pruned(pruned)))
            since = pruned
        subscriber = Subscriber(uid=uid, writer=writer, request=request, since=since,
                                max_queue_frames=self.settings.max_queue_frames,
                                max_queue_bytes=self.settings.max_queue_bytes,
                                replay_batch_bytes=self.settings.replay_batch_bytes,
                                generation=generations.current)
        broadcast.subscribers.add(subscriber)
        paths, batch = self.settings.paths, self.settings.batch_rows
        delivery = asyncio.ensure_future(
            subscriber.serve(lambda: Store(paths, read_only=True), lambda: broadcast.head, batch))
        # A subscriber sends nothing after its request: EOF or any byte ends the connection.
        reading = asyncio.ensure_future(reader.read(1))
        try:
            ends: set[asyncio.Future[Any]] = {delivery, reading, replaced}
            await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
            if replaced.done() and not delivery.done():
                # Nothing of the old store may follow the reset: stop the delivery first.
                delivery.cancel()
                await asyncio.gather(delivery, return_exceptions=True)
                writer.write(generations.reset_frame(request, broadcast.head))
            elif reading.done() and not reading.cancelled() and reading.exception() is None \
                    and reading.result():
                message = "a subscriber sends one request and then only reads; closing"
                writer.write(wire.encode(wire.ErrorFrame(message)))
            elif delivery.done() and not delivery.cancelled():
                _say_failed_delivery(delivery.exception(), subscriber, writer)
        finally:
            broadcast.subscribers.discard(subscriber)
            self._lagged_gone += subscriber.lagged_count
            for task in (delivery, reading):
                task.cancel()
            await asyncio.gather(delivery, reading, return_exceptions=True)


def _say_failed_delivery(exc: BaseException | None, subscriber: Subscriber,
                         writer: asyncio.StreamWriter) -> None:
    """A subscriber's replay or delivery raised: log it and tell the client why it ends."""
    if exc is None or isinstance(exc, ConnectionError):
        return  # the client went away
    if isinstance(exc, StoreError):
        log.error("could not replay the store for a subscriber at cursor %d: %s",
                  subscriber.cursor, exc)
        writer.write(wire.encode(wire.ErrorFrame(str(exc), store=True)))
        return
    log.error("delivery to a subscriber failed", exc_info=exc)
    writer.write(wire.encode(wire.ErrorFrame(f"the daemon failed delivering events: {exc!r}; "
                                             "see its log")))


class _Stopping(Exception):
    """Raised inside the run TaskGroup to cancel the sources on stop."""


async def _read_request(reader: asyncio.StreamReader,
                        decoder: wire.FrameDecoder) -> wire.Request | None:
    while True:
        data = await reader.read(65536)
        if not data:
            return None
        frames = decoder.feed(data)
        if frames:
            if len(frames) > 1 or decoder.pending_bytes:
                msg = "one request per connection"
                raise ProtocolError(msg)
            return wire.parse_request(frames[0])


def _by(label: str, counts: Counter[str]) -> Callable[[], list[tuple[dict[str, str], float]]]:
    return lambda: [({label: key}, n) for key, n in sorted(counts.items())]


def _file_bytes(path: os.PathLike[str], suffix: str) -> int:
    try:
        return os.stat(os.fspath(path) + suffix).st_size
    except FileNotFoundError:
        return 0
