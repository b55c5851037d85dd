"""Every command's --help opens with what it does."""

from __future__ import annotations

import pytest

from waitbus.cli.commands import COMMANDS
from waitbus.cli.main import main


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_says_what_it_does(name: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main([name, "--help"]) == 0
    text = capsys.readouterr().out
    before_options = text.split("\n\n", 2)[1]
    assert before_options.strip(), text
    assert not before_options.startswith(("options:", "positional arguments:")), text


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.metadata

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"waitbus {importlib.metadata.version('waitbus')}"
