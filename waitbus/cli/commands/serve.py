"""`waitbus serve`: run the daemon in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from waitbus.cli import retention
from waitbus.cli.commands import command
from waitbus.cli.state import paths_from

if TYPE_CHECKING:
    from waitbus.bus.daemon import Daemon
    from waitbus.sources.base import Source


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = command(sub, "serve")
    parser.add_argument(
        "--docker", nargs="?", const="", default=None, metavar="SOCKET",
        help="follow the Docker engine's container events (socket: $DOCKER_HOST if it is "
        "unix://, else /var/run/docker.sock); off unless given")
    parser.add_argument(
        "--watch", action="append", default=[], metavar="PATH",
        help="watch a file, or the entries directly in a directory, for writes, creates, "
        "deletes and moves (repeatable)")
    parser.add_argument(
        "--listen-port", default="9000", metavar="PORT|off",
        help="webhook listener port on 127.0.0.1 (default 9000; 0 picks a free port and "
        "prints it; off disables the listener)")
    retention.add_serve_flags(parser)


def run(args: argparse.Namespace) -> int:
    _import_asyncio()
    import asyncio

    from waitbus.bus.daemon import Daemon
    from waitbus.config import Settings
    from waitbus.install.notify import notify_ready
    from waitbus.sources import registry

    def ready(daemon: Daemon) -> None:
        print(f"waitbus: serving {daemon.settings.paths.socket} (pid {daemon.status().pid})",
              flush=True)
        notify_ready()

    paths = paths_from(args)
    settings = Settings(paths=paths, docker_socket=_docker_socket(args.docker),
                        watch_paths=_watch_paths(args.watch),
                        listen_port=_listen_port(args.listen_port),
                        retention=retention.for_serve(args, paths))
    sources = registry.enabled(settings)
    if settings.listen_port is not None:
        _announce_listener(sources)
    daemon = Daemon(settings, sources)
    if settings.listen_port is not None:
        _bridge_metrics(daemon)
    asyncio.run(daemon.serve(on_ready=ready))
    print("waitbus: stopped", file=sys.stderr)
    return 0


def _import_asyncio() -> None:
    """Import asyncio, without ssl unless a plugin may want TLS.

    asyncio imports ssl for its TLS transports, and ssl loads OpenSSL: about 4 MB of an idle
    daemon's memory. No built-in source speaks TLS (the webhook listener is plain HTTP on
    loopback; Docker and the bus are AF_UNIX), so unless a plugin is installed, asyncio is
    imported while ssl reads as unavailable; `import ssl` works again afterwards, only
    asyncio's own TLS stays off in this process.
    """
    from waitbus.sources import plugins

    if "asyncio" in sys.modules or "ssl" in sys.modules or plugins.declared_anywhere():
        return
    sys.modules["ssl"] = None  # type: ignore[assignment]  # import ssl raises ImportError
    try:
        import asyncio  # noqa: F401 - imported for its side: sys.modules holds it
    finally:
        del sys.modules["ssl"]


def _bridge_metrics(daemon: Daemon) -> None:
    """Bridge lag on /metrics while a bridge runs (the bridge records its marks in the store)."""
    from waitbus.consumers import bridges as report

    paths = daemon.settings.paths

    def export_lag() -> list[tuple[dict[str, str], float]]:
        return [({"bridge": b.name}, b.export_lag) for b in report.read(paths) if b.running]

    def import_lag() -> list[tuple[dict[str, str], float]]:
        return [({"bridge": b.name}, b.import_lag) for b in report.read(paths)
                if b.running and b.import_lag is not None]

    daemon.metrics.add("waitbus_bridge_export_lag_events", "gauge",
                       "Local events a running bridge has yet to export.", export_lag)
    daemon.metrics.add("waitbus_bridge_import_lag_events", "gauge",
                       "Remote events a running bridge has yet to import.", import_lag)


def _listen_port(flag: str) -> int | None:
    from waitbus.errors import UsageError

    if flag == "off":
        return None
    if not flag.isdigit() or int(flag) > 65535:
        msg = f"--listen-port {flag!r}: give a port from 0 to 65535 (0 picks one), or off"
        raise UsageError(msg)
    return int(flag)


def _announce_listener(sources: list[Source]) -> None:
    from waitbus.sources.webhook.http import Listener

    for source in sources:
        if isinstance(source, Listener):
            source.on_listening = lambda url: print(f"waitbus: webhook listener on {url}",
                                                    flush=True)


def _docker_socket(flag: str | None) -> Path | None:
    if flag is None:
        return None
    if flag:
        return Path(flag.removeprefix("unix://"))
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        return Path(host.removeprefix("unix://"))
    return Path("/var/run/docker.sock")


def _watch_paths(flags: list[str]) -> tuple[Path, ...]:
    from waitbus.errors import UsageError

    paths = []
    for flag in flags:
        path = Path(flag).expanduser().absolute()
        if not path.exists():
            msg = f"--watch {flag}: no such file or directory; create it or fix the path"
            raise UsageError(msg)
        paths.append(path)
    return tuple(dict.fromkeys(paths))
