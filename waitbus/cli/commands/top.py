"""`waitbus top`: a live view of the bus, redrawn only when events arrive."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("top", help="a live view of the bus")


def run(args: argparse.Namespace) -> int:
    return 2
