"""A real MCP client session over stdio to a `waitbus mcp` subprocess."""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPDeprecationWarning


def text_of(result: types.CallToolResult) -> str:
    """The text of a tool result's one text block."""
    (block,) = result.content
    assert isinstance(block, types.TextContent)
    return block.text


class Client:
    """An initialized session plus the resources/updated notifications it has received."""

    def __init__(self, session: ClientSession,
                 updates: MemoryObjectReceiveStream[str]) -> None:
        self.session = session
        self.updates = updates

    async def call(self, name: str, live: anyio.Event | None = None,
                   notes: list[tuple[float, str]] | None = None,
                   **arguments: Any) -> types.CallToolResult:
        """Call a tool; `live` is set on its first progress report (a wait is subscribed), and
        `notes` collects every report's value and message."""
        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            if live is not None:
                live.set()
            if notes is not None:
                notes.append((progress, message or ""))

        asks = live is not None or notes is not None
        result = await self.session.call_tool(
            name, arguments, progress_callback=on_progress if asks else None)
        assert isinstance(result, types.CallToolResult)
        return result

    async def data(self, name: str, **arguments: Any) -> dict[str, Any]:
        """Call a tool that must succeed and return its structured content."""
        result = await self.call(name, **arguments)
        assert not result.is_error, result.content
        assert isinstance(result.structured_content, dict)
        return result.structured_content

    async def subscribe(self, uri: str) -> None:
        # resources/subscribe is the 2025 wire's way (what today's clients speak); the SDK marks
        # it deprecated for the 2026 wire, which this server also serves with subscriptions/listen.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await self.session.subscribe_resource(uri)

    async def read(self, uri: str) -> types.TextResourceContents:
        result = await self.session.read_resource(uri)
        (contents,) = result.contents
        assert isinstance(contents, types.TextResourceContents)
        return contents

    async def read_json(self, uri: str) -> dict[str, Any]:
        value = json.loads((await self.read(uri)).text)
        assert isinstance(value, dict)
        return value


@asynccontextmanager
async def connect(state_dir: Path, errlog: Path, *, modern: bool = False,
                  ) -> AsyncIterator[Client]:
    """Start `waitbus mcp` on `state_dir` and open a session: the 2025 handshake, or with
    `modern` the 2026-07-28 protocol's discovery."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "waitbus", "--state-dir", str(state_dir), "-v", "mcp"],
        env={"PYTHONUNBUFFERED": "1", "WAITBUS_RECONNECT_S": "10"})
    send, receive = anyio.create_memory_object_stream[str](100)

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            send.send_nowait(message.params.uri)

    with send, receive, errlog.open("w") as err:
        async with (stdio_client(params, errlog=err) as (read, write),
                    ClientSession(read, write, message_handler=on_message) as session):
            if modern:
                await session.discover()
            else:
                await session.initialize()
            yield Client(session, receive)
