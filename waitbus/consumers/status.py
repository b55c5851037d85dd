"""Asking the daemon for its state: one status request, one reply."""

from __future__ import annotations

from waitbus import wire
from waitbus.consumers.feed import DEFAULT_RECONNECT_S, connect
from waitbus.errors import NotRunning, Refused
from waitbus.paths import StatePaths


async def status(paths: StatePaths, *,
                 reconnect_s: float = DEFAULT_RECONNECT_S) -> wire.StatusInfo:
    """Ask the daemon for its state."""
    reader, writer = await connect(paths, reconnect_s)
    try:
        writer.write(wire.encode(wire.StatusRequest()))
        await writer.drain()
        decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
        while data := await reader.read(65536):
            for obj in decoder.feed(data):
                reply = wire.parse_reply(obj)
                if isinstance(reply, wire.Status):
                    return reply.info
                if isinstance(reply, wire.ErrorFrame):
                    raise Refused(reply.message)
    finally:
        writer.close()
    raise NotRunning(paths.socket, reconnect_s)
