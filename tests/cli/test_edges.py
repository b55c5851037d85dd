"""Bad input at every edge of the CLI: a usage error that says what to write, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from waitbus.cli.exits import Exit
from waitbus.cli.main import main

DEEP = "[" * 100_000


@pytest.mark.parametrize(("args", "says"), [
    (["emit", "--source", "a", "--type", "b", "--field", "a=NaN"], "is not JSON"),
    (["emit", "--source", "a", "--type", "b", "--field", "a=Infinity"], "is not JSON"),
    (["emit", "--source", "a", "--type", "b", "--field", "a=1e999"], "no NaN or infinity"),
    (["emit", "--source", "a", "--type", "b", "--field", f"a={DEEP}"], "nested too deeply"),
    (["emit", "--source", "a", "--type", "b", "--field", "a=" + "[" * 40 + "]" * 40],
     "nested deeper than"),
    (["emit", "--source", "a", "--type", "b", "--subject", "\udcff"], "not valid UTF-8"),
    (["emit", "--source", "a", "--type", "b", "--field", "\udcff=1"], "not valid UTF-8"),
    (["emit", "--reply-to", "²", "--body", "x"], "no event with that cursor"),
    (["emit", "--reply-to", "9" * 23, "--body", "x"], "is not a cursor"),
    (["wait", "--source", "a", "--match", f"fields.a={DEEP}"], "nested too deeply"),
    (["wait", "--source", "a", "--match", "fields.a=NaN"], "not a finite number"),
    (["wait", "--source", "a", "--since", "99999999999h"], "longer than ten years"),
    (["wait", "--source", "a", "--since", "9" * 30], "give a cursor"),
    (["wait", "--source", "a", "--timeout", "9" * 30], "is not a duration"),
])
def test_bad_values_are_usage_errors_that_say_what_is_wrong(
        state_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str) -> None:
    assert main(["--state-dir", str(state_dir), *args]) == Exit.USAGE
    err = capsys.readouterr().err
    assert says in err
    assert "Traceback" not in err
    assert len(err) < 1000  # a huge argument is not echoed back whole


def test_tail_refuses_a_count_sqlite_cannot_hold(state_dir: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--state-dir", str(state_dir), "tail", "-n", "9" * 23]) == Exit.USAGE
    assert "is not a count" in capsys.readouterr().err


def test_reconnect_budget_that_is_not_a_duration_is_a_usage_error(
        state_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAITBUS_RECONNECT_S", "abc")
    assert main(["--state-dir", str(state_dir), "wait", "--source", "a"]) == Exit.USAGE
    assert "WAITBUS_RECONNECT_S" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["file", "proc", "symlink"])
def test_unusable_state_directory_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    if where == "file":
        root = tmp_path / "f"
        root.write_text("")
    elif where == "proc":
        root = Path("/proc/self/waitbus-state")
    else:
        (tmp_path / "real").mkdir(mode=0o700)
        root = tmp_path / "link"
        root.symlink_to(tmp_path / "real")
    assert main(["--state-dir", str(root), "emit", "--source", "a", "--type", "b"]) == Exit.USAGE
    err = capsys.readouterr().err
    assert str(root) in err
    assert "--state-dir" in err


def test_verify_without_its_extra_says_how_to_install_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    # The extra is installed here, so it is hidden from this one process the way a missing
    # package is: a None in sys.modules makes its import raise ImportError.
    script = ("import sys; sys.modules['sigstore'] = None\n"
              "from waitbus.cli.main import main\n"
              f"sys.exit(main(['--state-dir', {str(tmp_path / 's')!r}, 'verify']))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == Exit.USAGE, done.stderr
    assert "pip install 'waitbus[verify]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unexpected_error_exits_with_the_internal_error_code_not_1(
        state_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from waitbus.cli.commands import status

    def broken(_args: object) -> int:
        msg = "a bug"
        raise RuntimeError(msg)

    # The handler is what is under test, so the command is replaced by one with a bug.
    monkeypatch.setattr(status, "run", broken)
    assert main(["--state-dir", str(state_dir), "status"]) == Exit.INTERNAL
    err = capsys.readouterr().err
    assert "internal error (RuntimeError: a bug)" in err
    assert "Traceback" not in err
    assert main(["--state-dir", str(state_dir), "-v", "status"]) == Exit.INTERNAL
    assert "Traceback" in capsys.readouterr().err


def test_emit_json_stays_exact_for_text_with_escapes(
        state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--state-dir", str(state_dir), "emit", "--source", "a", "--type", "b",
                 "--subject", "x\x1b[2Jy", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["subject"] == "x\x1b[2Jy"
