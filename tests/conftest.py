"""Shared fixtures: a short private state directory and real daemon processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from waitbus.demo import processes


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """A fresh state directory with a path short enough for AF_UNIX socket names."""
    root = Path(tempfile.mkdtemp(prefix="wb-"))
    try:
        yield root / "s"
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class DaemonProcess:
    """A real `waitbus serve` process over one state directory."""

    state_dir: Path
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] | None = None
    proc: subprocess.Popen[str] | None = field(default=None, init=False)

    def start(self) -> DaemonProcess:
        # Parallel tests must not race for the default webhook port; tests of the listener
        # pass their own --listen-port (usually 0).
        quiet = () if "--listen-port" in self.extra_args else ("--listen-port", "off")
        argv = processes.waitbus_argv(self.state_dir, "serve", *quiet, *self.extra_args)
        self.proc = processes.start(argv, ready="serving", stream="stdout", env=self.env)
        return self

    def stop(self) -> int:
        assert self.proc is not None
        return processes.stop(self.proc)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        processes.stop(self.proc)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


@pytest.fixture
def daemon(state_dir: Path) -> Iterator[DaemonProcess]:
    """A running daemon over `state_dir`, stopped (by PID) after the test."""
    running = DaemonProcess(state_dir).start()
    try:
        yield running
    finally:
        if running.proc is not None and running.proc.poll() is None:
            running.stop()


def run_cli(state_dir: Path, *args: str, timeout_s: float = 30.0,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `waitbus` CLI in a subprocess and capture its output."""
    return subprocess.run(
        processes.waitbus_argv(state_dir, *args), capture_output=True, text=True,
        timeout=timeout_s, input=input, check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def start_wait(state_dir: Path, *args: str) -> subprocess.Popen[str]:
    """Start `waitbus -v wait ARGS` and return once it is live (subscribed and caught up)."""
    argv = [sys.executable, "-m", "waitbus", "--state-dir", str(state_dir), "-v", "wait", *args]
    return processes.start(argv, ready="live at cursor", stream="stderr")
