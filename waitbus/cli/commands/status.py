"""`waitbus status`: is the daemon up, where is its head, who is subscribed."""

from __future__ import annotations

import argparse
import asyncio

from waitbus.cli.commands import command
from waitbus.cli.state import paths_from
from waitbus.event import JSONObject, dump_json
from waitbus.untrusted import escape


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "status",
        description="Ask the running daemon for its pid, head cursor, store generation (a "
        "store moved aside and created again has a new one), subscribers (with their "
        "lag) and each source's state (a source that failed or is degraded says why). "
        "Exits 69 when no daemon answers.")
    p.add_argument("--json", action="store_true", help="print the status as JSON")


def run(args: argparse.Namespace) -> int:
    from waitbus.consumers import bridges as report
    from waitbus.consumers.status import status

    paths = paths_from(args)
    info = asyncio.run(status(paths, reconnect_s=0.0))
    bridges = report.read(paths, info.head)
    if args.json:
        out = info.to_json()
        if bridges:
            out["bridges"] = [bridge.to_json() for bridge in bridges]
        print(dump_json(out))
        return 0
    print(f"daemon pid {info.pid} serving {info.state_dir}")
    generation = "" if info.generation is None else f" (store generation {info.generation})"
    print(f"head cursor {info.head}{generation}, {len(info.subscribers)} subscriber(s)")
    for name, source in sorted(info.sources.items()):
        why = f": {source.error}" if source.error else ""
        print(escape(f"  source {name}: {source.state}{why}"))
    if info.pending_commits:
        print(f"  {info.pending_commits} commit(s) not stored yet, the oldest waiting "
              f"{info.oldest_pending_s:.1f} s for the store's write lock or the disk (another "
              f"process may hold {paths.store_lock}: `fuser` names it)")
    for bridge in bridges:
        print(escape(str(bridge)))
    if info.retention is not None:
        print(_retention_line(info.retention))
    return 0


def _retention_line(retention: JSONObject) -> str:
    policy = retention.get("policy")
    bounds = []
    if isinstance(policy, dict):
        age, size, rows = policy.get("max_age_s"), policy.get("max_bytes"), policy.get("max_rows")
        if isinstance(age, int | float):
            bounds.append(f"{age / 86400:g} days")
        if isinstance(size, int):
            bounds.append(f"{size / 2**20:g} MiB")
        if isinstance(rows, int):
            bounds.append(f"{rows} events")
    kept = " or ".join(bounds) if bounds else "everything (retention off)"
    return (f"retention: keeps {kept}; pruned through cursor {retention.get('pruned_through')} "
            f"in {retention.get('passes')} pass(es)")
