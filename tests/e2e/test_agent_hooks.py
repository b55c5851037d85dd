"""Real agent clients, offline, fire the hooks `waitbus hooks install` wrote; a peer wakes.

The clients (Claude Code, Codex CLI, Gemini CLI) are the pinned real ones from
.ci/agent-clients/. No model can run here, so each talks to a loopback stand-in of its
provider's API (tests/integrations/model_api.py) and finishes a real turn against it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests import agent_clients
from tests.conftest import DaemonProcess, run_cli, start_wait
from tests.integrations import model_api

REPO = "acme/widgets"
CLIENT_TIMEOUT_S = 120.0


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git checkout whose origin is acme/widgets."""
    root = tmp_path / "widgets"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "remote", "add", "origin", f"git@example.org:{REPO}.git"], cwd=root,
                   check=True)
    return root


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def _client(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=CLIENT_TIMEOUT_S, stdin=subprocess.DEVNULL, check=False)


def _waiter(state_dir: Path, kind: str, client: str) -> subprocess.Popen[str]:
    return start_wait(state_dir, "--source", "agent", "--match", f'type="{kind}"',
                      "--match", f'fields.repo="{REPO}"', "--match", f'fields.client="{client}"',
                      "--timeout", "2m", "--json")


def _woken(waiter: subprocess.Popen[str]) -> dict[str, object]:
    out, err = waiter.communicate(timeout=CLIENT_TIMEOUT_S + 30)
    assert waiter.returncode in (0, 1), err
    event = json.loads(out)
    assert isinstance(event, dict)
    return event


def _install(state_dir: Path, home: Path, project: Path, client: str, scope: str) -> None:
    result = subprocess.run(
        [*_waitbus(state_dir), "hooks", "install", client, "--scope", scope], cwd=project,
        env={**os.environ, "HOME": str(home)}, capture_output=True, text=True, timeout=30,
        check=False)
    assert result.returncode == 0, result.stderr


def _waitbus(state_dir: Path) -> list[str]:
    from waitbus.integrations.hooks import waitbus_executable

    return [waitbus_executable(), "--state-dir", str(state_dir)]


def test_claude_code_turn_wakes_a_peer_waiting_for_its_repository(
        daemon: DaemonProcess, state_dir: Path, home: Path, project: Path) -> None:
    _install(state_dir, home, project, "claude", "project")
    env = agent_clients.env(home)
    doctor = _client([str(agent_clients.client("claude")), "doctor"], project, env)
    assert "Invalid settings" not in doctor.stdout, doctor.stdout
    waiter = _waiter(state_dir, "stopped", "claude")
    with model_api.anthropic() as url:
        turn = _client([str(agent_clients.client("claude")), "-p", "hello"], project,
                       {**env, "ANTHROPIC_API_KEY": "sk-offline", "ANTHROPIC_BASE_URL": url,
                        "CLAUDE_CODE_MAX_RETRIES": "0"})
    assert turn.returncode == 0, turn.stderr
    event = _woken(waiter)
    assert event["subject"] == REPO
    assert event["conclusion"] == "success"
    fields = event["fields"]
    assert isinstance(fields, dict)
    assert fields["event"] == "Stop"
    assert fields["cwd"] == str(project)
    assert fields["session"]


