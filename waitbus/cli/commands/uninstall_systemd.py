"""`waitbus uninstall-systemd`: stop the user service and remove exactly what was installed."""

from __future__ import annotations

import argparse

from waitbus.cli import installing


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("uninstall-systemd", help="remove the user service install-systemd wrote")
    installing.add_uninstall_flags(p)


def run(args: argparse.Namespace) -> int:
    from waitbus.install import service
    from waitbus.install.units import SYSTEMD_UNIT

    return installing.uninstall(args, "systemd",
                                lambda _recorded: service.systemd_disable(SYSTEMD_UNIT))
