"""`waitbus mcp` driven by the official MCP Inspector CLI (TypeScript SDK, 60 s request timeout).

The Inspector CLI is pinned in .ci/agent-clients/ and installed by .ci/setup.d/65-agent-clients.sh.
It sends no progress token, so nothing resets its 60 s timeout: only the default `timeout_s`
keeps a plain wait inside it. On the 2026-07-28 protocol it declares the tasks extension.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests import agent_clients
from tests.conftest import DaemonProcess
from waitbus.demo import processes
from waitbus.mcp_server.schemas import DEFAULT_WAIT_S

# Node.js and the Inspector start in several seconds on a loaded machine; a wait adds its own.
CALL_BOUND_S = 120.0


def inspector(state_dir: Path, *args: str, modern: bool = False) -> list[str]:
    """The Inspector CLI's argv for one call to a `waitbus -v mcp` on `state_dir`."""
    era = ("--protocol-era", "modern") if modern else ()
    server = [sys.executable, "-m", "waitbus", "--state-dir", str(state_dir), "-v", "mcp"]
    return [str(agent_clients.client("mcp-inspector")), "--cli", *era, *args,
            "--format", "json", "--", *server]


def result_of(stdout: str) -> dict[str, Any]:
    doc = json.loads(stdout)
    assert "error" not in doc, doc
    result = doc["result"]
    assert isinstance(result, dict)
    return result


def shell_emit(state_dir: Path, *args: str) -> None:
    """Emit the way a user does from a shell script."""
    line = shlex.join([sys.executable, "-m", "waitbus", "--state-dir", str(state_dir), "emit",
                       *args])
    done = subprocess.run(["sh", "-c", line], capture_output=True, text=True, timeout=30,
                          check=False)
    assert done.returncode == 0, done.stderr


def test_the_inspector_lists_the_tools(daemon: DaemonProcess, tmp_path: Path) -> None:
    done = subprocess.run(inspector(daemon.state_dir, "--method", "tools/list"),
                          capture_output=True, text=True, timeout=CALL_BOUND_S, check=False,
                          env=agent_clients.env(tmp_path))
    assert done.returncode == 0, done.stderr
    names = {tool["name"] for tool in result_of(done.stdout)["tools"]}
    assert names == {"wait", "events", "get_event", "emit", "status"}


def test_a_default_wait_answers_pending_inside_the_inspectors_request_timeout(
        daemon: DaemonProcess, tmp_path: Path) -> None:
    done = subprocess.run(
        inspector(daemon.state_dir, "--method", "tools/call", "--tool-name", "wait",
                  "--tool-arg", "source=nothing"),
        capture_output=True, text=True, timeout=CALL_BOUND_S, check=False,
        env=agent_clients.env(tmp_path))
    # A request the Inspector gave up on would be an error envelope and a non-zero exit.
    assert done.returncode == 0, done.stderr
    data = result_of(done.stdout)["structuredContent"]
    assert data["outcome"] == "pending"
    assert data["waited_s"] >= DEFAULT_WAIT_S
    assert int(data["cursor"]) >= 0


def test_a_wait_through_the_inspector_is_released_by_a_shell_emit(
        daemon: DaemonProcess, tmp_path: Path) -> None:
    argv = inspector(daemon.state_dir, "--method", "tools/call", "--tool-name", "wait",
                     "--tool-arg", "source=ci", "--tool-arg", 'match=["subject=\\"o/r\\""]')
    # The Inspector passes the server's stderr through: its wait says when it is live.
    call = processes.start(argv, ready="live at cursor", stream="stderr", timeout_s=60,
                           env=agent_clients.env(tmp_path))
    try:
        shell_emit(daemon.state_dir, "--source", "ci", "--type", "build", "--subject", "o/r",
                   "--conclusion", "success")
        out, err = call.communicate(timeout=CALL_BOUND_S)
    finally:
        processes.stop(call)
    assert call.returncode == 0, err
    data = result_of(out)["structuredContent"]
    assert data["outcome"] == "matched"
    assert [e["subject"] for e in data["events"]] == ["o/r"]


def test_a_wait_through_the_inspector_on_the_2026_protocol_runs_as_a_task(
        daemon: DaemonProcess, tmp_path: Path) -> None:
    argv = inspector(daemon.state_dir, "--method", "tools/call", "--tool-name", "wait",
                     "--tool-arg", "source=ci", modern=True)
    call = processes.start(argv, ready="waitbus: task", stream="stderr", timeout_s=60,
                           env=agent_clients.env(tmp_path))
    try:
        shell_emit(daemon.state_dir, "--source", "ci", "--type", "build",
                   "--conclusion", "failure")
        out, err = call.communicate(timeout=CALL_BOUND_S)
    finally:
        processes.stop(call)
    assert call.returncode == 0, err
    assert "completed" in err  # the server's log: the task it ran ended with the result
    data = result_of(out)["structuredContent"]
    assert data["outcome"] == "failed"
