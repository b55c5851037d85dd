"""`waitbus serve`: run the daemon in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import sys

from waitbus.cli.state import paths_from


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("serve", help="run the daemon in the foreground")


def run(args: argparse.Namespace) -> int:
    from waitbus.bus.daemon import Daemon
    from waitbus.config import Settings
    from waitbus.install.notify import notify_ready
    from waitbus.sources import registry

    def ready(daemon: Daemon) -> None:
        print(f"waitbus: serving {daemon.settings.paths.socket} (pid {daemon.status()['pid']})",
              flush=True)
        notify_ready()

    settings = Settings(paths=paths_from(args))
    daemon = Daemon(settings, registry.builtin(settings))
    asyncio.run(daemon.serve(on_ready=ready))
    print("waitbus: stopped", file=sys.stderr)
    return 0
