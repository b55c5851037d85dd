"""Import: other hosts' events from one durable consumer, committed here in stream order."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

import nats.js.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy

from waitbus import cloudevents
from waitbus.bridge import subjects
from waitbus.bridge.config import Settings
from waitbus.errors import UsageError
from waitbus.event import Event
from waitbus.store.store import Store

log = logging.getLogger(__name__)
MAX_ACK_PENDING = 1024


class Importer:
    """Commits each wanted message from other hosts, then acknowledges it.

    The durable consumer `waitbus-<host>` remembers, on the server, what this host has
    acknowledged. Messages are committed in stream order: a message whose stream sequence is not
    the next one (one was lost on a dropped connection, or the last run died holding
    unacknowledged ones) resets the consumer to the sequence after the last one committed, so a
    later event is never committed before an earlier one. A redelivered message (its ack was
    lost) finds its delivery id stored: the commit is a no-op and it is acknowledged again.
    """

    def __init__(self, js: JetStreamContext, settings: Settings, store: Store,
                 on_progress: Callable[[int], None] = lambda pending: None,
                 ack: Callable[[Msg], Awaitable[None]] | None = None) -> None:
        self.js = js
        self.settings = settings
        self.store = store
        self.on_progress = on_progress
        self._ack = ack or _ack
        self.durable = subjects.durable(settings.host)
        self.last_seq: int | None = None
        self.committed = 0
        self.repeated = 0
        self.resets = 0

    def __repr__(self) -> str:
        return (f"<Importer {self.durable} last_seq={self.last_seq} committed={self.committed} "
                f"repeated={self.repeated} resets={self.resets}>")

    async def run(self) -> None:
        """Import until cancelled."""
        info = await self._consumer_info()
        start = None
        if info is not None and info.num_ack_pending:
            # The last run died holding unacknowledged messages: JetStream would send them
            # only after ack_wait, behind newer ones. Start again right after the ack floor.
            start = (info.ack_floor.stream_seq if info.ack_floor else 0) + 1
        while True:
            sub = await self._subscribe(start)
            try:
                start = await self._drain(sub, start)
            finally:
                await sub.unsubscribe()
            self.resets += 1

    async def _drain(self, sub: JetStreamContext.PushSubscription, start: int | None) -> int:
        """Handle messages until one is out of order; return the sequence to restart from.

        After a restart at `start`, the first message is the oldest the stream still holds from
        there, whatever its sequence.
        """
        while True:
            msg = await sub.next_msg(timeout=None)
            meta = msg.metadata
            seq = meta.sequence.stream
            if self.last_seq is not None and seq <= self.last_seq:
                self.repeated += 1
                await self._ack(msg)  # already committed; its earlier ack was lost
                continue
            if self.last_seq is not None and seq != self.last_seq + 1 and start is None:
                log.warning("stream sequence %d arrived after %d; restarting the consumer at %d "
                            "so events stay in order", seq, self.last_seq, self.last_seq + 1)
                return self.last_seq + 1
            if start is not None and self.last_seq is not None and seq > self.last_seq + 1:
                log.warning("stream messages %d to %d were removed by the stream's limits before "
                            "this host imported them", self.last_seq + 1, seq - 1)
            start = None
            self._commit(msg)
            await self._ack(msg)
            self.last_seq = seq
            if sub.pending_msgs == 0:
                self.on_progress(meta.num_pending)

    def _commit(self, msg: Msg) -> None:
        host = subjects.host_of(msg.subject)
        if host == self.settings.host:
            return
        try:
            received = cloudevents.from_headers(msg.headers or {}, msg.data)
            if received.host != host:
                msg_ = f"it names host {received.host!r} but came on {msg.subject}"
                raise UsageError(msg_)
        except UsageError as exc:
            log.warning("dropped stream message %d on %s: %s", msg.metadata.sequence.stream,
                        msg.subject, exc)
            return
        draft = received.draft
        # Import filters see the event as its first host stored it (cursor included).
        probe = Event(received.cursor, draft.delivery_id, draft.source, draft.type, draft.subject,
                      draft.conclusion, draft.received_at, draft.fields, origin=draft.origin)
        if self.settings.accepts(probe):
            _, new = self.store.append(draft)
            self.committed += new

    async def _consumer_info(self) -> ConsumerInfo | None:
        try:
            info: ConsumerInfo = await self.js.consumer_info(self.settings.stream, self.durable)
        except nats.js.errors.NotFoundError:
            return None
        config = info.config
        if config.filter_subject not in (None, "", subjects.EVERY_HOST) or \
                config.ack_policy != AckPolicy.EXPLICIT or not config.deliver_subject:
            msg = (f"consumer {self.durable} on stream {self.settings.stream} is not this "
                   "bridge's (it needs push delivery, explicit acks and every waitbus.> "
                   f"subject); delete it with `nats consumer rm {self.settings.stream} "
                   f"{self.durable}` and start the bridge again")
            raise UsageError(msg)
        return info

    async def _subscribe(self, start: int | None) -> JetStreamContext.PushSubscription:
        if start is not None:
            # Re-created, not edited: JetStream cannot move an existing consumer's position.
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await self.js.delete_consumer(self.settings.stream, self.durable)
        config = ConsumerConfig(
            durable_name=self.durable, ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.settings.ack_wait_s, max_ack_pending=MAX_ACK_PENDING,
            deliver_policy=DeliverPolicy.ALL if start is None else DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start, description=f"waitbus bridge of host {self.settings.host}")
        try:
            return await self.js.subscribe(subjects.EVERY_HOST, durable=self.durable,
                                           stream=self.settings.stream, config=config,
                                           manual_ack=True)
        except nats.js.errors.Error as exc:
            if "already bound" in str(exc):
                msg = (f"another bridge for host {self.settings.host} is already importing "
                       f"through {self.durable}; stop it, or give this one another --host")
                raise UsageError(msg) from exc
            raise


async def _ack(msg: Msg) -> None:
    await msg.ack()
