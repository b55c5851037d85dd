"""`waitbus demo`: see the bus work end to end in a few seconds, offline."""

from __future__ import annotations

import argparse
import sys

from waitbus.cli.commands import command
from waitbus.cli.exits import Exit


def repeats(text: str) -> int:
    """An argparse type: 1 to 1000 measurements."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 1000:
        msg = f"{text[:40]!r} is not a number of repeats; give 1 to 1000"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "demo",
        description="Start a daemon over a temporary state directory, wake real `waitbus wait` "
        "processes from every source that can run here (emit, pytest, files, Docker when "
        "present) and print how fast each woke. Touches nothing outside that directory.")
    p.add_argument("--repeats", type=repeats, default=3, metavar="N",
                   help="wake measurements per source (1 to 1000)")
    p.add_argument("--json", action="store_true",
                   help="print the result as JSON on stdout (progress goes to stderr)")
    p.add_argument("--keep", action="store_true",
                   help="keep the demo's state directory, to look at with `stats` or `tail`")


def run(args: argparse.Namespace) -> int:
    from waitbus.demo.core import run as run_demo
    from waitbus.event import JSON, dump_json

    progress = sys.stderr if args.json else sys.stdout
    result = run_demo(lambda text: print(f"demo: {text}", file=progress, flush=True),
                      repeats=args.repeats, keep=args.keep)
    if args.json:
        wake_ms: dict[str, JSON] = {name: list(ms) for name, ms in result.wake_ms.items()}
        print(dump_json({"ok": result.ok, "wake_ms": wake_ms,
                         "skipped": dict(result.skipped.items()),
                         "problems": list(result.problems)}))
        return Exit.MATCHED if result.ok else Exit.INTERNAL
    for name, reason in result.skipped.items():
        print(f"demo: skipped {name}: {reason}")
    for problem in result.problems:
        print(f"demo: PROBLEM: {problem}")
    print("demo: all good" if result.ok else "demo: FAILED (see the problems above)")
    if result.state_dir is not None:
        print(f"demo: kept {result.state_dir}; try `waitbus --state-dir {result.state_dir} "
              "stats`")
    return Exit.MATCHED if result.ok else Exit.INTERNAL
