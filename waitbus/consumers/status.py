"""Asking the daemon: one request (its state, or a retention pass), one reply."""

from __future__ import annotations

from waitbus import wire
from waitbus.config import Retention
from waitbus.consumers.feed import DEFAULT_RECONNECT_S, connect
from waitbus.errors import NotRunning, ProtocolError, Refused
from waitbus.event import JSONObject
from waitbus.paths import StatePaths


async def status(paths: StatePaths, *,
                 reconnect_s: float = DEFAULT_RECONNECT_S) -> wire.StatusInfo:
    """Ask the daemon for its state."""
    reply = await _ask(paths, wire.StatusRequest(), reconnect_s)
    if not isinstance(reply, wire.Status):
        msg = f"the daemon answered a status request with a {type(reply).__name__} frame"
        raise ProtocolError(msg)
    return reply.info


async def prune(paths: StatePaths, retention: Retention, *, dry_run: bool = False,
                reconnect_s: float = 0.0) -> JSONObject:
    """Ask the running daemon to apply `retention` now; it keeps what subscribers still need."""
    reply = await _ask(paths, wire.PruneRequest(retention, dry_run), reconnect_s)
    if not isinstance(reply, wire.PruneReport):
        msg = f"the daemon answered a prune request with a {type(reply).__name__} frame"
        raise ProtocolError(msg)
    return reply.info


async def _ask(paths: StatePaths, request: wire.Request, reconnect_s: float) -> wire.Reply:
    reader, writer = await connect(paths, reconnect_s)
    try:
        writer.write(wire.encode(request))
        await writer.drain()
        decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
        while data := await reader.read(65536):
            for obj in decoder.feed(data):
                reply = wire.parse_reply(obj)
                if isinstance(reply, wire.ErrorFrame):
                    raise Refused(reply.message)
                return reply
    finally:
        writer.close()
    raise NotRunning(paths.socket, reconnect_s)
