"""`waitbus wait` as users run it: real daemon, real processes, the exit code as verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import DaemonProcess, run_cli, start_wait
from waitbus import emit
from waitbus.cli.exits import Exit
from waitbus.demo import processes


def test_match_exits_0_and_prints_the_event(daemon: DaemonProcess) -> None:
    waiter = start_wait(daemon.state_dir, "--source", "ci", "--match", 'subject="o/r"', "--json")
    emit("ci", "build", subject="o/r", conclusion="success", state_dir=daemon.state_dir)
    out, _ = waiter.communicate(timeout=10)
    assert waiter.returncode == 0
    assert json.loads(out)["subject"] == "o/r"


def test_failed_conclusion_exits_1(daemon: DaemonProcess) -> None:
    waiter = start_wait(daemon.state_dir, "--source", "ci")
    emit("ci", "build", conclusion="timed_out", state_dir=daemon.state_dir)
    waiter.communicate(timeout=10)
    assert waiter.returncode == 1


def test_malformed_predicate_exits_2_with_a_hint(state_dir: Path) -> None:
    result = run_cli(state_dir, "wait", "--match", "conclusion=failure")
    assert result.returncode == 2
    assert "quote strings" in result.stderr
    assert "Traceback" not in result.stderr


def test_nothing_to_wait_for_is_a_usage_error(state_dir: Path) -> None:
    result = run_cli(state_dir, "wait", "--timeout", "1s")
    assert result.returncode == 2
    assert "nothing to wait for" in result.stderr


def test_timeout_exits_124_with_a_resumable_cursor(daemon: DaemonProcess) -> None:
    result = run_cli(daemon.state_dir, "wait", "--source", "never", "--timeout", "200ms")
    assert result.returncode == 124
    assert "resume with --since" in result.stderr


def test_no_daemon_exits_69_after_the_reconnect_budget(state_dir: Path) -> None:
    env_budget = {"WAITBUS_RECONNECT_S": "0.2"}
    argv = processes.waitbus_argv(state_dir, "wait", "--source", "x")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False,
                            env={**__import__("os").environ, **env_budget})
    assert result.returncode == 69
    assert "start one with `waitbus serve`" in result.stderr


def test_all_of_is_met_by_different_events_over_time(daemon: DaemonProcess) -> None:
    waiter = start_wait(daemon.state_dir, "--all-of", 'pytest:type="session"',
                        "--all-of", "docker:fields.exit_code=0", "--json")
    emit("pytest", "session", conclusion="success", state_dir=daemon.state_dir)
    emit("pytest", "session", conclusion="success", state_dir=daemon.state_dir)
    emit("docker", "container", fields={"exit_code": 0}, conclusion="success",
         state_dir=daemon.state_dir)
    out, _ = waiter.communicate(timeout=10)
    assert waiter.returncode == 0
    sources = [json.loads(line)["source"] for line in out.splitlines()]
    assert sources == ["pytest", "docker"]


def test_any_of_is_released_by_one_event(daemon: DaemonProcess) -> None:
    waiter = start_wait(daemon.state_dir, "--any-of", "a:cursor>0", "--any-of", "b:cursor>0")
    emit("b", "x", conclusion="failure", state_dir=daemon.state_dir)
    waiter.communicate(timeout=10)
    assert waiter.returncode == 1


def test_since_replays_events_from_before_the_wait(daemon: DaemonProcess) -> None:
    early = emit("ci", "build", subject="before", state_dir=daemon.state_dir)
    result = run_cli(daemon.state_dir, "wait", "--source", "ci", "--since",
                     str(early.cursor - 1), "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["cursor"] == early.cursor
    result = run_cli(daemon.state_dir, "wait", "--source", "ci", "--since", "10m", "--json")
    assert json.loads(result.stdout)["cursor"] == early.cursor


def test_wait_started_with_an_emit_never_misses_it(daemon: DaemonProcess) -> None:
    """200 back-to-back runs of: start `waitbus wait`, emit at once (no readiness check)."""
    misses = []
    for batch in range(50):
        waiters = []
        for i in range(4):
            n = batch * 4 + i
            argv = processes.waitbus_argv(daemon.state_dir, "wait", "--source", "race",
                                          "--match", f"fields.n={n}", "--timeout", "20s")
            waiters.append((n, subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.PIPE, text=True)))
            emit("race", "go", fields={"n": n}, state_dir=daemon.state_dir)
        for n, waiter in waiters:
            _, err = waiter.communicate(timeout=30)
            if waiter.returncode != 0:
                misses.append((n, waiter.returncode, err))
    assert misses == []


def test_on_runs_the_command_with_the_event_in_env_and_a_file(daemon: DaemonProcess,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    script = ("import json, os, sys; e = json.load(open(os.environ['WAITBUS_EVENT_FILE'])); "
              f"json.dump({{'argv': sys.argv[1:], 'env': os.environ['WAITBUS_EVENT_SUBJECT'], "
              f"'file': e['subject']}}, open({str(out)!r}, 'w'))")
    argv = [sys.executable, "-m", "waitbus", "--state-dir", str(daemon.state_dir), "-v", "on",
            "--source", "ci", "--once", "--", sys.executable, "-c", script, "fixed-arg"]
    proc = processes.start(argv, ready="live at cursor", stream="stderr")
    emit("ci", "build", subject="$(rm -rf /) ; `x`", state_dir=daemon.state_dir)
    assert proc.wait(10) == 0
    processes.stop(proc)
    seen = json.loads(out.read_text())
    assert seen == {"argv": ["fixed-arg"], "env": "$(rm -rf /) ; `x`",
                    "file": "$(rm -rf /) ; `x`"}


def test_emit_cli_stores_fields_and_is_idempotent(state_dir: Path) -> None:
    first = run_cli(state_dir, "emit", "--source", "s", "--type", "t", "--id", "k",
                    "--field", "n=3", "--field", 'b="x"', "--conclusion", "success", "--json")
    again = run_cli(state_dir, "emit", "--source", "s", "--type", "t", "--id", "k", "--json")
    assert first.returncode == again.returncode == 0
    assert json.loads(first.stdout) == json.loads(again.stdout)
    assert json.loads(first.stdout)["fields"] == {"b": "x", "n": 3}
    bad = run_cli(state_dir, "emit", "--source", "s", "--type", "t", "--field", "b=x")
    assert bad.returncode == 2
    assert "quote strings" in bad.stderr


def test_tail_lists_recent_events(state_dir: Path) -> None:
    for i in range(3):
        emit("s", "t", fields={"i": i}, state_dir=state_dir)
    result = run_cli(state_dir, "tail", "-n", "2", "--json")
    assert [json.loads(x)["fields"]["i"] for x in result.stdout.splitlines()] == [1, 2]


def test_timeout_without_any_daemon_says_unreachable_not_quiet(state_dir: Path) -> None:
    result = run_cli(state_dir, "wait", "--source", "x", "--timeout", "300ms")
    assert result.returncode == 69
    assert "no waitbus daemon answered" in result.stderr


def test_waits_are_recorded_and_stats_reports_them(daemon: DaemonProcess) -> None:
    waiter = start_wait(daemon.state_dir, "--source", "ci", "--timeout", "30s")
    assert run_cli(daemon.state_dir, "emit", "--source", "ci", "--type", "build").returncode == 0
    assert waiter.wait(timeout=30) == 0
    processes.stop(waiter)
    assert run_cli(daemon.state_dir, "wait", "--source", "none", "--timeout",
                   "0.2s").returncode == Exit.TIMEOUT
    done = run_cli(daemon.state_dir, "stats", "--json")
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["waits"] == 2
    assert stats["by_ending"] == {"matched": 1, "timed_out": 1}
    assert stats["woken_live"] == 1
    assert 0 < stats["wake_latency_ms"]["p50"] < 30_000
    assert stats["events_by_source"] == {"ci": 1}
    assert stats["polling"]["computed"] is True
    assert stats["polling"]["calls"] >= 2
    text = run_cli(daemon.state_dir, "stats").stdout
    assert "waits in the last 7d: 2" in text
    assert "computed" in text
