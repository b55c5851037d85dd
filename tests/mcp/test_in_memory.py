"""The MCP server in-process over the SDK's in-memory transport, against an in-process daemon."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp import ClientSession

# The SDK's own in-memory transport (what mcp.Client uses for an in-process server).
from mcp.client._memory import InMemoryTransport

from tests.bus.inprocess import serving
from tests.store.test_replaced import move_aside
from waitbus.mcp_server.server import build
from waitbus.paths import StatePaths, resolve
from waitbus.sources import emitter

BOUND_S = 30.0


def run(state_dir: Path, body: Callable[[ClientSession, StatePaths], Awaitable[None]]) -> None:
    """Run `body` with a session to a fresh server, a daemon beside it, the whole test bounded."""
    paths = resolve(state_dir)

    async def main() -> None:
        async with (asyncio.timeout(BOUND_S), serving(paths),
                    InMemoryTransport(build(paths, reconnect_s=5.0)) as (read, write),
                    ClientSession(read, write) as session):
            await session.initialize()
            await body(session, paths)

    asyncio.run(main())


def _data(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def test_wait_is_released_by_an_emit_once_it_reports_progress(state_dir: Path) -> None:
    async def body(session: ClientSession, paths: StatePaths) -> None:
        live = asyncio.Event()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            live.set()

        args: dict[str, Any] = {"source": "ci", "match": ['conclusion="failure"'],
                                "timeout_s": 20}
        waiting = asyncio.create_task(session.call_tool("wait", args,
                                                        progress_callback=on_progress))
        await live.wait()  # subscribed and caught up: an emit now cannot be missed
        emitted, _new = emitter.append(paths, emitter.draft("ci", "build",
                                                            conclusion="failure"))
        data = _data(await waiting)
        assert data["outcome"] == "failed"
        assert [e["cursor"] for e in data["events"]] == [str(emitted.cursor)]

    run(state_dir, body)


def test_status_reports_the_running_daemon(state_dir: Path) -> None:
    async def body(session: ClientSession, _paths: StatePaths) -> None:
        data = _data(await session.call_tool("status", {}))
        assert data["daemon"]["running"] is True
        assert data["sources"] == {}

    run(state_dir, body)


def test_a_bad_clause_is_a_tool_error_that_says_why(state_dir: Path) -> None:
    async def body(session: ClientSession, _paths: StatePaths) -> None:
        result = await session.call_tool("wait", {"match": ["no operator here"]})
        assert result.is_error
        (block,) = result.content
        assert isinstance(block, types.TextContent)
        assert "no operator" in block.text

    run(state_dir, body)


def test_a_wait_resumed_after_the_store_was_replaced_says_so_and_counts_the_new_store(
        state_dir: Path) -> None:
    async def body(session: ClientSession, paths: StatePaths) -> None:
        emitter.append(paths, emitter.draft("ci", "build"))
        first = _data(await session.call_tool("wait", {"source": "ci", "timeout_s": 0.2}))
        assert first["outcome"] == "pending"
        assert "note" not in first
        move_aside(paths, state_dir.parent / "aside")
        emitter.append(paths, emitter.draft("ci", "deploy"))
        again = _data(await session.call_tool("wait", {
            "source": "ci", "timeout_s": 20, "since": first["cursor"],
            "generation": first["generation"]}))
        assert again["outcome"] == "matched"
        assert [e["type"] for e in again["events"]] == ["deploy"]
        assert again["cursor"] == "1"
        assert again["generation"] != first["generation"]
        assert "replaced" in again["note"]

    run(state_dir, body)
