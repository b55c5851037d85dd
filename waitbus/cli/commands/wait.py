"""`waitbus wait`: block until events meet what it asks for; the exit code is the verdict."""

from __future__ import annotations

import argparse
import sys

from waitbus.cli.commands import command
from waitbus.cli.durations import seconds
from waitbus.cli.exits import Exit, table
from waitbus.cli.output import add_format_flags, format_of, renderer
from waitbus.cli.parser import RawDescriptionHelpFormatter
from waitbus.cli.state import paths_from, reconnect_s, since_of

TYPE_CHECKING = False  # not typing's: a waiting process starts faster without it
if TYPE_CHECKING:
    from waitbus.consumers.wait import Wait
    from waitbus.paths import StatePaths


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "wait", formatter_class=RawDescriptionHelpFormatter,
        epilog="a clause: dotted.key OP json-literal, OP one of = != < <= > >= ~ (glob)\n"
        "  waitbus wait --source pytest --match 'conclusion=\"failure\"' --timeout 5m\n"
        "  waitbus wait --all-of 'pytest:type=\"session\"' --all-of 'docker:fields.exit_code=0'"
        "\n\n" + table())
    p.add_argument("--source", help="only events from this source")
    p.add_argument("--match", action="append", default=[], metavar="CLAUSE",
                   help="a clause (key OP value) the same event must meet (repeatable: all "
                   "must hold)")
    p.add_argument("--all-of", action="append", default=[], metavar="[SOURCE:]CLAUSE",
                   help="wait until every clause has been met, by any events over time")
    p.add_argument("--any-of", action="append", default=[], metavar="[SOURCE:]CLAUSE",
                   help="wait for one event meeting any clause")
    p.add_argument("--timeout", metavar="DURATION",
                   help="give up after 30s, 5m, 1h (exit 124); 0 checks what is stored now and "
                   "returns at once, with or without a daemon")
    p.add_argument("--since", metavar="CURSOR|DURATION",
                   help="also consider events after this cursor, or received in the last 10m "
                   "(those already stored are read from the store: no daemon needed for them). "
                   "A cursor above every cursor of the store is from a store that was replaced "
                   "(moved aside and created again): the wait says so on stderr and counts "
                   "the new store's events from its start, as it does when the store is "
                   "replaced while it waits")
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
    from waitbus.consumers import wait as waiting
    from waitbus.consumers.since import Since
    from waitbus.consumers.waitlog import logged

    wait = waiting.build(
        args.match, source=args.source, all_of=args.all_of, any_of=args.any_of,
        inbox=args.inbox, correlation=args.correlation, sha=args.sha, repo=args.repo,
        since=since_of(args.since), now=Since.process_start(),
        timeout_s=seconds(args.timeout) if args.timeout else None)
    render = renderer(format_of(args))
    paths = paths_from(args)
    _say_unseen(paths, wait)
    with logged(paths, wait, "cli") as timing:
        # Blocking: a process that only waits starts faster without an event loop.
        outcome = waiting.run_blocking(wait, paths, reconnect_s=reconnect_s(),
                                       on_live=timing.prepare)
        timing.woke(outcome)
    for event in outcome.events:
        print(render(event), flush=True)
    timing.save()  # after the verdict is out: the record never delays it
    return Exit.FAILED if outcome.failed else Exit.MATCHED


def _say_unseen(paths: StatePaths, wait: Wait) -> None:
    """A source no event has come from yet may be a typo: say so once, then wait anyway."""
    from waitbus.consumers.history import unseen_sources
    from waitbus.untrusted import escape

    for source in unseen_sources(paths, wait.subscription):
        print(f"waitbus: no event from source {escape(source)!r} is stored yet; waiting for "
              "its first (check the name against `waitbus tail`)", file=sys.stderr)

