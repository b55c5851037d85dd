"""`waitbus watch`: one line per matching event, flushed at once, for agents that read output."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from waitbus.cli.commands import command
from waitbus.cli.exits import Exit, table
from waitbus.cli.output import add_format_flags
from waitbus.cli.state import paths_from, reconnect_s, since_of

if TYPE_CHECKING:
    from waitbus.consumers.watch import Watch


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "watch", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Print one compact line per matching event on stdout, flushed as it "
        "arrives: what waitbus vouches for (cursor, conclusion), then the event's own text as "
        "JSON marked untrusted data. An agent client that turns each output line into a "
        "message (Claude Code's Monitor tool) is woken by each event.",
        epilog="  waitbus watch --source ci 'conclusion=\"failure\"'\n"
        "  waitbus watch --source pytest 'type=\"test\"' --until 'type=\"session\"'\n"
        "  waitbus watch --inbox reviewer --count 1\n\n"
        "it ends after --count lines or at the --until event (printed too), with the exit "
        "code of `waitbus wait` for the events that ended it:\n\n" + table())
    p.add_argument("predicate", nargs="*", metavar="CLAUSE",
                   help="clauses (key OP value) one event must all meet, e.g. "
                   "conclusion=\"failure\"")
    p.add_argument("--match", action="append", default=[], metavar="CLAUSE",
                   help="a clause one event must meet, as in wait (repeatable; adds to CLAUSE)")
    p.add_argument("--source", help="only events from this source (for --until too)")
    p.add_argument("--inbox", metavar="NAME",
                   help='agent messages to NAME or to everyone ("*")')
    p.add_argument("--count", type=int, metavar="N", help="stop after N lines")
    p.add_argument("--until", action="append", default=[], metavar="CLAUSE",
                   help="stop at the first event meeting these clauses (repeatable: all hold)")
    p.add_argument("--timeout", metavar="DURATION",
                   help="give up after 30s, 5m, 1h (exit 124); 0 shows what is stored now and "
                   "returns at once")
    p.add_argument("--since", metavar="CURSOR|DURATION",
                   help="also show events after this cursor, or received in the last 10m")
    add_format_flags(p, what="each event (instead of the line above)")


def run(args: argparse.Namespace) -> int:
    from waitbus.cli.durations import seconds
    from waitbus.cli.output import Format, data_line, format_of, renderer
    from waitbus.consumers import wait as waiting
    from waitbus.consumers.since import Since
    from waitbus.event import Event

    since = since_of(args.since)
    start = Since(cursor=since) if isinstance(since, int) else since
    # Like wait, from this process's start: `cmd & waitbus watch ...` misses nothing of cmd's.
    wait = waiting.Wait(_watch(args), start or Since.process_start(),
                        seconds(args.timeout) if args.timeout else None)
    fmt = format_of(args)
    render = data_line if fmt is Format.TEXT else renderer(fmt)

    def show(event: Event) -> None:
        print(render(event), flush=True)

    outcome = asyncio.run(waiting.run(wait, paths_from(args), reconnect_s=reconnect_s(),
                                      on_event=show))
    return Exit.FAILED if outcome.failed else Exit.MATCHED


def _watch(args: argparse.Namespace) -> Watch:
    from waitbus.consumers.watch import Watch
    from waitbus.errors import UsageError
    from waitbus.match import AnyOf, Match
    from waitbus.sources import agents

    until = Match.of(args.until, source=args.source) if args.until else None
    clauses = [*args.predicate, *args.match]
    if args.inbox is None:
        if not clauses and args.source is None:
            msg = ("watch needs a clause or --source (or --inbox); to see every event, "
                   "use `waitbus tail -f`")
            raise UsageError(msg)
        return Watch(AnyOf((Match.of(clauses, source=args.source),)), until, args.count)
    if args.source not in (None, agents.SOURCE):
        msg = "--inbox watches agent messages: narrow it with clauses, not another --source"
        raise UsageError(msg)
    also = Match.of(clauses, source=agents.SOURCE).clauses
    return Watch(agents.inbox(args.inbox, also=also), until, args.count)
