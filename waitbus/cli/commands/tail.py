"""`waitbus tail`: list recent events; `--follow` keeps printing new ones."""

from __future__ import annotations

import argparse
import asyncio

from waitbus.cli.output import json_line, line
from waitbus.cli.state import paths_from, reconnect_s


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("tail", help="list recent events (and follow new ones)")
    p.add_argument("-n", type=int, default=20, metavar="N", help="how many recent events")
    p.add_argument("--source", help="only events from this source")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    p.add_argument("--json", action="store_true", help="JSON lines")


def run(args: argparse.Namespace) -> int:
    from waitbus.api import goal_of
    from waitbus.consumers.feed import Feed
    from waitbus.store.store import Store

    paths = paths_from(args)
    render = json_line if args.json else line
    cursor = 0
    if paths.store.exists():
        with Store(paths, create=False) as store:
            for event in store.latest(args.n, source=args.source):
                print(render(event))
            cursor = store.head()
    if not args.follow:
        return 0
    goal = goal_of(None, source=args.source) if args.source else None

    async def follow() -> None:
        from waitbus.match import EVERYTHING

        feed = Feed(paths, goal.filter if goal else EVERYTHING, cursor=cursor,
                    reconnect_s=reconnect_s())
        async for event in feed:
            print(render(event), flush=True)

    asyncio.run(follow())
    return 0
