"""`waitbus demo`: see the bus work end to end in a few seconds, offline."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="run a daemon in a temporary directory and wake real waits")
    p.add_argument("--repeats", type=int, default=3, help="wake measurements per source")


def run(args: argparse.Namespace) -> int:
    from waitbus.demo.core import run as run_demo

    result = run_demo(lambda text: print(f"demo: {text}", flush=True), repeats=args.repeats)
    for name, reason in result.skipped.items():
        print(f"demo: skipped {name}: {reason}")
    for problem in result.problems:
        print(f"demo: PROBLEM: {problem}")
    print("demo: all good" if result.ok else "demo: FAILED (see the problems above)")
    return 0 if result.ok else 1
