"""`waitbus secret set NAME`: store a secret for the daemon (value from stdin, never argv)."""

from __future__ import annotations

import argparse
import sys

from waitbus.cli.commands import command
from waitbus.cli.state import paths_from
from waitbus.errors import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(sub, "secret")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    s = verbs.add_parser("set", help="store NAME; the value is read from stdin or a prompt",
                         description="Store a secret in <state>/secrets: encrypted with "
                         "systemd-creds where systemd can decrypt it for a user unit (systemd "
                         ">= 256), otherwise as a 0600 file loaded with LoadCredential=. "
                         "Re-run install-systemd afterwards so the unit loads it.")
    s.add_argument("name", metavar="NAME", help="e.g. github-webhook or alertmanager-token")
    s.add_argument("--storage", choices=["auto", "encrypted", "file"], default="auto",
                   help="auto: encrypted where supported, else a 0600 file")


def run(args: argparse.Namespace) -> int:
    from waitbus.install import secret_store
    from waitbus.install.creds import Storage

    value = _read_value(args.name)
    storage = None if args.storage == "auto" else Storage(args.storage)
    stored = secret_store.store(paths_from(args).ensure(), args.name, value, storage)
    print(f"stored {args.name} ({stored.storage.value}) at {stored.path}; run "
          "`waitbus install-systemd` again so the unit loads it")
    return 0


def _read_value(name: str) -> bytes:
    if sys.stdin.isatty():
        import getpass

        text = getpass.getpass(f"value for {name}: ")
        raw = text.encode()
    else:
        raw = sys.stdin.buffer.read()
    # One trailing newline comes from `echo` or a file's last line, not from the secret.
    raw = raw.removesuffix(b"\n").removesuffix(b"\r")
    if not raw:
        msg = (f"empty value for secret {name}; pipe it on stdin, "
               f"e.g. `waitbus secret set {name} < file`")
        raise UsageError(msg)
    return raw
