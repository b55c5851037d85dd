"""The `waitbus` command: parse argv, run one command, map errors to the exit table."""

from __future__ import annotations

import os
import sys

# Each command is a module (`waitbus/cli/commands/<name>.py`). Only the module of the command
# being run is imported, so `waitbus wait` and `waitbus serve` load nothing else. This module
# imports the parser and the error table only in the functions that use them: `hook-event`
# (run by an agent client at every turn) leaves through entry() without either.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import ModuleType

    from waitbus.errors import WaitbusError


def build_parser(selected: str | Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser, with full arguments for the `selected` commands (all when it is None).

    With a command selected, the others are left out: building a parser per command costs
    more of a short command's start-up than its own work. Without one, the others get a bare
    entry each, for `waitbus --help`.
    """
    from waitbus.cli.commands import COMMANDS
    from waitbus.cli.exits import table
    from waitbus.cli.parser import Parser, RawDescriptionHelpFormatter, Version

    chosen = [selected] if isinstance(selected, str) else selected
    parser = Parser(
        prog="waitbus",
        description="A workstation-local event bus: wait on events instead of polling.",
        epilog=table() + "\n\nstart here: `waitbus demo`, then `waitbus serve` and "
        "`waitbus wait --help`",
        formatter_class=RawDescriptionHelpFormatter,
    )
    parser.add_argument("--state-dir", help="state directory (default: $WAITBUS_STATE_DIR, "
                        "else $XDG_STATE_HOME/waitbus, else ~/.local/state/waitbus)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    parser.add_argument("--version", action=Version, help="print the installed version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary in COMMANDS.items():
        if chosen is None or name in chosen:
            _module(name).register(sub)
        elif not any(chosen):
            sub.add_parser(name, help=summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from waitbus.cli.commands import COMMANDS
    from waitbus.cli.exits import Exit
    from waitbus.errors import WaitbusError

    words = list(sys.argv[1:] if argv is None else argv)
    # Every word that names a command gets its full parser: `--state-dir wait emit` is emit.
    parser = build_parser([word for word in words if word in COMMANDS] or "")
    # Everything after the first `--` is a command line for `waitbus on`, never parsed here.
    tail: list[str] | None = None
    if "--" in words:
        cut = words.index("--")
        words, tail = words[:cut], words[cut + 1 :]
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 for --help
        return int(exc.code or 0)
    del parser  # a daemon or a long wait need not keep it
    args.after_dashes = tail
    command = _module(args.command)
    if getattr(command, "LOGS", True):
        _configure_logging(verbose=args.verbose)
    try:
        return int(command.run(args))
    except KeyboardInterrupt:
        return Exit.INTERRUPTED
    except WaitbusError as exc:
        from waitbus.untrusted import escape

        # A message may quote outside text (a daemon's refusal, a stored value).
        print(f"waitbus: {escape(str(exc), keep_lines=True)}", file=sys.stderr)
        return _exit_for(exc)
    except BrokenPipeError:
        # `waitbus tail | head -1`: the reader has what it wanted. Point stdout at /dev/null
        # so the final flush cannot fail again.
        _silence_stdout()
        return Exit.CLOSED_OUTPUT
    except Exception as exc:
        # Every expected failure is a WaitbusError raised at an edge; this is a bug.
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"waitbus: internal error ({type(exc).__name__}: {_short(str(exc))}); this is "
              "a bug in waitbus: rerun with -v for the traceback and report it",
              file=sys.stderr)
        return Exit.INTERNAL


def entry() -> None:
    if "hook-event" in sys.argv[1:4]:
        # An agent client waits on this at every turn: no parser, no logging, exit at once.
        from waitbus.integrations import hook

        os._exit(hook.run(sys.argv[1:]))
    code = main()
    # Every command has finished its work (stores committed, daemon drained) by now. Skipping
    # interpreter teardown saves about 10 ms, which is most of a woken `wait`'s exit time.
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.shutdown()
    os._exit(code)


def _exit_for(exc: WaitbusError) -> int:
    """The exit code of an error; never 1, which only a matched failure earns."""
    from waitbus.cli.exits import Exit
    from waitbus.errors import (
        NotRunning,
        ProtocolError,
        Pruned,
        Refused,
        StoreError,
        UsageError,
        WaitTimeout,
    )
    if isinstance(exc, UsageError | Refused):  # a refused request is a bad request
        return Exit.USAGE
    if isinstance(exc, NotRunning | ProtocolError) or _is(exc, "waitbus.bridge.link",
                                                           "Unreachable"):
        return Exit.UNREACHABLE
    if isinstance(exc, Pruned):
        return Exit.PRUNED
    if isinstance(exc, WaitTimeout):
        return Exit.TIMEOUT
    if isinstance(exc, StoreError):
        return Exit.STORE
    if _is(exc, "waitbus.install.trust", "VerificationFailed"):
        return Exit.REFUSED
    return Exit.INTERNAL


def _is(exc: BaseException, module: str, name: str) -> bool:
    """isinstance against a class of a module imported only by some commands."""
    loaded = sys.modules.get(module)
    cls = getattr(loaded, name, None)
    return isinstance(cls, type) and isinstance(exc, cls)


def _configure_logging(*, verbose: bool) -> None:
    import logging

    from waitbus.untrusted import escape

    class Escaping(logging.Formatter):
        # Log lines quote outside text (webhook replies, source errors): no terminal escapes.
        def formatMessage(self, record: logging.LogRecord) -> str:
            return escape(super().formatMessage(record), keep_lines=True)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Escaping("waitbus: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])


def _silence_stdout() -> None:
    import contextlib

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:200] + "..."


def _module(name: str) -> ModuleType:
    import importlib

    return importlib.import_module(f"waitbus.cli.commands.{name.replace('-', '_')}")
