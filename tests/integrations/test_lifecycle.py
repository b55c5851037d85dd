"""A hook payload becomes one lifecycle event whose subject is the repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from waitbus.integrations import lifecycle, repo


@pytest.mark.parametrize(("url", "slug"), [
    ("git@github.com:acme/widgets.git", "acme/widgets"),
    ("https://github.com/acme/widgets", "acme/widgets"),
    ("ssh://git@example.org:2222/acme/widgets.git/", "acme/widgets"),
    ("/srv/git/acme/widgets.git", "acme/widgets"),
    ("widgets", None),
])
def test_slug_of_reads_owner_and_name_from_every_remote_form(url: str, slug: str | None) -> None:
    assert repo.slug_of(url) == slug


def test_slug_and_branch_come_from_a_real_repository_and_its_worktree(tmp_path: Path) -> None:
    main = tmp_path / "main"
    def git(*args: str, cwd: Path = main) -> None:
        subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)
    main.mkdir()
    git("init", "-q", "-b", "trunk")
    git("remote", "add", "upstream", "https://example.org/other/thing.git")
    git("remote", "add", "origin", "git@example.org:acme/widgets.git")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x")
    git("worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt"))
    (main / "deep" / "er").mkdir(parents=True)
    assert repo.slug(str(main / "deep" / "er")) == "acme/widgets"
    assert repo.branch(str(main)) == "trunk"
    assert repo.slug(str(tmp_path / "wt")) == "acme/widgets"
    assert repo.branch(str(tmp_path / "wt")) == "feature"
    assert repo.slug(str(tmp_path)) is None


def test_claude_stop_failure_is_a_failed_event_with_the_error(tmp_path: Path) -> None:
    described = lifecycle.describe("claude", {
        "hook_event_name": "StopFailure", "session_id": "s1", "cwd": str(tmp_path),
        "error": "server_error", "last_assistant_message": "API Error: refused"})
    assert described is not None
    assert (described.type, described.conclusion) == ("failed", "failure")
    assert described.subject == str(tmp_path)  # no repository: the folder
    assert described.fields["error"] == "server_error"
    assert described.fields["message"] == "API Error: refused"
    assert described.fields["session"] == "s1"


def test_codex_notify_and_stop_hook_share_one_delivery_id(tmp_path: Path) -> None:
    notify = lifecycle.describe("codex", {"type": "agent-turn-complete", "thread-id": "t1",
                                          "turn-id": "u1", "cwd": str(tmp_path)})
    hook = lifecycle.describe("codex", {"hook_event_name": "Stop", "session_id": "t1",
                                        "turn_id": "u1", "cwd": str(tmp_path)})
    assert notify is not None
    assert hook is not None
    assert notify.type == hook.type == "stopped"
    assert notify.delivery_id == hook.delivery_id == "codex:t1:u1:stopped"


def test_events_waitbus_does_not_report_describe_nothing() -> None:
    assert lifecycle.describe("claude", {"hook_event_name": "PreToolUse"}) is None
    assert lifecycle.describe("gemini", {}) is None
    assert lifecycle.describe("nobody", {"hook_event_name": "Stop"}) is None
