"""`waitbus tail`: list recent events; `--follow` keeps printing new ones."""

from __future__ import annotations

import argparse
import asyncio

from waitbus.cli.commands import command
from waitbus.cli.output import add_format_flags, format_of, renderer
from waitbus.cli.state import count, paths_from, reconnect_s


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "tail", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Print the newest stored events, oldest first (outside text with its "
        "control characters escaped; --json is exact). With -f, keep printing new events as "
        "they are committed (needs the daemon).",
        epilog="a clause: dotted.key OP json-literal, OP one of = != < <= > >= ~ (glob)\n"
        "  waitbus tail --match 'conclusion=\"failure\"' --match 'fields.exit_code>0'\n"
        "  waitbus tail -f --any-of 'ci:type=\"build\"' --any-of 'pytest:type=\"session\"'")
    p.add_argument("-n", type=count, default=20, metavar="N",
                   help="how many recent matching events")
    p.add_argument("--source", help="only events from this source")
    p.add_argument("--match", action="append", default=[], metavar="CLAUSE",
                   help="a clause every listed event meets (repeatable: all must hold)")
    p.add_argument("--any-of", action="append", default=[], metavar="[SOURCE:]CLAUSE",
                   help="list events meeting any of these clauses (repeatable)")
    p.add_argument("-f", "--follow", action="store_true",
                   help="keep printing new events; if the store is replaced (moved aside and "
                   "created again) this says so on stderr and goes on from its first event")
    add_format_flags(p)


def run(args: argparse.Namespace) -> int:
    from waitbus.consumers import wait as waiting
    from waitbus.consumers.feed import Feed
    from waitbus.consumers.history import latest_matching
    from waitbus.match import EVERYTHING
    from waitbus.store.store import Store

    paths = paths_from(args)
    render = renderer(format_of(args))
    narrowed = args.source or args.match or args.any_of
    # Parsed before anything prints, so a bad clause is an error, not a half listing.
    wanted = waiting.build(args.match, source=args.source, any_of=args.any_of).subscription \
        if narrowed else EVERYTHING
    cursor, generation = 0, None
    if paths.store.exists():
        with Store(paths, read_only=True) as store:
            cursor, generation = store.head(), store.generation
            if args.match or args.any_of:
                recent = latest_matching(store, wanted, args.n, before=cursor + 1)
            else:
                recent = store.latest(args.n, source=args.source)
            for event in recent:
                # A row committed after the head was read comes from the follow, once.
                if event.cursor <= cursor:
                    print(render(event))
    if not args.follow:
        return 0

    async def follow() -> None:
        # A store replaced while this follows is said on stderr, and followed from its start.
        feed = Feed(paths, wanted, cursor=cursor, reconnect_s=reconnect_s(), accept_pruned=True,
                    generation=generation)
        async for event in feed.events():
            print(render(event), flush=True)

    asyncio.run(follow())
    return 0
