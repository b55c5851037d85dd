"""`waitbus mcp`: serve the bus to an MCP client over stdio (needs the `mcp` extra)."""

from __future__ import annotations

import argparse
import asyncio

from waitbus.cli.state import paths_from, reconnect_s


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser(
        "mcp", help="serve MCP over stdio: wait, events, get_event, emit, status and resources",
        description="Run an MCP server on stdin/stdout for one client (Claude Code, Cursor, any "
        "stdio client); it subscribes to the daemon. See docs/MCP.md for client set-up.")


def run(args: argparse.Namespace) -> int:
    try:
        from waitbus.mcp_server.server import serve
    except ImportError as exc:
        from waitbus.errors import UsageError

        msg = (f"the MCP server needs the mcp extra ({exc.name} is missing); "
               "install it with `pip install 'waitbus[mcp]'`")
        raise UsageError(msg) from None
    asyncio.run(serve(paths_from(args).ensure(), reconnect_s=reconnect_s()))
    return 0
