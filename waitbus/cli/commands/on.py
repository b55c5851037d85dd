"""`waitbus on PRED -- command`: run a command for every matching event."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile

from waitbus.cli.commands import command
from waitbus.cli.state import paths_from, reconnect_s
from waitbus.errors import UsageError
from waitbus.event import Event, dump_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "on",
        description="The event reaches the command as WAITBUS_EVENT_* environment variables "
        "and a JSON file named by WAITBUS_EVENT_FILE, never on its argv. The file is exact; "
        "in a variable a NUL (which no variable can hold) reads \\x00. A command that "
        "fails is said on stderr; `on` exits 0 once it has run it (use `waitbus wait ... && "
        "command` to act on a command's status).")
    p.add_argument("clause", nargs="?", help="a clause such as conclusion=\"failure\"")
    p.add_argument("--source", help="only events from this source")
    p.add_argument("--once", action="store_true", help="stop after the first matching event")
    p.epilog = "usage: waitbus on [CLAUSE] [--source S] -- command [args...]"


def run(args: argparse.Namespace) -> int:
    from waitbus.consumers import wait as waiting
    from waitbus.consumers.feed import Feed
    from waitbus.consumers.since import Since

    argv = args.after_dashes
    if not argv:
        msg = "give the command after --, e.g. waitbus on 'conclusion=\"failure\"' -- make test"
        raise UsageError(msg)
    wait = waiting.build(args.clause, source=args.source, now=Since.process_start())
    paths = paths_from(args)

    async def loop() -> int:
        feed = Feed(paths, wait.subscription, cursor=wait.since.start(paths),
                    reconnect_s=reconnect_s())
        async for event in feed.events():
            status = await asyncio.to_thread(_run_for, argv, event)
            if status:
                # The command's status is its own; waitbus's exit codes keep their meaning.
                print(f"waitbus: {argv[0]} exited {status} for event {event.cursor}",
                      file=sys.stderr)
            if args.once:
                break
        return 0

    return asyncio.run(loop())


def _run_for(argv: list[str], event: Event) -> int:
    with tempfile.NamedTemporaryFile("w", prefix="waitbus-event-", suffix=".json") as handle:
        handle.write(dump_json(event.to_json()))
        handle.flush()
        env = dict(os.environ)
        env.update({
            "WAITBUS_EVENT_FILE": handle.name,
            "WAITBUS_EVENT_CURSOR": str(event.cursor),
            "WAITBUS_EVENT_SOURCE": _env_value(event.source),
            "WAITBUS_EVENT_TYPE": _env_value(event.type),
            "WAITBUS_EVENT_SUBJECT": _env_value(event.subject or ""),
            "WAITBUS_EVENT_CONCLUSION": str(event.conclusion or ""),
            "WAITBUS_EVENT_DELIVERY_ID": _env_value(event.delivery_id),
        })
        try:
            return subprocess.run(argv, env=env, check=False).returncode
        except (OSError, ValueError) as exc:
            # The command cannot start for this event; the next event gets its own try.
            print(f"waitbus: cannot run {argv[0]} for event {event.cursor}: "
                  f"{getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            return 127


def _env_value(text: str) -> str:
    """An environment variable cannot hold a NUL: show it as \\x00 (the event file is exact)."""
    return text.replace("\x00", "\\x00")
