"""The exit table: one in the code, the same in the README and in --help."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from waitbus.cli.exits import MEANINGS
from waitbus.cli.main import main

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_lists_exactly_the_exit_codes_of_the_table() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    listed = {int(code) for code in re.findall(r"^\| (\d+) \|", section, flags=re.M)}
    assert listed == {int(code) for code in MEANINGS}


def test_help_shows_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for code, meaning in MEANINGS.items():
        assert f"  {int(code):>3}  {meaning}" in out
