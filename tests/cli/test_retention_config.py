"""The retention policy from config.toml and the serve and prune flags."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from waitbus.cli import retention
from waitbus.cli.exits import Exit
from waitbus.cli.main import main
from waitbus.config import Retention
from waitbus.errors import UsageError
from waitbus.paths import StatePaths


@pytest.mark.parametrize(("text", "size"), [
    ("256MiB", 256 * 2**20), ("1GiB", 2**30), ("1.5GB", 1_500_000_000), ("500kB", 500_000),
    ("4096", 4096), ("10 MiB", 10 * 2**20)])
def test_sizes_take_binary_and_decimal_units(text: str, size: int) -> None:
    assert retention.byte_count(text) == size


def test_a_bad_size_says_what_to_write() -> None:
    with pytest.raises(UsageError, match="256MiB"):
        retention.byte_count("lots")


def test_no_config_file_means_the_defaults(tmp_path: Path) -> None:
    assert retention.from_config(tmp_path / "absent.toml") == Retention()
    assert Retention().max_age_s == 30 * 86400
    assert Retention().max_bytes == 256 * 2**20


def test_config_file_sets_and_turns_off_bounds(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[retention]\nmax_age = "7d"\nmax_bytes = "off"\nmax_rows = 5000\n')
    assert retention.from_config(path) == Retention(7 * 86400.0, None, 5000)


@pytest.mark.parametrize(("body", "error"), [
    ('[retention]\nmax_age = "soon"\n', "not a duration"),
    ('[retention]\nmax_size = "1GiB"\n', "unknown [retention] key 'max_size'"),
    ("[retention\n", "cannot read the config file"),
])
def test_a_bad_config_file_names_the_file_and_the_problem(tmp_path: Path, body: str,
                                                          error: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(body)
    with pytest.raises(UsageError, match=str(path)) as caught:
        retention.from_config(path)
    assert error in str(caught.value)


def test_serve_flags_replace_the_config_files_bounds(tmp_path: Path) -> None:
    paths = StatePaths(tmp_path)
    (tmp_path / "config.toml").write_text('[retention]\nmax_age = "7d"\nmax_rows = 10\n')
    args = argparse.Namespace(config=None, retain_age="off", retain_bytes="1GiB",
                              retain_rows=None)
    assert retention.for_serve(args, paths) == Retention(None, 2**30, 10)


def test_prune_dry_run_then_prune_without_a_daemon(state_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--state-dir", str(state_dir)]
    for n in range(12):
        assert main([*base, "emit", "--source", "s", "--type", "t", "--field", f"n={n}"]) == 0
    capsys.readouterr()
    assert main([*base, "prune", "--keep-rows", "2", "--dry-run"]) == 0
    assert "would prune 10 events (through cursor 10)" in capsys.readouterr().out
    assert main([*base, "prune", "--keep-rows", "2"]) == 0
    assert "pruned 10 events" in capsys.readouterr().out
    assert main([*base, "events", "get", "3"]) == Exit.USAGE
    assert "was pruned by retention" in capsys.readouterr().err
