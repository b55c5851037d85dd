"""The pytest source: a real pytest subprocess with a failing test, recorded on a real bus."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import DaemonProcess, start_wait
from waitbus.event import MAX_TEXT_CHARS, Conclusion, Event
from waitbus.paths import resolve
from waitbus.sources.pytest_report import FLUSH_S
from waitbus.store.store import Store

SAMPLE = """\
import pytest

def test_passes():
    pass

def test_fails():
    assert 1 == 2

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
"""
MANY = "\n".join(f"def test_{i}():\n    assert {i} % 4 != 3\n" for i in range(8))


def run_pytest(project: Path, state_dir: Path, *args: str, env: dict[str, str] | None = None,
               autoload: bool = False) -> subprocess.CompletedProcess[str]:
    """`python -m pytest ARGS` in `project`, which is its own rootdir.

    Without `autoload`, only this plugin (and xdist) load, by module name: every installed
    plugin's import would triple each child's start-up on a busy machine.
    """
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PYTEST_", "WAITBUS_"))}
    clean |= {"WAITBUS_STATE_DIR": str(state_dir), "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    plugins = [] if autoload else ["-p", "waitbus.sources.pytest_plugin", "-p", "xdist.plugin"]
    if not autoload:
        clean["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *plugins, *args]
    return subprocess.run(argv, cwd=project, env=clean, capture_output=True, text=True,
                          timeout=120, check=False)


def project_with(tmp_path: Path, source: str) -> Path:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "test_sample.py").write_text(source)
    return project


def recorded(state_dir: Path) -> list[Event]:
    with Store(resolve(state_dir), read_only=True) as store:
        return [e for e in store.read_after(0, payload=True) if e.source == "pytest"]


def test_failing_run_records_its_verdict_and_failure_and_fails_the_wait(
        daemon: DaemonProcess, tmp_path: Path) -> None:
    """Loaded as users get it: through the pytest11 entry point."""
    project = project_with(tmp_path, SAMPLE)
    waiter = start_wait(daemon.state_dir, "--source", "pytest", "--match", 'type="session"',
                        "--timeout", "60s", "--json")
    result = run_pytest(project, daemon.state_dir, "--waitbus", autoload=True)
    out, _ = waiter.communicate(timeout=30)
    assert result.returncode == 1, result.stdout
    assert waiter.returncode == 1
    session = json.loads(out)
    assert session["conclusion"] == "failure"
    assert session["subject"] == str(project)
    fields = session["fields"]
    assert {k: fields[k] for k in ("passed", "failed", "errors", "skipped", "exit_status")} == \
        {"passed": 1, "failed": 1, "errors": 0, "skipped": 1, "exit_status": 1}
    assert fields["rootdir"] == str(project)
    assert fields["duration_s"] >= 0
    failures = [e for e in recorded(daemon.state_dir) if e.type == "test_failed"]
    assert [e.fields["nodeid"] for e in failures] == ["test_sample.py::test_fails"]
    failure = failures[0]
    assert failure.conclusion is Conclusion.FAILURE
    assert failure.fields["session"] == fields["session"]
    assert failure.fields["message"] == "assert 1 == 2"
    assert "assert 1 == 2" in (failure.payload or "")


def test_xdist_run_records_one_session_event_for_all_workers(
        daemon: DaemonProcess, tmp_path: Path) -> None:
    project = project_with(tmp_path, MANY)
    waiter = start_wait(daemon.state_dir, "--source", "pytest", "--match", 'type="session"',
                        "--timeout", "60s")
    result = run_pytest(project, daemon.state_dir, "--waitbus", "-n", "2")
    waiter.communicate(timeout=30)
    assert result.returncode == 1, result.stdout
    assert waiter.returncode == 1
    events = recorded(daemon.state_dir)
    sessions = [e for e in events if e.type == "session"]
    assert len(sessions) == 1
    assert sessions[0].fields["passed"] == 6
    assert sessions[0].fields["failed"] == 2
    failed = sorted(str(e.fields["nodeid"]) for e in events if e.type == "test_failed")
    assert failed == ["test_sample.py::test_3", "test_sample.py::test_7"]


def test_environment_variable_enables_the_plugin(state_dir: Path, tmp_path: Path) -> None:
    project = project_with(tmp_path, "def test_ok():\n    pass\n")
    result = run_pytest(project, state_dir, env={"WAITBUS_PYTEST": "1"})
    assert result.returncode == 0
    (session,) = recorded(state_dir)
    assert session.conclusion is Conclusion.SUCCESS
    assert session.fields["passed"] == 1


def test_collection_error_is_a_failure_not_a_cancelled_run(state_dir: Path,
                                                           tmp_path: Path) -> None:
    project = project_with(tmp_path, "def test_broken(:\n    pass\n")
    result = run_pytest(project, state_dir, "--waitbus")
    assert result.returncode == 2
    failure, session = recorded(state_dir)
    assert (failure.type, failure.fields["when"]) == ("test_failed", "collect")
    assert str(failure.fields["message"]).startswith("SyntaxError")
    assert session.conclusion is Conclusion.FAILURE
    assert (session.fields["errors"], session.fields["exit_status"]) == (1, 2)


def test_plugin_does_nothing_unless_enabled(state_dir: Path, tmp_path: Path) -> None:
    project = project_with(tmp_path, SAMPLE)
    result = run_pytest(project, state_dir)
    assert result.returncode == 1
    assert not state_dir.exists()
    assert "waitbus" not in result.stdout + result.stderr


def test_unusable_state_dir_neither_breaks_nor_slows_the_run(tmp_path: Path) -> None:
    """The state directory is a regular file: the bus cannot be used at all."""
    project = project_with(tmp_path, SAMPLE)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    baseline = run_pytest(project, blocker)
    broken = run_pytest(project, blocker, "--waitbus")
    assert baseline.returncode == broken.returncode == 1
    assert broken.stdout.count("waitbus: not recording this run") == 1
    assert "1 failed, 1 passed, 1 skipped" in broken.stdout
    assert "INTERNALERROR" not in broken.stdout + broken.stderr
    # pytest's own session time leaves out interpreter start-up, the noisiest part here; one
    # failed store open costs microseconds, and the slack absorbs a busy machine.
    assert session_s(broken.stdout) < session_s(baseline.stdout) + 1.0
    (project / "test_sample.py").write_text("def test_ok():\n    pass\n")
    assert run_pytest(project, blocker, "--waitbus").returncode == 0


def test_stuck_store_holds_up_the_end_of_a_run_by_at_most_the_flush_bound(
        state_dir: Path, tmp_path: Path) -> None:
    """Another process holds the store's write lock for the whole run."""
    project = project_with(tmp_path, SAMPLE)
    baseline = run_pytest(project, state_dir)
    Store(resolve(state_dir)).close()
    holder = os.open(resolve(state_dir).store_lock, os.O_RDWR)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        stuck = run_pytest(project, state_dir, "--waitbus")
    finally:
        os.close(holder)
    assert stuck.returncode == baseline.returncode == 1
    assert "waitbus: the event store did not answer within" in stuck.stdout
    assert session_s(stuck.stdout) < session_s(baseline.stdout) + FLUSH_S + 1.0


def test_node_id_longer_than_a_subject_is_recorded_shortened(state_dir: Path,
                                                             tmp_path: Path) -> None:
    long_id = "x" * 1500
    project = project_with(tmp_path, "import pytest\n\n"
                           f"@pytest.mark.parametrize('v', [0], ids=['{long_id}'])\n"
                           "def test_long(v):\n    assert v\n")
    assert run_pytest(project, state_dir, "--waitbus").returncode == 1
    failure, session = recorded(state_dir)
    assert failure.fields["nodeid"] == f"test_sample.py::test_long[{long_id}]"
    assert failure.subject is not None
    assert len(failure.subject) == MAX_TEXT_CHARS
    assert session.fields["failed"] == 1


def session_s(summary: str) -> float:
    found = re.search(r" in ([0-9.]+)s", summary)
    assert found is not None, summary
    return float(found.group(1))
