"""A real terminal for tests: one tmux session of fixed size, observed through control mode."""

from __future__ import annotations

import os
import selectors
import shlex
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BOUND_S = 20.0


def tmux_env(**extra: str) -> dict[str, str]:
    """This process's environment for a pane, failing loudly when tmux is missing."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed; install it (apt-get install tmux) to run this test")
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "NO_COLOR")}
    env.update(extra, TERM="xterm-256color")
    return env


class Pane:
    """A detached tmux session of fixed size running one command, on a private tmux socket.

    A control-mode client reports every write to the pane (`%output`), so the test captures
    the pane only after something changed, instead of on a timer.
    """

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.name = f"wbpane-{uuid.uuid4().hex[:8]}"
        self._dir = Path(tempfile.mkdtemp(prefix="wbtmux-"))
        self.socket = str(self._dir / "tmux.sock")
        self._env = env
        # The pane outlives the command and says how it ended; `cat` then waits on the pane.
        script = f'{shlex.join(command)}; echo "[exited with status $?]"; exec cat'
        self._tmux("new-session", "-d", "-s", self.name, "-x", "120", "-y", "30",
                   "-c", str(REPO), script)
        self._control = subprocess.Popen(
            ["tmux", "-S", self.socket, "-C", "attach", "-t", self.name], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)

    def capture(self, *, escapes: bool = False) -> str:
        flags = ["-p", "-e"] if escapes else ["-p"]
        return self._tmux("capture-pane", *flags, "-t", self.name).stdout

    def wait_for(self, text: str, *, escapes: bool = False) -> str:
        """Capture after each pane update until `text` shows; fail after BOUND_S."""
        assert self._control.stdout is not None
        deadline = time.monotonic() + BOUND_S
        with selectors.DefaultSelector() as sel:
            sel.register(self._control.stdout, selectors.EVENT_READ)
            while True:
                screen = self.capture(escapes=escapes)
                if text in screen:
                    return screen
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left) or not self._drain_output():
                    pytest.fail(f"{text!r} never showed in the pane; it shows:\n{screen}")

    def _drain_output(self) -> bool:
        """Read one control-mode line; False when the control client has gone."""
        assert self._control.stdout is not None
        return bool(self._control.stdout.readline())

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def close(self) -> None:
        self._tmux("kill-session", "-t", self.name, check=False)
        if self._control.stdin is not None:
            self._control.stdin.close()
        self._control.wait(BOUND_S)
        if self._control.stdout is not None:
            self._control.stdout.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True,
                              env=self._env, check=check, timeout=BOUND_S)
