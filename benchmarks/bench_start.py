"""Whole-process start-up: `waitbus emit` from exec to exit, `waitbus wait` to subscribed.

Every agent hook runs `waitbus emit` as a fresh process, so its start-up is most of its cost.
Each sample is one process, timed from just before the fork to its exit (a pidfd, no polling)
or to its ready line; the commands take turns within a round, so they share the host's state.
`python -c pass` is the interpreter's own floor; `redis-cli PUBLISH` is what a shell hook would
run to notify through Redis (a C client, nothing stored).

    uv run python -m benchmarks.bench_start --n 30      # prints the table
"""

from __future__ import annotations

import argparse
import compileall
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

from benchmarks.children import REPO, child_env
from benchmarks.harness import Samples, Summary, print_table, summarize
from benchmarks.targets import PeerTarget, WaitbusTarget
from waitbus.demo import processes

Run = Callable[[], int]  # one process, start to finish: its duration in ns


def precompile() -> None:
    """Byte-compile the package under test, as an installed package is.

    The benchmarks' environment may say PYTHONDONTWRITEBYTECODE, which would make every child
    compile waitbus from source on every start.
    """
    compileall.compile_dir(REPO / "waitbus", quiet=1)


def to_exit(argv: list[str], *, stdin: bytes | None = None, timeout_s: float = 60.0) -> Run:
    def run() -> int:
        start = time.monotonic_ns()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=child_env())
        if stdin:
            assert proc.stdin is not None
            proc.stdin.write(stdin)
            proc.stdin.close()
        fd = os.pidfd_open(proc.pid)
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            if not poller.poll(int(timeout_s * 1000)):
                msg = f"{argv!r} did not exit within {timeout_s:g} s"
                raise RuntimeError(msg)
            end = time.monotonic_ns()
        finally:
            os.close(fd)
        _, err = proc.communicate()
        if proc.returncode != 0:
            msg = f"{argv!r} exited {proc.returncode}: {err[-1000:]!r}"
            raise RuntimeError(msg)
        return end - start
    return run


def to_ready(argv: list[str], ready: str, *, timeout_s: float = 60.0) -> Run:
    def run() -> int:
        start = time.monotonic_ns()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=child_env())
        try:
            assert proc.stderr is not None
            if processes.read_until(proc.stderr, ready, timeout_s) is None:
                msg = f"{argv!r} did not print {ready!r} within {timeout_s:g} s"
                raise RuntimeError(msg)
            return time.monotonic_ns() - start
        finally:
            processes.stop(proc)
    return run


def runs(waitbus: WaitbusTarget, redis: PeerTarget) -> dict[str, dict[str, Run]]:
    """The scenarios and their commands; the first of each is the subject of its ratios."""
    state = waitbus.state_dir
    py = [sys.executable]
    emit = processes.waitbus_argv(state, "emit", "--source", "hook", "--type", "tool",
                                  "--subject", "me/repo", "--field", "exit_code=0")
    message = processes.waitbus_argv(state, "emit", "--to", "*", "--from", "hook",
                                     "--body", "done")
    wait = processes.waitbus_argv(state, "-v", "wait", "--source", "nobody",
                                  "--timeout", "60s")
    publish: dict[str, Run] = {}
    if (cli := shutil.which("redis-cli")) is not None and redis.server is not None:
        publish["redis-cli PUBLISH"] = to_exit(
            [cli, "-p", str(redis.server.port), "PUBLISH", "hook", "tool"])
    return {
        "process: emit, exec -> exit": {
            "waitbus emit": to_exit(emit),
            "waitbus emit (agent message)": to_exit(message),
            "python -c pass": to_exit([*py, "-c", "pass"]),
            **publish,
        },
        "process: wait, exec -> subscribed": {
            "waitbus wait": to_ready(wait, "live at cursor"),
            "python -c pass": to_exit([*py, "-c", "pass"]),
        },
    }


def measure(scenarios: dict[str, dict[str, Run]], n: int,
            progress: Callable[[str], None] = lambda _text: None) -> dict[str, list[Summary]]:
    """`n` processes per command, the commands of a scenario taking turns."""
    out: dict[str, list[Summary]] = {}
    for title, commands in scenarios.items():
        progress(f"{title}: {n} of each")
        samples = {name: Samples(name, expected=n) for name in commands}
        for i in range(n):
            names = list(commands)
            for name in names[i % len(names):] + names[: i % len(names)]:
                samples[name].latencies_ns.append(commands[name]())
        out[title] = [summarize(samples[name]) for name in commands]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_start", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30, help="processes per command (default 30)")
    args = parser.parse_args(argv)
    precompile()
    waitbus, redis = WaitbusTarget(), PeerTarget("redis")
    try:
        for title, rows in measure(runs(waitbus, redis), args.n).items():
            print_table(title, rows)
    finally:
        waitbus.close()
        redis.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
