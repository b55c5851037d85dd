"""Progress notifications for a long tool call: rising values, and a heartbeat while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger(__name__)

# Clients that reset their request timeout on progress (the TypeScript SDK's
# resetTimeoutOnProgress) keep a call alive if they hear from it well inside 60 s.
HEARTBEAT_S = 12.0

Send = Callable[[float, str], Awaitable[None]]


class Progress:
    """Reports progress as seconds since the call started, so each value exceeds the last."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._started = time.monotonic()
        self._last = 0.0

    def __repr__(self) -> str:
        return f"<Progress last={self._last:g}s>"

    async def report(self, message: str) -> None:
        """Send one notification; a client that has left cannot be told, and that is fine."""
        # The spec asks for a value that increases with each notification, even when two
        # reports land within the clock's resolution.
        value = max(round(time.monotonic() - self._started, 3), self._last + 0.001)
        self._last = value
        try:
            await self._send(value, message)
        except Exception:
            log.debug("could not report progress", exc_info=True)

    @contextlib.asynccontextmanager
    async def heartbeat(self, every_s: float = HEARTBEAT_S) -> AsyncIterator[None]:
        """Report every `every_s` seconds while the body runs."""
        beat = asyncio.create_task(self._beat(every_s))
        try:
            yield
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def _beat(self, every_s: float) -> None:
        while True:
            # A timer is the point here: the client needs to hear from a quiet call.
            await asyncio.sleep(every_s)
            await self.report(f"still waiting after {time.monotonic() - self._started:.0f} s")
