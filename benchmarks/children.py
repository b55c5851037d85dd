"""Child processes of the benchmarks: their environment and a start that waits for readiness."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

from waitbus.demo import processes

REPO = Path(__file__).absolute().parent.parent  # not resolve(): a snapshot may link us in


def child_env() -> dict[str, str]:
    """The environment of worker processes: this checkout importable, output unbuffered."""
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{path}" if path else str(REPO),
            "PYTHONUNBUFFERED": "1", "PYTHONHASHSEED": "0"}


def worker(role: str, target: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.workers", role, target, *args]


def spawn(argv: list[str], *, ready: str, stream: str = "stderr", timeout_s: float = 60.0,
          env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start `argv` and return once `ready` appears on `stream`."""
    return spawn_many([argv], ready=ready, stream=stream, timeout_s=timeout_s, env=env)[0]


def spawn_many(argvs: list[list[str]], *, ready: str, stream: str = "stderr",
               timeout_s: float = 60.0,
               env: dict[str, str] | None = None) -> list[subprocess.Popen[str]]:
    """Start every argv at once, then return when each has printed `ready` on `stream`.

    Reads the raw pipe, not a buffered reader: a burst of start-up lines in one write (as
    nats-server prints them) would otherwise sit in a buffer that select() cannot see.
    """
    procs = [subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env or child_env())
             for argv in argvs]
    deadline = time.monotonic() + timeout_s
    try:
        for proc in procs:
            _await(proc, ready.encode(), stream, deadline)
    except RuntimeError:
        for proc in procs:
            processes.stop(proc)
        raise
    return procs


def _await(proc: subprocess.Popen[str], needle: bytes, stream: str, deadline: float) -> None:
    pipe = proc.stdout if stream == "stdout" else proc.stderr
    assert pipe is not None
    seen = b""
    with selectors.DefaultSelector() as sel:
        sel.register(pipe.fileno(), selectors.EVENT_READ)
        while needle not in seen:
            left = deadline - time.monotonic()
            chunk = os.read(pipe.fileno(), 65536) if left > 0 and sel.select(left) else b""
            if not chunk:
                msg = f"{proc.args!r} did not print {needle!r}: {seen[-500:]!r}"
                raise RuntimeError(msg)
            seen += chunk


def start_worker(argv: list[str], ready: str) -> subprocess.Popen[str]:
    return spawn(argv, ready=ready)
