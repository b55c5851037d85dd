"""Import through the durable consumer against a real JetStream server, in process."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from tests.bridge.nats_server import NatsServer
from waitbus import cloudevents
from waitbus.bridge import stream, subjects
from waitbus.bridge.config import Settings
from waitbus.bridge.importer import Importer
from waitbus.event import Event
from waitbus.paths import resolve
from waitbus.store.store import Store


def _remote(seq: int) -> Event:
    return Event(seq, f"d{seq}", "ci", "build", "o/r", None, 1_000 + seq, {"seq": seq})


async def _publish(js: JetStreamContext, event: Event, host: str = "a") -> None:
    headers, body = cloudevents.to_headers(event, host=host)
    headers["Nats-Msg-Id"] = f"{host}:{event.delivery_id}"
    await js.publish(subjects.of(host, event.source, event.type), body, headers=headers)


async def _import_until(settings: Settings, importer_done: asyncio.Event,
                        importer: Importer) -> None:
    task = asyncio.create_task(importer.run())
    try:
        async with asyncio.timeout(30):
            await importer_done.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_a_redelivery_after_a_lost_ack_commits_nothing_twice(
        nats_server: NatsServer, state_dir: Path) -> None:
    settings = Settings(paths=resolve(state_dir), url=nats_server.url, host="b", ack_wait_s=1.0)

    async def scenario() -> tuple[list[Event], int, int]:
        client = await nats.connect(nats_server.url)
        js = client.jetstream()
        await stream.ensure(js, settings)
        for seq in range(1, 4):
            await _publish(js, _remote(seq))
        redelivered = asyncio.Event()
        lost: set[int] = set()

        async def lossy_ack(msg: Msg) -> None:
            seq = msg.metadata.sequence.stream
            if msg.metadata.num_delivered > 1:
                redelivered.set()
            if seq == 2 and not lost:
                lost.add(seq)  # this ack never reaches the server
                return
            await msg.ack()

        with Store(settings.paths) as store:
            importer = Importer(js, settings, store, ack=lossy_ack)
            await _import_until(settings, redelivered, importer)
            events = store.read_after(0)
        info = await js.consumer_info(settings.stream, subjects.durable("b"))
        await client.close()
        return events, importer.repeated, info.num_ack_pending or 0

    events, repeated, pending = asyncio.run(scenario())
    assert [e.fields["seq"] for e in events] == [1, 2, 3]
    assert [e.delivery_id for e in events] == ["a:d1", "a:d2", "a:d3"]
    assert repeated == 1
    assert pending == 0


def test_own_messages_and_foreign_garbage_are_acknowledged_but_not_committed(
        nats_server: NatsServer, state_dir: Path) -> None:
    settings = Settings(paths=resolve(state_dir), url=nats_server.url, host="b")

    async def scenario() -> list[Event]:
        client = await nats.connect(nats_server.url)
        js = client.jetstream()
        await stream.ensure(js, settings)
        await _publish(js, _remote(1), host="b")  # this host's own export comes back
        await js.publish("waitbus.c.ci.build", b"not a cloudevent")
        await _publish(js, _remote(3), host="a")
        done = asyncio.Event()
        with Store(settings.paths) as store:
            importer = Importer(js, settings, store,
                                on_progress=lambda pending: done.set() if pending == 0 else None)
            await _import_until(settings, done, importer)
            events = store.read_after(0)
        info = await js.consumer_info(settings.stream, subjects.durable("b"))
        assert info.num_ack_pending == 0
        await client.close()
        return events

    (only,) = asyncio.run(scenario())
    assert (only.origin, only.delivery_id) == ("a", "a:d3")
