"""`waitbus hook-event CLIENT`: the command agent client hooks run (see `waitbus hooks`)."""

from __future__ import annotations

import argparse

from waitbus.cli.commands import command
from waitbus.integrations.lifecycle import EVENTS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "hook-event",
        description="Read a hook payload (JSON on stdin, or as the last argument for Codex's "
        "notify) and commit an agent/started|stopped|needs_input|failed|subagent_stopped|ended "
        "event in a detached process. Always exits 0 at once, so it never holds up the agent. "
        "`waitbus hooks install CLIENT` writes it into the client's settings.")
    p.add_argument("client", choices=sorted(EVENTS))
    p.add_argument("payload", nargs="?", help="the JSON payload (default: stdin)")


def run(args: argparse.Namespace) -> int:
    from waitbus.integrations import hook

    words = [args.client] if args.payload is None else [args.client, args.payload]
    state = [] if args.state_dir is None else ["--state-dir", args.state_dir]
    return hook.run([*state, *words])
