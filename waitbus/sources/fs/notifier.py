"""What both notifiers share: waiting for their descriptor, and committing what they read."""

from __future__ import annotations

import asyncio
import logging

from waitbus.errors import WaitbusError
from waitbus.event import Draft
from waitbus.sources.base import Sink

log = logging.getLogger(__name__)


async def readable(fd: int) -> None:
    """Return once `fd` is readable.

    The loop watches it only while this waits: while the drafts of the last read are being
    committed (a commit may wait on the store's write lock), the kernel keeps the news, and
    the loop does not spin on a descriptor that stays readable.
    """
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_reader(fd, _settle, ready)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


def _settle(ready: asyncio.Future[None]) -> None:
    if not ready.done():  # the loop may call again before the waiter runs
        ready.set_result(None)


async def commit_all(sink: Sink, drafts: list[Draft]) -> None:
    """Commit `drafts` in order; one the store refuses is logged and the rest still go."""
    for draft in drafts:
        try:
            await sink.commit(draft)
        except WaitbusError:
            log.exception("fs: could not store a change to %s", draft.subject)
