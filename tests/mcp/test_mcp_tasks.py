"""`wait` as an MCP task (io.modelcontextprotocol/tasks, 2026-07-28), driven by FastMCP's client.

FastMCP's client negotiates the tasks extension on the 2026-07-28 protocol once `fastmcp_tasks`
is imported, and drives tasks with its own `tasks/get` polling: a third-party client, not ours.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import fastmcp_tasks
import mcp_types as types
import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from fastmcp_tasks.client_models import (
    ClientGetTaskResult,
    GetTaskRequest,
    GetTaskRequestParams,
)
from mcp.shared.exceptions import MCPError

import waitbus
from tests.conftest import DaemonProcess
from tests.mcp.mcp_client import connect

BOUND_S = 60.0
# Every request either client sends is given up after this long.
REQUEST_TIMEOUT_S = 2.0


def run(state_dir: Path, body: Callable[[Client[StdioTransport]], Awaitable[None]]) -> None:
    """Run `body` with a FastMCP client on a fresh `waitbus mcp`, the whole test bounded."""
    errlog = state_dir.parent / "mcp.err"
    transport = StdioTransport(
        command=sys.executable, args=["-m", "waitbus", "--state-dir", str(state_dir), "-v", "mcp"],
        env={"PYTHONUNBUFFERED": "1", "WAITBUS_RECONNECT_S": "10"}, log_file=errlog,
        keep_alive=False)

    async def main() -> None:
        with anyio.fail_after(BOUND_S):
            async with Client(transport, timeout=REQUEST_TIMEOUT_S) as client:
                assert client.protocol_version == "2026-07-28"
                await body(client)

    try:
        anyio.run(main)
    except BaseException:
        print(errlog.read_text() if errlog.exists() else "(no server stderr)")
        raise


def test_wait_as_a_task_outlives_the_client_request_timeout(
        daemon: DaemonProcess, state_dir: Path) -> None:
    plain_log = state_dir.parent / "plain.err"

    async def body(client: Client[StdioTransport]) -> None:
        started = time.monotonic()
        task = await fastmcp_tasks.call_tool_task(client, "wait", {"source": "ci"})
        assert (await task.status()).status == "working"
        # The synchronous path under the same request timeout: the MCP SDK's client declares
        # no tasks extension, so its call runs in the request and the client gives up on it.
        async with connect(state_dir, plain_log, modern=True) as plain:
            with pytest.raises(MCPError, match="timed out"):
                await plain.session.call_tool("wait", {"source": "ci"},
                                              read_timeout_seconds=REQUEST_TIMEOUT_S)
        emitted = waitbus.emit("ci", "build", conclusion="success", state_dir=state_dir)
        result = await task.result()
        assert time.monotonic() - started > REQUEST_TIMEOUT_S
        data = result.structured_content
        assert isinstance(data, dict)
        assert data["outcome"] == "matched"
        assert [e["cursor"] for e in data["events"]] == [str(emitted.cursor)]

    run(state_dir, body)


def test_the_transparent_call_of_a_task_client_returns_the_wait_result(
        daemon: DaemonProcess, state_dir: Path) -> None:
    async def body(client: Client[StdioTransport]) -> None:
        emitted = waitbus.emit("ci", "build", conclusion="failure", state_dir=state_dir)
        result = await client.call_tool("wait", {"source": "ci", "since": "0"})
        data = result.structured_content
        assert isinstance(data, dict)
        assert data["outcome"] == "failed"
        assert [e["cursor"] for e in data["events"]] == [str(emitted.cursor)]

    run(state_dir, body)


def test_a_cancelled_task_ends_cancelled(daemon: DaemonProcess, state_dir: Path) -> None:
    async def body(client: Client[StdioTransport]) -> None:
        task = await fastmcp_tasks.call_tool_task(client, "wait", {"source": "nothing"},
                                                  raise_on_error=False)
        await task.cancel()
        final = await task.wait(timeout=10)
        assert final.status == "cancelled"

    run(state_dir, body)


def test_an_unknown_task_is_invalid_params_that_say_what_to_do(
        daemon: DaemonProcess, state_dir: Path) -> None:
    async def body(client: Client[StdioTransport]) -> None:
        request = GetTaskRequest(params=GetTaskRequestParams(task_id="nope"))
        with pytest.raises(MCPError, match="call wait again") as caught:
            await client.session.send_request(request, ClientGetTaskResult)
        assert caught.value.error.code == types.INVALID_PARAMS

    run(state_dir, body)


def test_tasks_get_without_the_extension_declared_is_refused(
        daemon: DaemonProcess, state_dir: Path) -> None:
    async def main() -> None:
        with anyio.fail_after(BOUND_S):
            async with connect(state_dir, state_dir.parent / "mcp.err", modern=True) as plain:
                request = GetTaskRequest(params=GetTaskRequestParams(task_id="nope"))
                with pytest.raises(MCPError) as caught:
                    await plain.session.send_request(request, ClientGetTaskResult)
        assert caught.value.error.code == types.MISSING_REQUIRED_CLIENT_CAPABILITY

    anyio.run(main)
