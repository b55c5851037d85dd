"""`waitbus status`: is the daemon up, where is its head, who is subscribed."""

from __future__ import annotations

import argparse
import asyncio

from waitbus.cli.state import paths_from
from waitbus.event import dump_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="show the daemon's state (exit 69 when it is down)")
    p.add_argument("--json", action="store_true", help="print the status as JSON")


def run(args: argparse.Namespace) -> int:
    from waitbus.consumers.status import status

    reply = asyncio.run(status(paths_from(args), reconnect_s=0.0))
    info = reply.info
    if args.json:
        print(dump_json(info))
        return 0
    subs = info.get("subscribers")
    count = len(subs) if isinstance(subs, list) else 0
    print(f"daemon pid {info.get('pid')} serving {info.get('state_dir')}")
    print(f"head cursor {info.get('head')}, {count} subscriber(s)")
    sources = info.get("sources")
    if isinstance(sources, dict):
        for name, state in sorted(sources.items()):
            print(f"  source {name}: {state}")
    return 0
