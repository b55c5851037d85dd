"""The JetStream stream every host shares: created when absent, checked when present."""

from __future__ import annotations

import logging

import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamInfo

from waitbus.bridge import subjects
from waitbus.bridge.config import Settings
from waitbus.errors import UsageError

log = logging.getLogger(__name__)


class StreamMismatch(UsageError):
    """The stream exists with settings the bridge cannot work with."""


async def ensure(js: JetStreamContext, settings: Settings) -> StreamInfo:
    """The stream's info, after creating it (file storage, limits, a duplicate window).

    Raises:
        StreamMismatch: an existing stream's settings would lose or duplicate events.
    """
    try:
        info = await js.stream_info(settings.stream)
    except nats.js.errors.NotFoundError:
        try:
            info = await js.add_stream(wanted(settings))
        except nats.js.errors.APIError as exc:
            msg = (f"cannot create JetStream stream {settings.stream} for {subjects.EVERY_HOST}: "
                   f"{exc.description or exc}; remove the conflicting stream or pass --stream")
            raise StreamMismatch(msg) from exc
        log.info("created stream %s", settings.stream)
        return info
    problems = check(info.config)
    if problems:
        msg = (f"JetStream stream {settings.stream} cannot carry the bus: {'; '.join(problems)}; "
               "fix it with `nats stream edit` or choose another with --stream")
        raise StreamMismatch(msg)
    return info


def wanted(settings: Settings) -> StreamConfig:
    """The stream the bridge creates."""
    return StreamConfig(
        name=settings.stream, subjects=[subjects.EVERY_HOST], retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE, discard=DiscardPolicy.OLD, max_age=settings.max_age_s,
        max_bytes=settings.max_bytes, duplicate_window=settings.duplicate_window_s,
        description="waitbus events from every host (waitbus bridge nats)")


def check(config: StreamConfig) -> list[str]:
    """What in an existing stream's settings would lose or duplicate events (empty: fine)."""
    problems = []
    if subjects.EVERY_HOST not in (config.subjects or []) and ">" not in (config.subjects or []):
        problems.append(f"its subjects {config.subjects} do not include {subjects.EVERY_HOST}")
    if config.retention not in (None, RetentionPolicy.LIMITS):
        problems.append(f"retention {config.retention} deletes events once one host has read "
                        "them; use limits")
    if config.storage == StorageType.MEMORY:
        problems.append("memory storage loses every event when nats-server restarts; use file")
    if not config.duplicate_window:
        problems.append("it has no duplicate window, so a re-published event would be stored "
                        "twice")
    if config.discard == DiscardPolicy.NEW:
        log.warning("stream %s discards new messages when full: export stalls until it has room",
                    config.name)
    return problems
