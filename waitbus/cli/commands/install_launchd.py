"""`waitbus install-launchd`: verify, then install the LaunchAgent (macOS)."""

from __future__ import annotations

import argparse

from waitbus.cli import installing
from waitbus.cli.commands import command
from waitbus.install.units import Planned
from waitbus.paths import StatePaths


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "install-launchd",
        description="Verify the installed waitbus against its signed release, "
        "then write and load a LaunchAgent. Refuses (and writes nothing) when "
        "verification fails.")
    installing.add_install_flags(p, dir_help="where to write the plist "
                                 "(default: ~/Library/LaunchAgents)")


def run(args: argparse.Namespace) -> int:
    from waitbus.install import service, units

    def plan(paths: StatePaths, command: list[str]) -> list[Planned]:
        agent_dir = args.unit_dir or units.default_launchd_dir()
        return [units.launchd_plist(agent_dir, paths, command)]

    return installing.install(args, plan, "launchd",
                              lambda planned: service.launchd_load(planned[0].path))
