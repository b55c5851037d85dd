"""The CLI shell in-process: help, the exit table, and errors mapped to codes."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest

from waitbus.cli.exits import Exit
from waitbus.cli.main import main


def test_help_lists_the_exit_code_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for code in ("0", "1", "2", "69", "124", "130"):
        assert f"  {code:>3}  " in out


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"waitbus {metadata.version('waitbus')}\n"


def test_unknown_flag_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wait", "--bogus"]) == Exit.USAGE


def test_emit_then_tail_in_process(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--state-dir", str(state_dir), "emit", "--source", "s", "--type", "t",
                 "--field", "n=1", "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert stored["fields"] == {"n": 1}
    assert main(["--state-dir", str(state_dir), "tail", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cursor"] == stored["cursor"]


def test_status_without_daemon_exits_69(state_dir: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--state-dir", str(state_dir), "status"]) == Exit.UNREACHABLE
    assert "start one with `waitbus serve`" in capsys.readouterr().err


def test_on_without_a_command_says_how(state_dir: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--state-dir", str(state_dir), "on", "--source", "s"]) == Exit.USAGE
    assert "after --" in capsys.readouterr().err


def test_bad_duration_says_what_to_write(state_dir: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--state-dir", str(state_dir), "wait", "--source", "s",
                 "--timeout", "soon"]) == Exit.USAGE
    assert "30s, 5m, 1h" in capsys.readouterr().err


def test_help_lists_every_command_with_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    from waitbus.cli.commands import COMMANDS

    assert main(["--help"]) == 0
    listed = " ".join(capsys.readouterr().out.split())
    for name, summary in COMMANDS.items():
        assert f"{name} {summary}" in listed


def test_running_wait_imports_no_other_command_module() -> None:
    import subprocess
    import sys

    script = ("import sys; from waitbus.cli.main import build_parser; build_parser('wait'); "
              "print(sorted(m for m in sys.modules if m.startswith('waitbus.cli.commands.')))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "['waitbus.cli.commands.wait']"
