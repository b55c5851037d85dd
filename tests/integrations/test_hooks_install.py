"""Installing hooks merges into a client's settings and uninstall takes out only what it added."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from waitbus.errors import UsageError
from waitbus.integrations import hooks
from waitbus.integrations.clients import HOOKS, Scope
from waitbus.paths import StatePaths

ARGV = ["/opt/wb/bin/waitbus", "hook-event"]
MINE = {"type": "command", "command": "notify-send done"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


@pytest.fixture
def paths(tmp_path: Path) -> StatePaths:
    return StatePaths(tmp_path / "state").ensure()


def _install(paths: StatePaths, client: str, scope: Scope = Scope.USER) -> hooks.Plan:
    plan = hooks.plan_install(paths, client, scope, [*ARGV, client])
    hooks.apply(paths, plan)
    return plan


def _write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


@pytest.mark.parametrize("client", ["claude", "gemini", "codex"])
def test_install_keeps_user_settings_and_uninstall_restores_them(
        home: Path, paths: StatePaths, client: str) -> None:
    name = "hooks.json" if client == "codex" else "settings.json"
    settings = home / f".{client}" / name
    original = {"hooks": {"Stop": [{"hooks": [MINE]}]}}
    if client != "codex":
        original["model"] = "mine"  # type: ignore[assignment]
    _write(settings, json.dumps(original))
    _install(paths, client)
    doc = json.loads(settings.read_text())
    assert doc.get("model") == original.get("model")
    for hook in HOOKS[client]:
        assert any("hook-event" in json.dumps(group) for group in doc["hooks"][hook.event])
    if client == "claude":
        assert doc["hooks"]["Stop"][0] == {"hooks": [MINE]}
    plan = hooks.plan_uninstall(paths, client, Scope.USER)
    hooks.apply(paths, plan)
    assert json.loads(settings.read_text()) == original


def test_install_twice_changes_nothing(home: Path, paths: StatePaths) -> None:
    _install(paths, "claude")
    settings = home / ".claude" / "settings.json"
    first = settings.read_text()
    again = hooks.plan_install(paths, "claude", Scope.USER, [*ARGV, "claude"])
    assert again.changes == ()
    hooks.apply(paths, again)
    assert settings.read_text() == first


def test_uninstall_removes_a_file_it_created_and_keeps_hooks_added_since(
        home: Path, paths: StatePaths) -> None:
    _install(paths, "gemini")
    settings = home / ".gemini" / "settings.json"
    hooks.apply(paths, hooks.plan_uninstall(paths, "gemini", Scope.USER))
    assert not settings.exists()
    _install(paths, "gemini")
    doc = json.loads(settings.read_text())
    doc["hooks"]["AfterAgent"].append({"hooks": [MINE]})
    settings.write_text(json.dumps(doc))
    hooks.apply(paths, hooks.plan_uninstall(paths, "gemini", Scope.USER))
    assert json.loads(settings.read_text()) == {"hooks": {"AfterAgent": [{"hooks": [MINE]}]}}


def test_malformed_settings_are_an_error_and_left_untouched(
        home: Path, paths: StatePaths) -> None:
    text = _write(home / ".claude" / "settings.json", '{"hooks": {"Stop": [}')
    with pytest.raises(UsageError, match=r"settings\.json is not valid JSON.*nothing was changed"):
        hooks.plan_install(paths, "claude", Scope.USER, [*ARGV, "claude"])
    assert (home / ".claude" / "settings.json").read_text() == text
    _write(home / ".gemini" / "settings.json", '{"hooks": []}')
    with pytest.raises(UsageError, match='"hooks" is not an object'):
        hooks.plan_install(paths, "gemini", Scope.USER, [*ARGV, "gemini"])
    toml = _write(home / ".codex" / "config.toml", "model = \n")
    with pytest.raises(UsageError, match=r"config\.toml is not valid TOML"):
        hooks.plan_install(paths, "codex", Scope.USER, [*ARGV, "codex"])
    assert (home / ".codex" / "config.toml").read_text() == toml
    assert not (home / ".codex" / "hooks.json").exists()


def test_codex_notify_is_added_once_and_a_users_own_is_left_alone(
        home: Path, paths: StatePaths) -> None:
    config = home / ".codex" / "config.toml"
    original = _write(config, 'model = "o4"\n\n[mcp_servers.x]\ncommand = "x"\n')
    plan = _install(paths, "codex")
    doc = tomllib.loads(config.read_text())
    assert doc["notify"] == [*ARGV, "codex"]
    assert doc["model"] == "o4"
    assert doc["mcp_servers"] == {"x": {"command": "x"}}
    assert any("trust" in note for note in plan.notes)
    hooks.apply(paths, hooks.plan_uninstall(paths, "codex", Scope.USER))
    assert config.read_text() == original
    _write(config, 'notify = ["my-notifier"]\n')
    plan = _install(paths, "codex")
    assert tomllib.loads(config.read_text())["notify"] == ["my-notifier"]
    assert any("already sets notify" in note for note in plan.notes)


def test_project_scope_writes_the_repository_settings(
        home: Path, paths: StatePaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")
    _install(paths, "claude", Scope.PROJECT)
    assert (project / ".claude" / "settings.json").exists()
    found = {item.scope: item for item in hooks.status("claude")}
    assert not found[Scope.USER].present
    assert found[Scope.PROJECT].present == tuple(hook.event for hook in HOOKS["claude"])
    assert not found[Scope.PROJECT].command_ok  # /opt/wb/bin/waitbus does not exist here


def test_uninstall_without_install_says_so(home: Path, paths: StatePaths) -> None:
    with pytest.raises(UsageError, match="nothing to uninstall"):
        hooks.plan_uninstall(paths, "claude", Scope.USER)
