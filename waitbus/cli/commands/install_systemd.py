"""`waitbus install-systemd`: verify, then install the hardened user service."""

from __future__ import annotations

import argparse

from waitbus.cli import installing
from waitbus.install.units import SYSTEMD_UNIT, Planned
from waitbus.paths import StatePaths


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("install-systemd", help="verify waitbus, then install its user service",
                       description="Verify the installed waitbus against its signed release, "
                       "then write and enable a hardened systemd user service. Refuses (and "
                       "writes nothing) when verification fails.")
    installing.add_install_flags(p, dir_help="where to write the unit "
                                 "(default: $XDG_CONFIG_HOME/systemd/user)")


def run(args: argparse.Namespace) -> int:
    from waitbus.install import service, units

    def plan(paths: StatePaths, command: list[str]) -> list[Planned]:
        unit_dir = args.unit_dir or units.default_systemd_dir()
        return [units.systemd_unit(unit_dir, paths, command)]

    return installing.install(args, plan, "systemd",
                              lambda _planned: service.systemd_enable(SYSTEMD_UNIT))
