"""`waitbus init`: create the private state directory and the event store."""

from __future__ import annotations

import argparse

from waitbus.cli.commands import command
from waitbus.cli.state import paths_from
from waitbus.store.store import Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command(
        sub, "init",
        description="Create the state directory (mode 0700, with missing parents 0700) and an "
        "empty event store in it. Emitting and serving create them too; init is for setting "
        "up ahead of time, or again after moving a damaged store aside.")


def run(args: argparse.Namespace) -> int:
    paths = paths_from(args)
    with Store(paths) as store:
        print(f"state directory {paths.root} (mode 0700), store {paths.store} "
              f"with {store.count()} events")
    print("next: run `waitbus serve` (or `waitbus install-systemd`), then `waitbus wait --help`")
    return 0
