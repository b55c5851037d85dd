"""The `waitbus` command: parse argv, run one command, map errors to the exit table."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from waitbus.cli.exits import Exit, table
from waitbus.errors import NotRunning, StoreError, UsageError, WaitbusError, WaitTimeout

# Each module has register(subparsers) and run(args) -> int, and imports heavy things in run().
COMMANDS = (
    "init",
    "serve",
    "emit",
    "wait",
    "on",
    "tail",
    "status",
    "demo",
    "mcp",
    "swarm-demo",
    "top",
    "verify",
    "install-systemd",
    "uninstall-systemd",
    "install-launchd",
    "uninstall-launchd",
    "secret",
    "sources",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="waitbus",
        description="A workstation-local event bus: wait on events instead of polling.",
        epilog=table() + "\n\nstart here: `waitbus demo`, then `waitbus serve` and "
        "`waitbus wait --help`",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--state-dir", help="state directory (default: $WAITBUS_STATE_DIR, "
                        "else $XDG_STATE_HOME/waitbus, else ~/.local/state/waitbus)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        _module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first `--` is a command line for `waitbus on`, never parsed here.
    tail: list[str] | None = None
    if "--" in words:
        cut = words.index("--")
        words, tail = words[:cut], words[cut + 1 :]
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 for --help
        return int(exc.code or 0)
    args.after_dashes = tail
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="waitbus: %(message)s", stream=sys.stderr)
    try:
        return int(_module(args.command.replace("-", "_")).run(args))
    except KeyboardInterrupt:
        return Exit.INTERRUPTED
    except WaitbusError as exc:
        print(f"waitbus: {exc}", file=sys.stderr)
        return _exit_for(exc)


def entry() -> None:
    code = main()
    # Every command has finished its work (stores committed, daemon drained) by now. Skipping
    # interpreter teardown saves about 10 ms, which is most of a woken `wait`'s exit time.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    logging.shutdown()
    os._exit(code)


def _exit_for(exc: WaitbusError) -> int:
    if isinstance(exc, UsageError):
        return Exit.USAGE
    if isinstance(exc, NotRunning):
        return Exit.UNREACHABLE
    if isinstance(exc, WaitTimeout):
        return Exit.TIMEOUT
    if isinstance(exc, StoreError):
        return Exit.STORE
    return Exit.FAILED


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"waitbus.cli.commands.{name.replace('-', '_')}")
