"""`waitbus uninstall-launchd`: unload the LaunchAgent and remove exactly what was installed."""

from __future__ import annotations

import argparse

from waitbus.cli import installing
from waitbus.cli.commands import command


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "uninstall-launchd",
        description="Unload the waitbus LaunchAgent, then remove exactly the files "
        "install-launchd recorded; a file changed since then is kept and named. The state "
        "directory and its events stay.")
    installing.add_uninstall_flags(p)


def run(args: argparse.Namespace) -> int:
    from waitbus.install import service

    return installing.uninstall(args, "launchd",
                                lambda recorded: service.launchd_unload(recorded[0]))
