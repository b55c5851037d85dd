"""`waitbus prune`: apply retention now, through the daemon when it runs, else directly."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from waitbus.cli import retention
from waitbus.cli.commands import command
from waitbus.cli.state import paths_from
from waitbus.event import JSON, JSONObject, dump_json

if TYPE_CHECKING:
    from waitbus.config import Retention
    from waitbus.paths import StatePaths


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "prune", formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="with no bound given, the configured policy applies (config.toml, default 30d "
        "or 256MiB)\n  waitbus prune --older-than 7d --dry-run\n"
        "  waitbus prune --keep-bytes 64MiB\n"
        "events a connected subscriber has not been sent yet are never deleted")
    p.add_argument("--older-than", metavar="DURATION", help="delete events older than this")
    p.add_argument("--keep-bytes", metavar="SIZE",
                   help="delete the oldest events until the store is under this size")
    p.add_argument("--keep-rows", metavar="N", help="keep at most this many events")
    p.add_argument("--config", metavar="FILE",
                   help="the TOML config file (default: STATE_DIR/config.toml)")
    p.add_argument("--dry-run", action="store_true", help="say what would go; delete nothing")
    p.add_argument("--vacuum", action="store_true",
                   help="first rewrite a store made before incremental vacuum, once, so pruning "
                   "can shrink the file (emits wait while it runs)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    from waitbus.cli.durations import seconds
    from waitbus.config import Retention

    paths = paths_from(args)
    if not paths.store.exists():
        print(f"nothing to prune: no event store at {paths.store}")
        return 0
    bounds = (args.older_than, args.keep_bytes, args.keep_rows)
    if any(b is not None for b in bounds):
        policy = Retention(
            None if args.older_than is None else seconds(args.older_than),
            None if args.keep_bytes is None else retention.byte_count(args.keep_bytes),
            None if args.keep_rows is None else retention.row_count(args.keep_rows))
    else:
        policy = retention.from_config(retention.config_path(paths, args.config))
    vacuumed = _vacuum(paths) if args.vacuum and not args.dry_run else None
    report, via = asyncio.run(_prune(paths, policy, args.dry_run))
    if args.json:
        print(dump_json({**report, "via": via, "policy": policy.to_json(),
                         "vacuum": vacuumed}))
        return 0
    if vacuumed is not None:
        print(f"vacuumed: {_mib(vacuumed['before'])} -> {_mib(vacuumed['after'])}, "
              "incremental auto-vacuum on")
    _print(report, via)
    return 0


async def _prune(paths: StatePaths, policy: Retention,
                 dry_run: bool) -> tuple[JSONObject, str]:
    from waitbus.bus.pruning import prune_without_daemon
    from waitbus.consumers.status import prune
    from waitbus.errors import NotRunning

    # The daemon knows its subscribers' cursors, so it prunes whenever it runs; a daemon that
    # is starting holds its lock before it answers, hence the short budget on the second ask.
    for budget_s in (0.0, 2.0):
        try:
            return await prune(paths, policy, dry_run=dry_run, reconnect_s=budget_s), "daemon"
        except NotRunning:
            alone = await prune_without_daemon(paths, policy, dry_run=dry_run)
            if alone is not None:
                return alone.to_json(), "store"
    raise NotRunning(paths.socket, 2.0)


def _vacuum(paths: StatePaths) -> JSONObject:
    from waitbus.store.retention import Pruner
    from waitbus.store.store import Store

    with Store(paths) as store:
        pruner = Pruner(store)
        before = pruner.size().total_bytes
        pruner.vacuum_once()
        pruner.checkpoint()
        return {"before": before, "after": pruner.size().total_bytes}


def _print(report: JSONObject, via: str) -> None:
    before, after = report["before"], report["after"]
    assert isinstance(before, dict)
    assert isinstance(after, dict)
    if report["dry_run"]:
        about = "about " if report["estimated"] else ""
        print(f"would prune {about}{report['rows']} events (through cursor {report['through']});"
              f" the store takes {_mib(before['total_bytes'])}")
    else:
        print(f"pruned {report['rows']} events (every cursor through {report['through']} is "
              f"gone); store {_mib(before['total_bytes'])} -> {_mib(after['total_bytes'])}"
              f" (via the {via})")
    if report["held_back_at"] is not None:
        print(f"stopped at cursor {report['held_back_at']}: a connected subscriber has not been "
              "sent the events after it yet")
    if not before.get("incremental_vacuum"):
        print("this store predates incremental vacuum, so the file does not shrink; run "
              "`waitbus prune --vacuum` once")


def _mib(value: JSON) -> str:
    assert isinstance(value, int)
    return f"{value / (1024 * 1024):.1f} MiB"
