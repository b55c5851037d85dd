"""The shared stream: created with file storage and a duplicate window; a bad one is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from tests.bridge.nats_server import NatsServer
from waitbus.bridge import stream
from waitbus.bridge.config import Settings
from waitbus.paths import resolve


def test_absent_stream_is_created_with_file_storage_and_a_duplicate_window(
        nats_server: NatsServer, state_dir: Path) -> None:
    settings = Settings(paths=resolve(state_dir), url=nats_server.url, host="a")

    async def scenario() -> StreamConfig:
        client = await nats.connect(nats_server.url)
        info = await stream.ensure(client.jetstream(), settings)
        again = await stream.ensure(client.jetstream(), settings)
        await client.close()
        assert again.config.name == info.config.name
        return info.config

    config = asyncio.run(scenario())
    assert config.subjects == ["waitbus.>"]
    assert config.storage == StorageType.FILE
    assert config.retention == RetentionPolicy.LIMITS
    assert config.duplicate_window == settings.duplicate_window_s
    assert config.max_age == settings.max_age_s


def test_existing_stream_that_would_lose_events_is_refused_saying_why(
        nats_server: NatsServer, state_dir: Path) -> None:
    settings = Settings(paths=resolve(state_dir), url=nats_server.url, host="a", stream="OTHER")

    async def scenario() -> None:
        client = await nats.connect(nats_server.url)
        js = client.jetstream()
        await js.add_stream(StreamConfig(name="OTHER", subjects=["waitbus.>"],
                                         storage=StorageType.MEMORY,
                                         retention=RetentionPolicy.WORK_QUEUE))
        try:
            await stream.ensure(js, settings)
        finally:
            await client.close()

    with pytest.raises(stream.StreamMismatch) as caught:
        asyncio.run(scenario())
    assert "memory storage loses every event" in str(caught.value)
    assert "retention" in str(caught.value)
    assert "--stream" in str(caught.value)


def test_check_accepts_the_stream_the_bridge_would_create(state_dir: Path) -> None:
    settings = Settings(paths=resolve(state_dir), url="nats://x", host="a")
    assert stream.check(stream.wanted(settings)) == []
    assert "no duplicate window" in " ".join(
        stream.check(StreamConfig(name="S", subjects=["waitbus.>"], duplicate_window=0)))
    assert "do not include" in " ".join(stream.check(StreamConfig(name="S", subjects=["x.>"],
                                                                  duplicate_window=60)))
