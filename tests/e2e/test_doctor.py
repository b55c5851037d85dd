"""`waitbus doctor` says what is wrong, line by line, and exits by the table."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import DaemonProcess
from waitbus.bridge.exporter import NAME
from waitbus.cli.exits import Exit
from waitbus.integrations.hooks import waitbus_executable
from waitbus.paths import StatePaths
from waitbus.sources.emitter import draft
from waitbus.store.store import Store


def _doctor(state_dir: Path, home: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([waitbus_executable(), "--state-dir", str(state_dir), "doctor", *args],
                          cwd=cwd, env={**os.environ, "HOME": str(home)}, capture_output=True,
                          text=True, timeout=120, check=False)


def test_doctor_without_a_daemon_exits_69_and_says_how_to_start_one(
        state_dir: Path, tmp_path: Path) -> None:
    result = _doctor(state_dir, tmp_path, tmp_path)
    assert result.returncode == Exit.UNREACHABLE
    daemon_line = next(line for line in result.stdout.splitlines() if " daemon:" in line)
    assert daemon_line.startswith("FAIL daemon:")
    assert "-> start it: `waitbus serve`" in daemon_line


def test_doctor_probes_each_configured_server_and_names_the_broken_one(
        daemon: DaemonProcess, state_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".cursor").mkdir(parents=True)
    (home / ".cursor" / "mcp.json").write_text(json.dumps({"mcpServers": {"waitbus": {
        "command": waitbus_executable(), "args": ["mcp"],
        "env": {"WAITBUS_STATE_DIR": str(state_dir)}}}}))
    (home / ".claude.json").write_text(json.dumps({"mcpServers": {"waitbus": {
        "command": str(tmp_path / "gone" / "waitbus"), "args": ["mcp"]}}}))
    result = _doctor(state_dir, home, tmp_path, "--json")
    checks = {check["name"]: check for check in json.loads(result.stdout)}
    assert checks["daemon"]["ok"]
    assert checks["state directory"]["ok"]
    cursor = checks[f"cursor MCP server ({home / '.cursor' / 'mcp.json'})"]
    # It answered; whether within the 1 s budget depends on the machine's load, so the test
    # pins the answer and benchmarks own the time.
    assert "answer" in cursor["detail"]
    assert "initialize in" in cursor["detail"]
    claude = checks[f"claude MCP server ({home / '.claude.json'})"]
    assert not claude["ok"]
    assert "does not start" in claude["detail"]
    assert claude["fix"] == "run `waitbus mcp install claude` again (it writes this waitbus's path)"
    assert result.returncode == Exit.CONFIG


def test_doctor_reports_installed_hooks(daemon: DaemonProcess, state_dir: Path,
                                        tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    subprocess.run([waitbus_executable(), "--state-dir", str(state_dir), "hooks", "install",
                    "gemini"], env=env, check=True, capture_output=True, timeout=60)
    result = _doctor(state_dir, home, tmp_path)
    line = next(line for line in result.stdout.splitlines() if "gemini hooks (user)" in line)
    assert line.startswith("ok   gemini hooks (user): SessionStart, AfterAgent")


def test_doctor_fails_a_bridge_that_stopped_and_says_how_to_restart_it(
        daemon: DaemonProcess, state_dir: Path, tmp_path: Path) -> None:
    # The record a bridge leaves in the store when it stops (`waitbus bridge nats` writes it
    # through the same call); no bridge process holds the bridge lock now.
    with Store(StatePaths(state_dir)) as store:
        store.mark_bridge(NAME, exported=0, state={
            "host": "a", "url": "nats://127.0.0.1:4222", "stream": "WAITBUS",
            "connected": False, "import_pending": None, "error": None})
        store.append(draft("ci", "build"))
    result = _doctor(state_dir, tmp_path, tmp_path, "--json")
    checks = {check["name"]: check for check in json.loads(result.stdout)}
    bridge = checks["bridge nats"]
    assert not bridge["ok"]
    assert "not running" in bridge["detail"]
    assert "export lag 1" in bridge["detail"]
    assert bridge["fix"].startswith("start it again: `waitbus bridge nats --url nats://127.0.0.1:4222`")
    assert result.returncode == Exit.CONFIG
