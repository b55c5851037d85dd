"""`waitbus install-systemd`: verify, then install the hardened user service."""

from __future__ import annotations

import argparse

from waitbus.cli import installing
from waitbus.cli.commands import command
from waitbus.install.units import Planned
from waitbus.paths import StatePaths


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "install-systemd",
        description="Verify the installed waitbus against its signed release, "
        "then write and enable a hardened systemd user service. Refuses (and "
        "writes nothing) when verification fails.")
    installing.add_install_flags(p, dir_help="where to write the unit "
                                 "(default: $XDG_CONFIG_HOME/systemd/user)")
    p.add_argument("--bridge", metavar="URL",
                   help="also install waitbus-bridge.service running `waitbus bridge nats "
                   "--url URL` (credentials from the nats-creds or nats-nkey secret; "
                   "docs/TEAM.md)")
    p.add_argument("--bridge-arg", action="append", default=[], metavar="ARG",
                   help="one more argument for the bridge, e.g. --bridge-arg=--agents "
                   "(repeatable)")


def run(args: argparse.Namespace) -> int:
    from waitbus.install import service, units

    def plan(paths: StatePaths, command: list[str]) -> list[Planned]:
        unit_dir = args.unit_dir or units.default_systemd_dir()
        planned = [units.systemd_unit(unit_dir, paths, command)]
        if args.bridge:
            planned.append(units.bridge_unit(unit_dir, paths, command,
                                             ["--url", args.bridge, *args.bridge_arg]))
        return planned

    def activate(planned: list[Planned]) -> None:
        for item in planned:
            service.systemd_enable(item.path.name)

    if args.bridge_arg and not args.bridge:
        from waitbus.errors import UsageError

        msg = "--bridge-arg needs --bridge URL"
        raise UsageError(msg)
    return installing.install(args, plan, "systemd", activate)
