"""`waitbus bridge nats`: export this bus to NATS JetStream and import the other hosts'."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from waitbus.cli.commands import command
from waitbus.cli.durations import seconds
from waitbus.cli.exits import Exit, table
from waitbus.cli.state import paths_from

if TYPE_CHECKING:
    from waitbus.bridge.bridge import Bridge
    from waitbus.bridge.config import Credentials
    from waitbus.match import AnyOf
    from waitbus.paths import StatePaths

def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = command(
        sub, "bridge", formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="docs/TEAM.md has the topology, the CloudEvents mapping and the trust model.\n\n"
        + table())
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    nats = kinds.add_parser(
        "nats", help="export local events to a JetStream stream and import other hosts'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="credentials: --creds FILE or --nkey FILE (a private file you own), else the\n"
        "secrets nats-creds / nats-nkey ($CREDENTIALS_DIRECTORY, then "
        "`waitbus secret set`).\n"
        "agent messages stay local unless both hosts pass --agents.\n\n" + table())
    nats.add_argument("--url", required=True, metavar="URL",
                      help="nats://HOST:PORT or tls://HOST:PORT (comma-separated for several)")
    nats.add_argument("--host", metavar="NAME",
                      help="this host's name in subjects and origins (default: the hostname's "
                      "first label)")
    nats.add_argument("--stream", default="WAITBUS", help="the JetStream stream (default WAITBUS)")
    auth = nats.add_mutually_exclusive_group()
    auth.add_argument("--creds", type=Path, metavar="FILE", help="a NATS user credentials file")
    auth.add_argument("--nkey", type=Path, metavar="FILE", help="an nkey seed file")
    nats.add_argument("--tls-ca", type=Path, metavar="FILE",
                      help="CA certificates to verify the server with (PEM)")
    nats.add_argument("--export", action="append", default=[], metavar="[SOURCE:]PRED",
                      help="export only local events meeting any of these (default: all)")
    nats.add_argument("--import", dest="accept", action="append", default=[],
                      metavar="[SOURCE:]PRED",
                      help="import only remote events meeting any of these (default: all)")
    nats.add_argument("--agents", action="store_true",
                      help="export and import agent messages too (both hosts must opt in)")
    nats.add_argument("--ack-wait", default="30s", metavar="DURATION",
                      help="JetStream redelivers a message not acknowledged within this")


def run(args: argparse.Namespace) -> int:
    from waitbus.bridge import link
    from waitbus.bridge.bridge import Bridge
    from waitbus.bridge.config import Settings
    from waitbus.cloudevents import check_host, default_host

    paths = paths_from(args)
    settings = Settings(
        paths=paths, url=args.url, host=check_host(args.host or default_host()),
        stream=args.stream, credentials=_credentials(args, paths), tls_ca=args.tls_ca,
        export=_filter(args.export), accept=_filter(args.accept),
        agents=args.agents, ack_wait_s=seconds(args.ack_wait))
    if settings.tls_ca is not None and not settings.tls_ca.is_file():
        from waitbus.errors import UsageError

        msg = f"--tls-ca {settings.tls_ca}: no such file"
        raise UsageError(msg)

    def ready(bridge: Bridge) -> None:
        from waitbus.install.notify import notify_ready

        s = bridge.settings
        print(f"waitbus: bridge connected to {bridge.public_url} as host {s.host} "
              f"(stream {s.stream})", flush=True)
        notify_ready()

    try:
        asyncio.run(Bridge(settings).serve(on_ready=ready))
    except link.Unreachable as exc:
        print(f"waitbus: {exc}", file=sys.stderr)
        return Exit.UNREACHABLE
    print("waitbus: bridge stopped", file=sys.stderr)
    return 0


def _filter(clauses: list[str]) -> AnyOf:
    from waitbus.match import EVERYTHING, AnyOf, parse_scoped

    return AnyOf(tuple(parse_scoped(text) for text in clauses)) if clauses else EVERYTHING


def _credentials(args: argparse.Namespace, paths: StatePaths) -> Credentials:
    from waitbus.bridge.config import Credentials
    from waitbus.secrets import NATS_CREDS, NATS_NKEY, read_private_file, read_secret

    if args.creds is not None:
        return Credentials(creds=_text(read_private_file(args.creds)),
                           origin=f"--creds {args.creds}")
    if args.nkey is not None:
        return Credentials(nkey_seed=_text(read_private_file(args.nkey)),
                           origin=f"--nkey {args.nkey}")
    creds = read_secret(NATS_CREDS, paths)
    if creds is not None:
        return Credentials(creds=_text(creds), origin=f"the {NATS_CREDS} secret")
    seed = read_secret(NATS_NKEY, paths)
    if seed is not None:
        return Credentials(nkey_seed=_text(seed), origin=f"the {NATS_NKEY} secret")
    return Credentials()


def _text(secret: bytes) -> str:
    from waitbus.errors import UsageError

    try:
        return secret.decode()
    except UnicodeDecodeError:
        msg = "the NATS credentials are not text; give a .creds file or an nkey seed file"
        raise UsageError(msg) from None
