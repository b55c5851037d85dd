"""Export: every wanted local event, in cursor order, published once; the cursor moves after."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext

from waitbus import cloudevents
from waitbus.bridge import subjects
from waitbus.bridge.config import Settings
from waitbus.consumers.feed import Feed, Item
from waitbus.errors import NotRunning
from waitbus.event import Event
from waitbus.match import EVERYTHING
from waitbus.record import replace
from waitbus.store.store import Store

log = logging.getLogger(__name__)
NAME = "nats"
# Acknowledged publishes between two commits of the export cursor: a crash re-publishes at most
# this many events (the duplicate window drops them), and the cursor costs one commit per batch.
MARK_EVERY = 64
_MSG_ID = "Nats-Msg-Id"
_RETRY_FIRST_S = 0.05
_RETRY_MAX_S = 2.0
_TRANSIENT = (nats.errors.TimeoutError, nats.errors.NoRespondersError,
              nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError,
              nats.errors.OutboundBufferLimitError, nats.js.errors.NoStreamResponseError,
              nats.js.errors.ServiceUnavailableError, nats.js.errors.ServerError,
              asyncio.TimeoutError)


class Exporter:
    """Follows the local bus from the stored export cursor and publishes what `settings` wants.

    One publish is in flight at a time, so the stream holds each host's events in its cursor
    order even when a connection drops mid-publish. The cursor is committed only after
    JetStream acknowledged the event; after a crash the events since then go out again with
    the same Nats-Msg-Id, and the stream's duplicate window drops them.
    """

    def __init__(self, js: JetStreamContext, settings: Settings, store: Store,
                 on_exported: Callable[[int], None] = lambda cursor: None) -> None:
        self.js = js
        self.settings = settings
        self.store = store
        self.on_exported = on_exported
        self.published = 0
        self.duplicates = 0

    def __repr__(self) -> str:
        return f"<Exporter {self.settings.host} published={self.published}>"

    async def run(self) -> None:
        """Export until cancelled; waits out a stopped daemon or NATS server."""
        delay = _RETRY_FIRST_S
        while True:
            exported = self.store.bridges().get(NAME, (0, {}))[0]
            # Events that retention deleted before they were exported are gone; the feed logs
            # the gap and goes on.
            feed = Feed(self.settings.paths, EVERYTHING, cursor=exported, payload=True,
                        reconnect_s=60.0, accept_pruned=True)
            try:
                async for batch in feed.batches():
                    await self._export(batch)
                    delay = _RETRY_FIRST_S
            except NotRunning as exc:
                log.warning("%s; exporting resumes when it is back", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX_S)

    async def _export(self, batch: list[Item]) -> None:
        """Publish the wanted events of one read from the daemon, then commit the cursor.

        The cursor is committed after at most MARK_EVERY acknowledged publishes and at the end
        of the batch (skipped events move it too), never before the events it covers were
        acknowledged.
        """
        unmarked = None
        published = 0
        for item in batch:
            if not isinstance(item, Event):
                continue
            if self.settings.exports(item):
                await self._publish(item)
                published += 1
            unmarked = item.cursor
            if published >= MARK_EVERY:
                self._mark(unmarked)
                unmarked, published = None, 0
        if unmarked is not None:
            self._mark(unmarked)

    def _mark(self, cursor: int) -> None:
        self.store.mark_bridge(NAME, exported=cursor)
        self.on_exported(cursor)

    async def _publish(self, event: Event) -> None:
        subject = subjects.of(self.settings.host, event.source, event.type)
        headers, body = cloudevents.to_headers(event, host=self.settings.host)
        headers[_MSG_ID] = self._msg_id(event)
        delay = _RETRY_FIRST_S
        while True:
            try:
                ack = await self.js.publish(subject, body, timeout=self.settings.publish_timeout_s,
                                            stream=self.settings.stream, headers=dict(headers))
            except nats.errors.MaxPayloadError:
                log.warning("event %d is over the server's message size; exporting it without "
                            "its payload", event.cursor)
                headers, body = cloudevents.to_headers(replace(event, payload=None),
                                                       host=self.settings.host)
                headers[_MSG_ID] = self._msg_id(event)
                continue
            except (*_TRANSIENT, nats.js.errors.APIError) as exc:
                log.info("publishing event %d failed (%s); sending it again",
                         event.cursor, exc or type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX_S)
                continue
            self.published += 1
            self.duplicates += bool(ack.duplicate)
            return

    def _msg_id(self, event: Event) -> str:
        return f"{self.settings.host}:{cloudevents.header_value(event.delivery_id)}"
