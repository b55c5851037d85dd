"""`waitbus uninstall-systemd`: stop the user service and remove exactly what was installed."""

from __future__ import annotations

import argparse

from waitbus.cli import installing
from waitbus.cli.commands import command


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "uninstall-systemd",
        description="Stop and disable the waitbus user service, then remove exactly the files "
        "install-systemd recorded; a file changed since then is kept and named. The state "
        "directory and its events stay.")
    installing.add_uninstall_flags(p)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from waitbus.install import service
    from waitbus.install.units import BRIDGE_UNIT, SYSTEMD_UNIT

    def deactivate(recorded: list[Path]) -> None:
        names = {path.name for path in recorded}
        # The bridge first: it depends on the daemon's unit.
        for unit in (BRIDGE_UNIT, SYSTEMD_UNIT):
            if unit in names or unit == SYSTEMD_UNIT:
                service.systemd_disable(unit)

    return installing.uninstall(args, "systemd", deactivate)
