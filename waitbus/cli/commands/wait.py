"""`waitbus wait`: block until events meet a predicate; the exit code is the verdict."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import TYPE_CHECKING

from waitbus.cli.durations import is_duration, seconds
from waitbus.cli.exits import Exit, table
from waitbus.cli.output import add_format_flags, format_of, renderer
from waitbus.cli.state import paths_from, process_started_ns, reconnect_s

if TYPE_CHECKING:
    from waitbus.consumers.wait import Goal


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "wait", help="block until a matching event; exit 0 success, 1 failure, 124 timeout",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="predicates: dotted.key OP json-literal, OP one of = != < <= > >= ~ (glob)\n"
        "  waitbus wait --source pytest --match 'conclusion=\"failure\"' --timeout 5m\n"
        "  waitbus wait --all-of 'pytest:type=\"session\"' --all-of 'docker:fields.exit_code=0'"
        "\n\n" + table())
    p.add_argument("--source", help="only events from this source")
    p.add_argument("--match", action="append", default=[], metavar="PRED",
                   help="a clause the same event must meet (repeatable: all must hold)")
    p.add_argument("--all-of", action="append", default=[], metavar="[SOURCE:]PRED",
                   help="wait until every clause has been met, by any events over time")
    p.add_argument("--any-of", action="append", default=[], metavar="[SOURCE:]PRED",
                   help="wait for one event meeting any clause")
    p.add_argument("--timeout", metavar="DURATION", help="give up after 30s, 5m, 1h (exit 124)")
    p.add_argument("--since", metavar="CURSOR|DURATION",
                   help="also consider events after this cursor, or received in the last 10m")
    p.add_argument("--inbox", metavar="NAME",
                   help='an agent message to NAME or to everyone ("*")')
    p.add_argument("--correlation", metavar="ID",
                   help="an agent message carrying this correlation id (add --since CURSOR "
                   "with the request's cursor to skip the request itself)")
    add_format_flags(p, what="matching events")
    p.add_argument("--sha", metavar="SHA",
                   help="wait until this commit's GitHub CI settles (exit 0 success, 1 failure); "
                   "counts events stored earlier too")
    p.add_argument("--repo", metavar="OWNER/NAME",
                   help="with --sha: the repository (default: this checkout's origin remote)")


def run(args: argparse.Namespace) -> int:
    if args.sha or args.repo:
        return _run_ci(args)
    from waitbus.api import goal_of
    from waitbus.consumers.feed import start_cursor
    from waitbus.consumers.wait import reach

    if args.inbox is not None or args.correlation is not None:
        goal = _agent_goal(args)
    else:
        goal = goal_of(args.match, source=args.source, all_of=args.all_of, any_of=args.any_of)
    timeout_s = seconds(args.timeout) if args.timeout else None
    paths = paths_from(args)
    cursor = start_cursor(paths, *_since(args.since))
    outcome = asyncio.run(reach(goal, paths, cursor=cursor, timeout_s=timeout_s,
                                reconnect_s=reconnect_s()))
    render = renderer(format_of(args))
    for event in outcome.events:
        print(render(event), flush=True)
    return Exit.FAILED if outcome.failed else Exit.MATCHED


def _agent_goal(args: argparse.Namespace) -> Goal:
    from waitbus.consumers.wait import Goal
    from waitbus.errors import UsageError
    from waitbus.match import parse_clause
    from waitbus.sources import agents

    if args.all_of or args.any_of or args.source not in (None, agents.SOURCE):
        msg = ("--inbox and --correlation wait for agent messages: narrow them with --match, "
               "not with --all-of, --any-of or another --source")
        raise UsageError(msg)
    also = tuple(parse_clause(text) for text in args.match)
    if args.correlation is not None:
        correlated = agents.correlated(args.correlation, also=also)
        if args.inbox is None:
            return Goal((correlated,))
        also = correlated.clauses[1:]
    return Goal(agents.inbox(args.inbox, also=also).matches_)


def _run_ci(args: argparse.Namespace) -> int:
    from waitbus.consumers import ci
    from waitbus.consumers.feed import start_cursor
    from waitbus.errors import UsageError

    if not args.sha or args.source or args.match or args.all_of or args.any_of:
        msg = "--sha waits on a commit's CI by itself; drop --source, --match, --all-of, --any-of"
        raise UsageError(msg)
    repo = args.repo or ci.repo_of_checkout()
    paths = paths_from(args)
    # A commit's earlier runs count, so without --since the whole store is replayed.
    cursor = 0 if args.since is None else start_cursor(paths, *_since(args.since))
    timeout_s = seconds(args.timeout) if args.timeout else None
    outcome = asyncio.run(ci.settle(repo, args.sha, paths, cursor=cursor, timeout_s=timeout_s,
                                    reconnect_s=reconnect_s()))
    render = renderer(format_of(args))
    for event in outcome.events:
        print(render(event), flush=True)
    return Exit.FAILED if outcome.failed else Exit.MATCHED


def _since(text: str | None) -> tuple[int | None, int | None]:
    if text is None:
        return None, process_started_ns()
    if is_duration(text):
        return None, time.time_ns() - int(seconds(text) * 1e9)
    try:
        return int(text), None
    except ValueError:
        from waitbus.errors import UsageError

        msg = f"--since {text!r}: give a cursor (a number) or a duration such as 10m"
        raise UsageError(msg) from None
