"""The bridge process: start (lock, connect, stream), run export and import, drain."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
import urllib.parse
from collections.abc import Callable

from nats.aio.client import Client

from waitbus import lockfile
from waitbus.bridge import link, stream
from waitbus.bridge.config import Settings
from waitbus.bridge.exporter import NAME, Exporter
from waitbus.bridge.importer import Importer
from waitbus.errors import WaitbusError
from waitbus.event import JSON, JSONObject
from waitbus.store.store import Store

log = logging.getLogger(__name__)
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Bridge:
    """`Bridge(settings).serve()` links one state directory to one JetStream stream."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.exporter: Exporter | None = None
        self.importer: Importer | None = None
        self._stop = asyncio.Event()
        self._failure: WaitbusError | None = None
        self._store: Store | None = None
        self._state: JSONObject = {
            "host": settings.host, "url": _public(settings.url), "stream": settings.stream,
            "pid": os.getpid(), "started_at": time.time_ns(), "connected": False,
            "import_pending": None, "error": None}

    def __repr__(self) -> str:
        return f"<Bridge {self.settings.host} {self.exporter!r} {self.importer!r}>"

    @property
    def public_url(self) -> str:
        return _public(self.settings.url)

    def stop(self) -> None:
        self._stop.set()

    async def serve(self, on_ready: Callable[[Bridge], None] | None = None) -> None:
        """Start, run until stop() or a signal, then drain.

        Raises:
            link.NatsRefused: the server refused the credentials (at start or later).
            stream.StreamMismatch: the stream's settings cannot carry the bus.
        """
        lock_fd = lockfile.take(self.settings.paths.ensure().bridge_lock, "bridge")
        self._store = Store(self.settings.paths)
        client: Client | None = None
        try:
            client = await link.connect(self.settings, on_state=self._on_connected,
                                        on_refused=self._on_refused)
            js = client.jetstream(timeout=5.0)
            await stream.ensure(js, self.settings)
            self.exporter = Exporter(js, self.settings, self._store)
            self.importer = Importer(js, self.settings, self._store,
                                     on_progress=self._on_import_progress)
            if on_ready is not None:
                on_ready(self)
            await self._run(self.exporter, self.importer)
        finally:
            await self._drain(client, lock_fd)
        if self._failure is not None:
            raise self._failure

    async def _run(self, exporter: Exporter, importer: Importer) -> None:
        loop = asyncio.get_running_loop()
        for sig in HANDLED_SIGNALS:
            loop.add_signal_handler(sig, self._stop.set)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(exporter.run())
                group.create_task(importer.run())
                await self._stop.wait()
                raise _Stopping
        except* _Stopping:
            pass
        except* WaitbusError as group:
            self._failure = self._failure or _first(group)
        finally:
            for sig in HANDLED_SIGNALS:
                loop.remove_signal_handler(sig)

    async def _drain(self, client: Client | None, lock_fd: int) -> None:
        if client is not None and not client.is_closed:
            await client.close()
        if self._store is not None:
            self._report(connected=False)
            self._store.close()
        os.close(lock_fd)

    def _on_connected(self, connected: bool) -> None:
        log.info("%s %s", "connected to" if connected else "lost", self._state["url"])
        self._report(connected=connected)

    def _on_refused(self, problem: link.NatsRefused) -> None:
        self._failure = problem
        self._report(error=str(problem))
        self._stop.set()

    def _on_import_progress(self, pending: int) -> None:
        if pending != self._state["import_pending"]:
            self._report(import_pending=pending)

    def _report(self, **changes: JSON) -> None:
        self._state.update(changes)
        if self._store is not None:
            try:
                self._store.mark_bridge(NAME, state=self._state)
            except WaitbusError:
                log.exception("could not record the bridge's state")


def _first(group: BaseExceptionGroup[WaitbusError]) -> WaitbusError:
    found = group.exceptions[0]
    return _first(found) if isinstance(found, BaseExceptionGroup) else found


class _Stopping(Exception):
    """Raised inside the run TaskGroup to cancel export and import on stop."""


def _public(url: str) -> str:
    """The URL without any user or password in it, for logs and status."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
