"""Exit 1 means a matched failure and nothing else: refusals and errors have their own codes."""

from __future__ import annotations

import sys

from tests.conftest import DaemonProcess, run_cli
from waitbus import emit
from waitbus.cli.exits import Exit
from waitbus.demo import processes


def test_a_subscription_the_daemon_refuses_exits_2_not_1(daemon: DaemonProcess) -> None:
    too_big = "x" * (70 * 1024)  # over the daemon's 64 KiB request limit
    done = run_cli(daemon.state_dir, "wait", "--source", "ci", "--match",
                   f'subject="{too_big}"', "--timeout", "10s")
    assert done.returncode == Exit.USAGE, done.stderr
    assert "refused the subscription" in done.stderr


def test_on_once_exits_0_when_its_command_fails_and_says_how_it_failed(
        daemon: DaemonProcess) -> None:
    argv = processes.waitbus_argv(daemon.state_dir, "-v", "on", "--source", "ci", "--once",
                                  "--", sys.executable, "-c", "raise SystemExit(1)")
    on = processes.start(argv, ready="live at cursor", stream="stderr")
    try:
        emit("ci", "build", state_dir=daemon.state_dir)
        _out, err = on.communicate(timeout=20)
    finally:
        processes.stop(on)
    assert on.returncode == Exit.MATCHED, err
    assert "exited 1 for event" in err
