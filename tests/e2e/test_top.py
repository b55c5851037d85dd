"""`waitbus top` in a real terminal (tmux) and as a line stream off a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DaemonProcess, run_cli
from tests.e2e.tmux_pane import Pane, tmux_env
from waitbus.demo import processes

BOUND_S = 20.0


def _top_pane(state_dir: Path, **extra_env: str) -> Iterator[Pane]:
    argv = [sys.executable, "-m", "waitbus", "--state-dir", str(state_dir), "top"]
    pane = Pane(argv, tmux_env(**extra_env))
    try:
        yield pane
    finally:
        pane.close()


@pytest.fixture
def top_pane(daemon: DaemonProcess) -> Iterator[Pane]:
    """`waitbus top` running in a 120x30 tmux pane against the test's daemon."""
    yield from _top_pane(daemon.state_dir)


def test_top_in_a_terminal_shows_an_event_when_it_arrives(top_pane: Pane,
                                                          daemon: DaemonProcess) -> None:
    top_pane.wait_for("subscribers 1")
    emitted = run_cli(daemon.state_dir, "emit", "--source", "ci", "--type", "build",
                      "--subject", "tmux-probe/repo", "--conclusion", "failure")
    assert emitted.returncode == 0, emitted.stderr
    screen = top_pane.wait_for("tmux-probe/repo")
    assert "build failure" in screen
    assert "#1 ci/build tmux-probe/repo failure" in screen
    assert "head #1" in top_pane.wait_for("head #1")


def test_top_follows_a_daemon_restart_and_shows_the_new_daemon(top_pane: Pane,
                                                               daemon: DaemonProcess) -> None:
    top_pane.wait_for(f"pid {daemon.pid} ")
    daemon.stop()
    daemon.start()
    top_pane.wait_for(f"pid {daemon.pid} ")
    run_cli(daemon.state_dir, "emit", "--source", "ci", "--type", "build",
            "--subject", "after-restart")
    top_pane.wait_for("after-restart")


def test_top_quits_on_q_and_restores_the_terminal(top_pane: Pane) -> None:
    top_pane.wait_for("subscribers 1")
    top_pane.send("q")
    screen = top_pane.wait_for("[exited with status 0]")
    assert "q quits" not in screen  # the alternate screen is gone


def test_top_colours_verdicts_on_a_terminal(top_pane: Pane, daemon: DaemonProcess) -> None:
    top_pane.wait_for("subscribers 1")
    run_cli(daemon.state_dir, "emit", "--source", "ci", "--type", "build", "--subject", "red-probe",
            "--conclusion", "failure")
    assert "\x1b[31m" in top_pane.wait_for("red-probe", escapes=True)


def test_top_respects_no_color(daemon: DaemonProcess) -> None:
    for pane in _top_pane(daemon.state_dir, NO_COLOR="1"):
        pane.wait_for("subscribers 1")
        run_cli(daemon.state_dir, "emit", "--source", "ci", "--type", "build",
                "--subject", "plain-probe", "--conclusion", "failure")
        screen = pane.wait_for("plain-probe", escapes=True)
        assert "\x1b[31m" not in screen
        assert "\x1b[1m" not in screen


def test_top_off_a_terminal_streams_one_json_line_per_event(daemon: DaemonProcess) -> None:
    argv = processes.waitbus_argv(daemon.state_dir, "-v", "top", "--json")
    top = processes.start(argv, ready="live at cursor", stream="stderr")
    try:
        run_cli(daemon.state_dir, "emit", "--source", "agent", "--type", "message",
                "--subject", "stream-probe")
        assert top.stdout is not None
        found = processes.read_until(top.stdout, "stream-probe", BOUND_S)
        assert found is not None
        record = json.loads(found)
        assert record["event"]["subject"] == "stream-probe"
        assert record["subscribers"] >= 1
        assert record["rate_per_min"] >= 1
    finally:
        processes.stop(top)


def test_top_off_a_terminal_streams_plain_lines(daemon: DaemonProcess) -> None:
    argv = processes.waitbus_argv(daemon.state_dir, "-v", "top")
    top = processes.start(argv, ready="live at cursor", stream="stderr")
    try:
        run_cli(daemon.state_dir, "emit", "--source", "agent", "--type", "message",
                "--subject", "plain-probe")
        assert top.stdout is not None
        found = processes.read_until(top.stdout, "plain-probe", BOUND_S)
        assert found is not None
        assert "#1 agent/message plain-probe" in found
        assert "\x1b[" not in found
    finally:
        processes.stop(top)


def test_top_without_a_daemon_says_how_to_start_one(state_dir: Path) -> None:
    result = subprocess.run(
        processes.waitbus_argv(state_dir, "top"), capture_output=True, text=True,
        timeout=BOUND_S, check=False, env={**os.environ, "WAITBUS_RECONNECT_S": "0"})
    assert result.returncode == 69
    assert "waitbus serve" in result.stderr
    assert "Traceback" not in result.stderr
