"""A console script passes only as the installer's launcher of the verified entry point."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.install.attestations import RFC, RFC_WHEEL, fixture_path
from waitbus.install.record import check_installed
from waitbus.install.scripts import check_script, console_scripts
from waitbus.install.trust import VerificationFailed
from waitbus.install.verify import verify_file

PYTHON = Path(os.path.abspath(sys.executable))
ENTRY = "waitbus.cli.main:entry"
# distlib's older launcher, as pip up to 24 writes it.
PIP_BODY = """# -*- coding: utf-8 -*-
import re
import sys
from waitbus.cli.main import entry
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(entry())
"""


def _installed_launcher() -> Path:
    """The launcher uv wrote for this environment's own waitbus (uv sync installs it)."""
    script = PYTHON.parent / "waitbus"
    if not script.is_file():
        pytest.fail(f"{script} is missing: run the tests in the project environment (uv run)")
    return script


def _write(tmp_path: Path, text: str) -> Path:
    script = tmp_path / "waitbus"
    script.write_text(text)
    return script


def test_the_launcher_the_installer_wrote_passes() -> None:
    check_script(_installed_launcher(), ENTRY, PYTHON)


def test_pips_launcher_and_its_long_path_form_pass(tmp_path: Path) -> None:
    check_script(_write(tmp_path, f"#!{PYTHON}\n{PIP_BODY}"), ENTRY, PYTHON)
    long_form = f"#!/bin/sh\n'''exec' {PYTHON} \"$0\" \"$@\"\n' '''\n{PIP_BODY}"
    check_script(_write(tmp_path, long_form), ENTRY, PYTHON)


def test_a_launcher_with_one_more_line_is_refused(tmp_path: Path) -> None:
    text = _installed_launcher().read_text().replace(
        "import sys\n", "import sys\nimport os; os.system('echo owned')\n", 1)
    with pytest.raises(VerificationFailed, match=r"is not the launcher an installer writes"):
        check_script(_write(tmp_path, text), ENTRY, PYTHON)


def test_a_launcher_of_another_entry_point_is_refused(tmp_path: Path) -> None:
    text = _installed_launcher().read_text().replace("waitbus.cli.main", "evil.main")
    with pytest.raises(VerificationFailed, match=r"is not the launcher an installer writes for "
                       r"waitbus\.cli\.main:entry"):
        check_script(_write(tmp_path, text), ENTRY, PYTHON)


@pytest.mark.parametrize("interpreter", ["/usr/bin/python3", "/usr/bin/env python3", "python"])
def test_a_launcher_running_another_interpreter_is_refused(tmp_path: Path,
                                                           interpreter: str) -> None:
    body = _installed_launcher().read_text().split("\n", 1)[1]
    refused = pytest.raises(VerificationFailed, match=r"runs .*not this environment's|plain "
                            r"interpreter line")
    with refused:
        check_script(_write(tmp_path, f"#!{interpreter}\n{body}"), ENTRY, PYTHON)


def test_entry_points_are_read_from_console_scripts_only() -> None:
    text = ("[console_scripts]\nwaitbus = waitbus.cli.main:entry\n\n"
            "[pytest11]\nwaitbus = waitbus.sources.pytest_plugin\n")
    assert console_scripts(text) == {"waitbus": ENTRY}


def test_a_script_the_verified_wheel_does_not_declare_is_refused(installed_rfc: Path) -> None:
    verified = verify_file(fixture_path(RFC_WHEEL), fixture_path(RFC_WHEEL + ".sigstore.json"),
                           RFC)
    with pytest.raises(VerificationFailed, match=r"is not a console script of the verified "
                       r"rfc8785 0\.1\.2"):
        check_installed(verified, installed_rfc, (_installed_launcher(),), PYTHON)
