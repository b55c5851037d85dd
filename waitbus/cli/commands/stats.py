"""`waitbus stats`: waits served, wake latency, events per source, and polling avoided."""

from __future__ import annotations

import argparse
import time

from waitbus.cli.commands import command
from waitbus.cli.state import paths_from
from waitbus.event import dump_json
from waitbus.untrusted import escape


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(sub, "stats")
    p.add_argument("--since", default="7d", metavar="DURATION",
                   help="how far back to look (default 7d)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")


def run(args: argparse.Namespace) -> int:
    from waitbus.cli.durations import seconds
    from waitbus.consumers.stats import gather
    from waitbus.store.store import Store

    since_ns = time.time_ns() - int(seconds(args.since) * 1e9)
    paths = paths_from(args)
    if not paths.store.exists():
        print(f"no event store at {paths.store} yet: nothing to count")
        return 0
    with Store(paths, read_only=True) as store:
        stats = gather(store, since_ns)
    if args.json:
        print(dump_json(stats.to_json()))
        return 0
    clients = ", ".join(f"{n} {c}" for c, n in sorted(stats.by_client.items()))
    endings = ", ".join(f"{n} {e.replace('_', ' ')}" for e, n in sorted(stats.by_ending.items()))
    print(f"waits in the last {args.since}: {stats.waits}"
          + (f" ({clients}; {endings})" if stats.waits else ""))
    lat = stats.wake_latency_ms
    if stats.woken:
        print(f"wake latency, event committed -> waiter woke, over {stats.woken} woken waits: "
              f"p50 {lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms, max {lat['max']:.2f} ms")
    print(f"time spent waiting: {stats.waited_s:.1f} s, with no polling")
    sources = ", ".join(f"{escape(s)} {n}" for s, n in stats.events_by_source.items()) or "none"
    print(f"events per source: {sources}")
    poll = stats.polling
    print(f"polling instead (computed from the same waits at each source's common interval: "
          f"docker and fs 1 s, github 3 s, others 10 s): {poll.calls} status calls"
          + (f", {poll.tool_round_trips} of them MCP tool round trips" if poll.tool_round_trips
             else "")
          + f", and {poll.added_delay_s:.1f} s more waiting for the poll to notice")
    return 0
