"""`waitbus wait --sha`: a commit's CI settles on all its runs, not on its first finished job."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli, start_wait
from tests.sources.webhook_client import SECRET, deliver, derived, listening_daemon, write_secret
from waitbus.consumers.ci import Tally, check_sha, repo_of_checkout, repo_of_remote
from waitbus.demo import processes
from waitbus.errors import UsageError
from waitbus.event import Conclusion, Event
from waitbus.secrets import GITHUB_WEBHOOK

SHA = "3484a3fb816e0859fd6e1cea078d76385ff50625"
REPO = "octo-org/octo-repo"
RUN = "workflow_run.completed"
SUITE = "check_suite.completed"


def _run(run_id: int, name: str, status: str, conclusion: str | None = None,
         attempt: int = 1) -> bytes:
    return derived(RUN, "workflow_run", {"id": run_id, "name": name, "status": status,
                   "conclusion": conclusion, "run_attempt": attempt, "head_sha": SHA})


def _suite(suite_id: int, conclusion: str = "success") -> bytes:
    body = derived(SUITE, "check_suite", {"id": suite_id, "head_sha": SHA,
                                          "status": "completed", "conclusion": conclusion})
    return body.replace(b"Codertocat/Hello-World", REPO.encode())


def _job(conclusion: str) -> bytes:
    body = derived("workflow_job.completed.success.with-organization", "workflow_job",
                   {"run_id": 1, "head_sha": SHA, "conclusion": conclusion})
    return body.replace(b"Codertocat/Hello-World", REPO.encode())


def _wait_sha(state_dir: Path) -> subprocess.Popen[str]:
    return start_wait(state_dir, "--sha", SHA, "--repo", REPO, "--timeout", "20s")


def test_a_later_failing_workflow_fails_the_commit_after_another_succeeded(
        state_dir: Path) -> None:
    write_secret(state_dir, GITHUB_WEBHOOK, SECRET)
    with listening_daemon(state_dir) as (url, _proc):
        assert deliver(url, "workflow_run", "r1-q", _run(1, "build", "queued")).status == 200
        waiter = _wait_sha(state_dir)
        steps = [("workflow_run", _run(2, "lint", "in_progress")),
                 ("workflow_job", _job("success")),
                 ("workflow_run", _run(1, "build", "completed", "success")),
                 ("check_suite", _suite(11))]
        for index, (event, body) in enumerate(steps):
            assert deliver(url, event, f"step-{index}", body).status == 200
        assert waiter.poll() is None, "settled while the lint run was still in progress"
        assert deliver(url, "workflow_run", "r2-done", _run(2, "lint", "completed",
                                                             "failure")).status == 200
        assert waiter.wait(20) == 1
        out = waiter.stdout.read() if waiter.stdout else ""
        processes.stop(waiter)
    assert "workflow_run" in out


def test_every_run_succeeding_and_a_completed_suite_settle_success(state_dir: Path) -> None:
    write_secret(state_dir, GITHUB_WEBHOOK, SECRET)
    with listening_daemon(state_dir) as (url, _proc):
        for index, body in enumerate([_run(1, "build", "queued"), _run(2, "lint", "queued"),
                                      _run(1, "build", "completed", "success")]):
            deliver(url, "workflow_run", f"early-{index}", body)
        waiter = _wait_sha(state_dir)
        deliver(url, "check_suite", "s1", _suite(11))
        assert waiter.poll() is None, "settled while the lint run was still queued"
        deliver(url, "workflow_run", "late", _run(2, "lint", "completed", "skipped"))
        assert waiter.wait(20) == 0
        processes.stop(waiter)


def test_a_commit_that_already_settled_answers_from_the_store(state_dir: Path) -> None:
    write_secret(state_dir, GITHUB_WEBHOOK, SECRET)
    with listening_daemon(state_dir) as (url, _proc):
        deliver(url, "workflow_run", "a", _run(1, "build", "completed", "timed_out"))
    done = run_cli(state_dir, "wait", "--sha", SHA[:12], "--repo", REPO, "--timeout", "5s")
    assert done.returncode == 1, done.stderr


def _event(cursor: int, type: str, **fields: object) -> Event:
    status = fields.get("status")
    raw = fields.get("conclusion")
    verdict = None if status != "completed" or raw is None else Conclusion(str(raw))
    return Event(cursor, f"d{cursor}", "github", type, REPO, verdict, 0,
                 {"head_sha": SHA, "attempt": 1, **fields})  # type: ignore[dict-item]


def test_a_rerun_replaces_the_failed_attempt() -> None:
    tally = Tally(REPO, SHA)
    tally.observe(_event(1, "workflow_run", run_id=5, status="completed", conclusion="failure"))
    assert tally.verdict() is not None
    tally.observe(_event(2, "workflow_run", run_id=5, status="queued", attempt=2))
    assert tally.verdict() is None
    tally.observe(_event(3, "workflow_run", run_id=5, status="completed", conclusion="success",
                         attempt=2))
    tally.observe(_event(4, "check_suite", suite_id=9, status="completed", conclusion="success"))
    settled = tally.verdict()
    assert settled is not None
    assert settled.cursor == 4


def test_a_completed_suite_waits_for_runs_still_in_progress() -> None:
    tally = Tally(REPO, SHA)
    tally.observe(_event(1, "workflow_run", run_id=5, status="in_progress"))
    tally.observe(_event(2, "workflow_run", run_id=6, status="completed", conclusion="success"))
    tally.observe(_event(3, "check_suite", suite_id=9, status="completed", conclusion="success"))
    assert tally.verdict() is None
    tally.observe(_event(4, "workflow_run", run_id=5, status="completed", conclusion="success"))
    assert tally.verdict() is not None


def test_a_late_in_progress_does_not_reopen_a_completed_run() -> None:
    tally = Tally(REPO, SHA)
    tally.observe(_event(1, "workflow_run", run_id=5, status="completed", conclusion="success"))
    tally.observe(_event(2, "workflow_run", run_id=5, status="in_progress"))
    tally.observe(_event(3, "check_suite", suite_id=9, status="completed", conclusion="success"))
    assert tally.verdict() is not None


def test_a_requested_suite_that_never_runs_does_not_block_success() -> None:
    tally = Tally(REPO, SHA)
    tally.observe(_event(1, "check_suite", suite_id=8, status="queued"))
    tally.observe(_event(2, "check_suite", suite_id=9, status="completed", conclusion="success"))
    assert tally.verdict() is not None


def test_other_commits_and_repos_are_ignored() -> None:
    tally = Tally(REPO, SHA)
    other = _event(1, "workflow_run", run_id=5, status="completed", conclusion="failure")
    tally.observe(Event(1, "x", "github", "workflow_run", "someone/else", Conclusion.FAILURE, 0,
                        other.fields))
    tally.observe(_event(2, "workflow_run", run_id=6, status="completed", conclusion="failure",
                         head_sha="0" * 40))
    assert tally.verdict() is None


@pytest.mark.parametrize("url", [
    "git@github.com:octo-org/octo-repo.git", "https://github.com/octo-org/octo-repo",
    "https://github.com/octo-org/octo-repo.git/", "ssh://git@github.com/octo-org/octo-repo.git",
])
def test_github_remotes_name_their_repo(url: str) -> None:
    assert repo_of_remote(url) == REPO


def test_the_repo_defaults_to_the_checkouts_origin(tmp_path: Path) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.fail("git is missing; install it (Debian package git)")
    subprocess.run([git, "init", "-q", str(tmp_path)], check=True)
    subprocess.run([git, "-C", str(tmp_path), "remote", "add", "origin",
                    f"git@github.com:{REPO}.git"], check=True)
    assert repo_of_checkout(str(tmp_path)) == REPO


def test_a_remote_elsewhere_and_a_bad_sha_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="--repo"):
        repo_of_remote("https://gitlab.com/a/b.git")
    with pytest.raises(UsageError, match="hex"):
        check_sha("HEAD")
