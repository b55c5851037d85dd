"""The demos' child processes, each awaited on a line it prints (tests and benchmarks use them)."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from waitbus.errors import WaitbusError


class ChildFailed(WaitbusError):
    """A demo child process did not do what it should."""


def waitbus_argv(state_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "waitbus", "--state-dir", str(state_dir), *args]


def start(argv: list[str], *, ready: str, stream: str, timeout_s: float = 10.0,
          env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start `argv` and return once it prints a line containing `ready` on `stream`."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    pipe = proc.stdout if stream == "stdout" else proc.stderr
    assert pipe is not None
    seen = read_until(pipe, ready, timeout_s)
    if seen is None:
        stop(proc, keep_pipes=True)
        tail = proc.stderr.read()[-2000:] if proc.stderr is not None else ""
        msg = (f"{' '.join(argv[3:])} did not report {ready!r} within {timeout_s:g} s "
               f"(exit status {proc.returncode}); its last output:\n{tail}")
        raise ChildFailed(msg)
    return proc


def read_until(pipe: IO[str], needle: str, timeout_s: float) -> str | None:
    """Read lines until one contains `needle`; None at EOF or after `timeout_s`.

    Reads the file descriptor a byte at a time, so nothing is left stranded in the text
    wrapper's buffer where a later select() could not see it.
    """
    deadline = time.monotonic() + timeout_s
    fd = pipe.fileno()
    line = bytearray()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not sel.select(left):
                return None
            byte = os.read(fd, 1)
            if not byte:
                return None
            if byte != b"\n":
                line += byte
                continue
            text = line.decode(errors="replace")
            if needle in text:
                return text
            line.clear()
    return None


def stop(proc: subprocess.Popen[str], timeout_s: float = 10.0, *,
         keep_pipes: bool = False) -> int:
    """SIGTERM, then SIGKILL after `timeout_s`; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    if keep_pipes:
        return proc.returncode
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
    return proc.returncode