def test_claude_code_api_failure_is_a_failed_event(
        daemon: DaemonProcess, state_dir: Path, home: Path, project: Path) -> None:
    _install(state_dir, home, project, "claude", "user")
    waiter = _waiter(state_dir, "failed", "claude")
    # Nothing listens on port 9 (discard): the client's API call is refused at once. The
    # session reads its prompts from stdin and lives until stdin closes, as an interactive one
    # does; a `-p` run would exit at the failure and take the still-starting hook with it.
    session = subprocess.Popen(
        [str(agent_clients.client("claude")), "-p", "--input-format", "stream-json",
         "--output-format", "stream-json", "--verbose"], cwd=project,
        env=agent_clients.env(home, ANTHROPIC_API_KEY="sk-offline",
                              ANTHROPIC_BASE_URL="http://127.0.0.1:9",
                              CLAUDE_CODE_MAX_RETRIES="0"),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert session.stdin is not None
        session.stdin.write(json.dumps({"type": "user", "message": {
            "role": "user", "content": "hello"}}) + "\n")
        session.stdin.flush()
        event = _woken(waiter)
    finally:
        out, _err = session.communicate(timeout=CLIENT_TIMEOUT_S)
    assert event["conclusion"] == "failure"
    assert event["fields"]["event"] == "StopFailure"  # type: ignore[index]
    assert event["fields"]["error"] == "server_error"  # type: ignore[index]
    # The client reports the hooks it ran in its own stream.
    assert '"hook_name":"SessionStart:startup"' in out


def _codex(home: Path, project: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    provider = (f'model_providers.offline={{name="offline", base_url="{url}", '
                'env_key="OFFLINE_KEY", wire_api="responses", request_max_retries=0, '
                "stream_max_retries=0}")
    return _client([str(agent_clients.client("codex")), "exec", *extra, "--skip-git-repo-check",
                    "-c", "model_provider=offline", "-c", provider, "hello"], project,
                   agent_clients.env(home, OFFLINE_KEY="offline"))


def test_codex_notify_reports_a_finished_turn_without_hook_trust(
        daemon: DaemonProcess, state_dir: Path, home: Path, project: Path) -> None:
    _install(state_dir, home, project, "codex", "user")
    waiter = _waiter(state_dir, "stopped", "codex")
    with model_api.responses() as url:
        turn = _codex(home, project, url)
    assert turn.returncode == 0, turn.stderr
    event = _woken(waiter)
    assert event["fields"]["event"] == "agent-turn-complete"  # type: ignore[index]
    assert event["subject"] == REPO


def test_codex_hooks_report_session_start_once_trusted(
        daemon: DaemonProcess, state_dir: Path, home: Path, project: Path) -> None:
    _install(state_dir, home, project, "codex", "user")
    waiter = _waiter(state_dir, "started", "codex")
    # Trusting a hook is an interactive step (/hooks in the TUI); the flag stands in for it.
    with model_api.responses() as url:
        turn = _codex(home, project, url, "--dangerously-bypass-hook-trust")
    assert turn.returncode == 0, turn.stderr
    assert "hook: Stop Completed" in turn.stderr
    event = _woken(waiter)
    assert event["fields"]["event"] == "SessionStart"  # type: ignore[index]


def test_gemini_cli_turn_wakes_a_peer(
        daemon: DaemonProcess, state_dir: Path, home: Path, project: Path) -> None:
    settings = home / ".gemini" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}}}))
    _install(state_dir, home, project, "gemini", "user")
    waiter = _waiter(state_dir, "stopped", "gemini")
    with model_api.gemini() as url:
        # -m skips Gemini's model router, whose classifier wants JSON from the model.
        turn = _client([str(agent_clients.client("gemini")), "--skip-trust", "-m",
                        "gemini-2.5-flash", "-p", "hello"], project,
                       agent_clients.env(home, GEMINI_API_KEY="offline",
                                         GOOGLE_GEMINI_BASE_URL=url))
    assert turn.returncode == 0, turn.stderr
    event = _woken(waiter)
    assert event["fields"]["event"] == "AfterAgent"  # type: ignore[index]
    assert json.loads(settings.read_text())["security"]["auth"]["selectedType"] == \
        "gemini-api-key"


def test_hook_event_exits_0_at_once_with_an_unwritable_store(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    payload = json.dumps({"hook_event_name": "Stop", "session_id": "s", "cwd": str(tmp_path)})
    for state_dir in (blocked / "state", tmp_path / "fresh"):
        started = time.monotonic()
        result = run_cli(state_dir, "hook-event", "claude", input=payload)
        assert result.returncode == 0
        assert (result.stdout, result.stderr) == ("", "")
        assert time.monotonic() - started < 30
    garbage = run_cli(tmp_path / "fresh", "hook-event", "claude", input="{not json")
    assert (garbage.returncode, garbage.stdout, garbage.stderr) == (0, "", "")


def test_hook_event_without_a_daemon_stores_the_event(tmp_path: Path, state_dir: Path) -> None:
    payload = json.dumps({"hook_event_name": "SessionStart", "session_id": "s9",
                          "cwd": str(tmp_path), "source": "startup"})
    assert run_cli(state_dir, "hook-event", "gemini", input=payload).returncode == 0
    # The commit is the detached child's: wait on it with a bound, not a sleep.
    daemon = DaemonProcess(state_dir).start()
    try:
        found = run_cli(state_dir, "wait", "--source", "agent", "--since", "0", "--match",
                        'fields.session="s9"', "--timeout", "30s", "--json")
    finally:
        daemon.stop()
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["type"] == "started"
