"""`waitbus mcp`: serve the bus to an MCP client over stdio (needs the `mcp` extra)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from waitbus.cli.commands import command
from waitbus.cli.state import paths_from, reconnect_s


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "mcp",
        description="Run an MCP server on stdin/stdout for one client (Claude Code, Cursor, any "
        "stdio client); it subscribes to the daemon. `waitbus mcp install CLIENT` registers "
        "it with claude, codex, gemini, cursor or vscode (through the client's own CLI where "
        "it has one), with the tool timeout `wait` needs. See docs/AGENTS-INTEGRATION.md.")
    p.add_argument("action", nargs="?", choices=("install",), help="register with a client")
    p.add_argument("client", nargs="?", choices=("claude", "codex", "gemini", "cursor", "vscode"))
    p.add_argument("--scope", choices=("user", "project"), default="user",
                   help="with install: the user's settings (default) or this repository's")
    p.add_argument("--dry-run", action="store_true",
                   help="with install: print the commands and changes, run nothing")


def run(args: argparse.Namespace) -> int:
    if args.action == "install":
        return _install(args)
    try:
        from waitbus.mcp_server.server import serve
    except ImportError as exc:
        from waitbus.errors import UsageError

        msg = (f"the MCP server needs the mcp extra ({exc.name} is missing); "
               "install it with `pip install 'waitbus[mcp]'`")
        raise UsageError(msg) from None
    asyncio.run(serve(paths_from(args).ensure(), reconnect_s=reconnect_s()))
    return 0


def _install(args: argparse.Namespace) -> int:
    from pathlib import Path

    from waitbus.errors import UsageError
    from waitbus.integrations import mcp_setup
    from waitbus.integrations.clients import Scope
    from waitbus.integrations.hooks import waitbus_executable

    if args.client is None:
        msg = "name the client: waitbus mcp install claude|codex|gemini|cursor|vscode"
        raise UsageError(msg)
    env = {} if args.state_dir is None else {
        "WAITBUS_STATE_DIR": str(Path(args.state_dir).resolve())}
    setup = mcp_setup.plan(args.client, Scope(args.scope), [waitbus_executable(), "mcp"], env)
    for note in setup.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.dry_run:
        print(setup.describe())
        return 0
    mcp_setup.apply(setup, mcp_setup.run_client)
    print(f"waitbus MCP server installed for {args.client} ({args.scope} scope)")
    return 0
