"""`waitbus swarm-demo`: agent processes wake on one seed and notice when one of them dies."""

from __future__ import annotations

import argparse
import contextlib
import os
import selectors
import sys
import termios
import tty
from collections.abc import Callable
from typing import TYPE_CHECKING

from waitbus.cli.commands import command
from waitbus.cli.exits import Exit
from waitbus.event import dump_json

if TYPE_CHECKING:
    from waitbus.demo.swarm_checks import SwarmResult

KEY_WAIT_S = 60.0
# Framework agents import much more before they are ready (Pydantic AI starts an MCP server).
FRAMEWORK_PHASE_S = 120.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = command(
        sub, "swarm-demo",
        description="Starts a daemon in a temporary directory and N agent processes. One seed "
        "event wakes every agent; then one agent is killed and the supervisor emits its "
        "failure, which every survivor acknowledges. Exit 0 only when every invariant holds.")
    p.add_argument("--agents", type=int, default=5, metavar="N", help="agents (default 5)")
    p.add_argument("--kill", type=int, metavar="K", help="kill agent K (default: the last)")
    p.add_argument("--pause", action="store_true",
                   help="on a terminal, wait for a key press before the kill "
                   f"(at most {KEY_WAIT_S:g} s)")
    p.add_argument("--frameworks", action="store_true",
                   help="run the agents on Pydantic AI (woken through waitbus's MCP wait tool) "
                   "and LangGraph (a graph whose node waits through the Python API), round "
                   "robin over those installed")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")


def run(args: argparse.Namespace) -> int:
    from waitbus.demo.swarm import run as run_swarm

    def report(text: str) -> None:
        if not args.json:
            print(f"swarm: {text}", flush=True)

    before_kill = _key_press if args.pause and sys.stdin.isatty() and not args.json else None
    result = run_swarm(report, agents=args.agents, kill=args.kill, before_kill=before_kill,
                       frameworks=args.frameworks,
                       timeout_s=FRAMEWORK_PHASE_S if args.frameworks else 30.0)
    if args.json:
        print(dump_json(result.to_json()))
    else:
        _print_result(result, print)
    return Exit.MATCHED if result.ok else Exit.INTERNAL


def _print_result(result: SwarmResult, out: Callable[[str], None]) -> None:
    seed = f"seed #{result.seed.cursor}" if result.seed else "seed"
    failure = f"failure #{result.failure.cursor}" if result.failure else "failure"
    named = any(row.framework != "waitbus" for row in result.rows)
    head = f"{'agent':<10} {seed + ' -> woke':>20} {failure + ' -> noticed':>26}  exit"
    out(head + ("  framework" if named else ""))
    for row in result.rows:
        noticed = "killed" if row.killed else _ms(row.noticed_ms)
        status = "-" if row.status is None else str(row.status)
        line = f"{row.name:<10} {_ms(row.woke_ms):>20} {noticed:>26}  {status}"
        out(f"{line:<64}  {row.framework}" if named else line)
    for text in result.checks:
        out(f"swarm: ok: {text}")
    for problem in result.problems:
        out(f"swarm: PROBLEM: {problem}")
    out("swarm: all invariants hold" if result.ok else "swarm: FAILED (see the problems above)")


def _ms(value: float | None) -> str:
    return "missed" if value is None else f"{value:.2f} ms"


def _key_press(victim: str) -> None:
    """Wait for one key on the terminal (bounded), so a person can trigger the kill."""
    print(f"swarm: press any key to kill {victim} (or wait {KEY_WAIT_S:g} s)", flush=True)
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            if sel.select(KEY_WAIT_S):
                with contextlib.suppress(OSError):
                    os.read(fd, 16)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
