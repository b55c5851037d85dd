"""What a short command loads: every agent hook runs `waitbus emit`, so its start-up is its cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import DaemonProcess

# Run in a fresh interpreter; the module list goes to stderr, after the command's own output.
PROBE = """
import json, sys
from waitbus.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""
# Nothing emit does needs an event loop, TLS, HTTP, logging, typing, subprocesses or
# compression; each of these costs milliseconds of every hook's start-up. Nor dataclasses (its
# inspect, ast and dis: records are built without them), socket's enums (the doorbell is a bare
# _socket) or threading (a lock is a _thread lock).
NOT_FOR_EMIT = {"asyncio", "ssl", "_ssl", "concurrent", "subprocess", "http", "email", "h11",
                "logging", "typing", "uuid", "platform", "shutil", "bz2", "lzma", "mcp",
                "sigstore", "waitbus.wire", "waitbus.match", "waitbus.consumers",
                "dataclasses", "inspect", "ast", "dis", "socket", "threading"}


def _loaded(*argv: str, stdin: str | None = None) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    return set(report["modules"])


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m in NOT_FOR_EMIT or m.partition(".")[0] in NOT_FOR_EMIT}


def test_emit_loads_only_what_a_commit_needs(state_dir: Path) -> None:
    loaded = _loaded("--state-dir", str(state_dir), "emit", "--source", "ci", "--type", "build",
                     "--field", "n=1", "--conclusion", "success")
    assert "sqlite3" in loaded  # the probe saw a real commit
    assert _heavy(loaded) == set()


def test_an_agent_message_and_a_batch_load_no_more(state_dir: Path) -> None:
    message = _loaded("--state-dir", str(state_dir), "emit", "--to", "*", "--body", "hi")
    batch = _loaded("--state-dir", str(state_dir), "emit", "--batch",
                    stdin='{"source": "ci", "type": "step"}\n')
    assert _heavy(message - {"waitbus.match"}) == set()
    assert _heavy(batch) == set()


def test_wait_runs_without_an_event_loop(daemon: DaemonProcess) -> None:
    state = str(daemon.state_dir)
    _loaded("--state-dir", state, "emit", "--source", "ci", "--type", "build")
    loaded = _loaded("--state-dir", state, "wait", "--source", "ci", "--since", "0",
                     "--timeout", "30s")
    assert "waitbus.consumers.feed" in loaded  # the probe really subscribed
    assert not {"asyncio", "ssl", "_ssl", "concurrent", "subprocess", "h11", "dataclasses",
                "inspect", "typing", "socket"} & loaded


def test_the_hook_command_loads_no_parser_and_no_paths() -> None:
    # entry() hands `hook-event` to the hook before any parser exists; it ends in os._exit,
    # so the probe imports what that path imports and lists the modules.
    probe = ("import json, sys; import waitbus.cli.main, waitbus.integrations.hook; "
             "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    loaded = set(json.loads(done.stdout))
    assert "waitbus.integrations.hook" in loaded
    assert not {"argparse", "pathlib", "gettext", "waitbus.errors", "waitbus.event",
                "sqlite3"} & loaded
