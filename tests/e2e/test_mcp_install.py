"""`waitbus mcp install` registers a server each real client starts and finds connected."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests import agent_clients
from tests.conftest import DaemonProcess
from waitbus.integrations.hooks import waitbus_executable


def _install(state_dir: Path, home: Path, cwd: Path, *args: str) -> str:
    result = subprocess.run([waitbus_executable(), "--state-dir", str(state_dir), "mcp",
                             "install", *args], cwd=cwd, env=agent_clients.env(home),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _client(home: Path, cwd: Path, *argv: str, **env: str) -> str:
    result = subprocess.run(argv, cwd=cwd, env=agent_clients.env(home, **env),
                            capture_output=True, text=True, timeout=120, check=False,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def test_claude_mcp_list_shows_waitbus_connected(
        daemon: DaemonProcess, state_dir: Path, home: Path, tmp_path: Path) -> None:
    _install(state_dir, home, tmp_path, "claude")
    _install(state_dir, home, tmp_path, "claude")  # again: replaced, not duplicated
    listed = _client(home, tmp_path, str(agent_clients.client("claude")), "mcp", "list")
    assert "waitbus:" in listed
    assert "✔ Connected" in listed or "✓ Connected" in listed, listed


def test_gemini_mcp_list_shows_waitbus_connected_with_its_timeout(
        daemon: DaemonProcess, state_dir: Path, home: Path, tmp_path: Path) -> None:
    _install(state_dir, home, tmp_path, "gemini")
    listed = _client(home, tmp_path, str(agent_clients.client("gemini")), "mcp", "list",
                     GEMINI_CLI_TRUST_WORKSPACE="true")
    assert "waitbus" in listed
    assert "Connected" in listed, listed
    settings = json.loads((home / ".gemini" / "settings.json").read_text())
    assert settings["mcpServers"]["waitbus"]["timeout"] == 300_000


def test_codex_config_gets_the_server_and_tool_timeout(
        state_dir: Path, home: Path, tmp_path: Path) -> None:
    # `codex mcp list` only reads the config: Codex starts servers in a session, which needs
    # a model; the server starting is what the Claude Code and Gemini tests show.
    (home / ".codex").mkdir()
    (home / ".codex" / "config.toml").write_text('model = "mine"\n')
    _install(state_dir, home, tmp_path, "codex")
    _install(state_dir, home, tmp_path, "codex")
    config = tomllib.loads((home / ".codex" / "config.toml").read_text())
    assert config["model"] == "mine"
    server = config["mcp_servers"]["waitbus"]
    assert server["args"] == ["mcp"]
    assert server["tool_timeout_sec"] == 300
    assert server["env"] == {"WAITBUS_STATE_DIR": str(state_dir.resolve())}
    listed = _client(home, tmp_path, str(agent_clients.client("codex")), "mcp", "list")
    assert "waitbus" in listed


@pytest.mark.parametrize(("client", "relative", "key"), [
    ("cursor", ".cursor/mcp.json", "mcpServers"),
    ("vscode", ".vscode/mcp.json", "servers"),
])
def test_file_clients_get_a_merged_project_file(
        state_dir: Path, home: Path, tmp_path: Path, client: str, relative: str,
        key: str) -> None:
    project = tmp_path / "p"
    (project / ".git").mkdir(parents=True)
    target = project / relative
    target.parent.mkdir()
    target.write_text(json.dumps({key: {"other": {"command": "x"}}}))
    _install(state_dir, home, project, client, "--scope", "project")
    doc = json.loads(target.read_text())
    assert doc[key]["other"] == {"command": "x"}
    assert doc[key]["waitbus"]["args"] == ["mcp"]


def test_dry_run_prints_the_client_command_and_changes_nothing(
        state_dir: Path, home: Path, tmp_path: Path) -> None:
    out = _install(state_dir, home, tmp_path, "claude", "--dry-run")
    assert "run: claude mcp add --scope user" in out
    assert not (home / ".claude.json").exists()
