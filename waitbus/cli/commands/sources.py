"""`waitbus sources`: the built-in sources and installed plugins, with each plugin's trust."""

from __future__ import annotations

import argparse

from waitbus.cli.commands import command
from waitbus.cli.state import paths_from

# How each built-in is turned on; plugins are listed from their entry points.
BUILTINS = (
    ("docker", "waitbus serve --docker"),
    ("fs", "waitbus serve --watch PATH"),
    ("webhook", "waitbus serve (--listen-port; POST /github, /alertmanager)"),
    ("pytest", "pytest --waitbus"),
    ("agents", "waitbus emit / waitbus wait agent flags"),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = command(
        sub, "sources",
        description="Plugins come from the waitbus.sources.v1 entry points. Each plugin's "
        "publisher (from its PEP 740 provenance, else 'no provenance') is pinned when the "
        "daemon first loads it; a later change of publisher refuses it until re-pinned.")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--trust", metavar="NAME",
                        help="re-pin plugin NAME to its current publisher (after checking it)")


def run(args: argparse.Namespace) -> int:
    from waitbus.event import JSONObject, dump_json
    from waitbus.sources import plugins

    paths = paths_from(args)
    if args.trust:
        plugin = plugins.trust(paths, args.trust)
        print(f"waitbus: plugin {plugin.name} pinned to {plugin.provenance}")
        return 0
    rows: list[JSONObject] = [
        {"name": name, "kind": "builtin", "enable": how} for name, how in BUILTINS]
    found = plugins.discover(paths)
    if args.json:
        for row in [*rows, *(p.to_json() for p in found)]:
            print(dump_json(row))
        return 0
    for name, how in BUILTINS:
        print(f"{name:<12} builtin  {how}")
    for p in found:
        print(f"{p.name:<12} plugin   {p.trust}: {p.provenance} "
              f"({p.distribution} {p.version}, {p.value})")
        if not p.trust.loads:
            print(f"             {p.refusal}")
    return 0
