"""Previewing an install from a checkout: no release needed, and it says nothing was verified."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import run_cli
from waitbus.cli.exits import Exit
from waitbus.install.gate import INDEX_URL_ENV


@pytest.mark.parametrize("command", ["install-systemd", "install-launchd"])
def test_dry_run_without_a_release_previews_and_says_nothing_was_verified(
        state_dir: Path, tmp_path: Path, command: str) -> None:
    assert INDEX_URL_ENV not in os.environ
    done = run_cli(state_dir, command, "--dry-run", "--unit-dir", str(tmp_path / "units"))
    assert done.returncode == 0, done.stderr
    assert "--- would write" in done.stdout
    assert "nothing was verified" in done.stderr
    assert not (tmp_path / "units").exists()
    assert not state_dir.exists()


def test_an_install_without_a_release_still_refuses_and_writes_nothing(
        state_dir: Path, tmp_path: Path) -> None:
    done = run_cli(state_dir, "install-systemd", "--files-only", "--unit-dir",
                   str(tmp_path / "units"))
    assert done.returncode == Exit.REFUSED
    assert not (tmp_path / "units").exists()
