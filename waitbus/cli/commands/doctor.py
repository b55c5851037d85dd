"""`waitbus doctor`: one line per check of the set-up, and what to do about each failure."""

from __future__ import annotations

import argparse
import json

from waitbus.cli.commands import command
from waitbus.cli.exits import Exit
from waitbus.cli.state import paths_from


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "doctor",
        description="Check that the daemon answers, the state directory and socket are yours "
        "and private, the mcp and verify extras are installed, each client configuration "
        "(Claude Code, Codex CLI, Gemini CLI, Cursor, VS Code) starts a waitbus MCP server "
        "that answers initialize within 1 s, installed hooks run, the webhook port is free or "
        "the daemon's, and the Docker socket answers when the docker source is on. Exits 69 "
        "when the daemon is down, 78 when another check fails.")
    p.add_argument("--json", action="store_true", help="print the checks as JSON")


def run(args: argparse.Namespace) -> int:
    from waitbus.integrations.doctor import run_checks

    checks = run_checks(paths_from(args))
    if args.json:
        print(json.dumps([{"name": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix}
                          for c in checks]))
    else:
        for check in checks:
            mark = "ok  " if check.ok else "FAIL"
            tail = "" if check.ok or not check.fix else f" -> {check.fix}"
            print(f"{mark} {check.name}: {check.detail}{tail}")
    if any(c.name == "daemon" and not c.ok for c in checks):
        return Exit.UNREACHABLE
    return Exit.CONFIG if any(not c.ok for c in checks) else Exit.MATCHED
