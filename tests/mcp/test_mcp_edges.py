"""Hostile or out-of-range MCP arguments: tool errors that say why, never a raw Python error."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError

from tests.conftest import DaemonProcess
from tests.mcp.mcp_client import Client, text_of
from tests.mcp.test_mcp_server import run

HUGE = "9" * 20


def test_a_cursor_past_what_sqlite_holds_is_a_tool_error(daemon: DaemonProcess,
                                                        state_dir: Path) -> None:
    async def body(client: Client) -> None:
        for name, args in (("get_event", {"cursor": HUGE}), ("events", {"since": HUGE}),
                           ("wait", {"source": "ci", "since": HUGE, "timeout_s": 1})):
            result = await client.call(name, **args)
            assert result.is_error, (name, result.content)
            text = text_of(result)
            assert "cursor" in text
            assert "internal error" not in text
        with pytest.raises(MCPError, match="unknown resource"):
            await client.read(f"waitbus://events/{HUGE}")

    run(state_dir, body)


def test_a_deeply_nested_match_is_a_tool_error(daemon: DaemonProcess, state_dir: Path) -> None:
    async def body(client: Client) -> None:
        for name in ("wait", "events"):
            result = await client.call(name, match=["fields.a=" + "[" * 100_000])
            assert result.is_error
            assert "nested too deeply" in text_of(result)

    run(state_dir, body)
