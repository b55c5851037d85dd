"""Waits over what is already stored are answered from the store; --timeout 0 asks only it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import DaemonProcess, run_cli
from waitbus import emit, wait_for
from waitbus.cli.exits import Exit


def test_timeout_0_answers_from_what_is_stored_while_the_daemon_runs(
        daemon: DaemonProcess) -> None:
    stored = emit("ci", "build", conclusion="failure", state_dir=daemon.state_dir)
    found = run_cli(daemon.state_dir, "wait", "--source", "ci", "--since", "0", "--timeout",
                    "0", "--json")
    assert found.returncode == Exit.FAILED, found.stderr
    assert json.loads(found.stdout)["cursor"] == stored.cursor
    nothing = run_cli(daemon.state_dir, "wait", "--source", "ci", "--timeout", "0")
    assert nothing.returncode == Exit.TIMEOUT, nothing.stderr
    assert f"resume with --since {stored.cursor}" in nothing.stderr


def test_timeout_0_without_a_daemon_is_a_timeout_not_unreachable(state_dir: Path) -> None:
    emit("ci", "build", state_dir=state_dir)
    done = run_cli(state_dir, "wait", "--source", "pytest", "--since", "0", "--timeout", "0")
    assert done.returncode == Exit.TIMEOUT, done.stderr


def test_a_wait_over_past_events_needs_no_daemon(state_dir: Path) -> None:
    emit("ci", "build", subject="o/r", conclusion="success", state_dir=state_dir)
    done = run_cli(state_dir, "wait", "--source", "ci", "--match", 'subject="o/r"',
                   "--since", "0")
    assert done.returncode == Exit.MATCHED, done.stderr
    assert "ci/build o/r success" in done.stdout
    event = wait_for(source="ci", since=0, state_dir=state_dir, reconnect_s=0.0)
    assert event.subject == "o/r"


def test_all_of_is_met_across_stored_events_without_a_daemon(state_dir: Path) -> None:
    emit("pytest", "session", conclusion="success", state_dir=state_dir)
    emit("docker", "container.exit", fields={"exit_code": 0}, state_dir=state_dir)
    done = run_cli(state_dir, "wait", "--all-of", 'pytest:type="session"',
                   "--all-of", "docker:fields.exit_code=0", "--since", "0", "--timeout", "0")
    assert done.returncode == Exit.MATCHED, done.stderr
    assert done.stdout.count("\n") == 2
