"""Installed files against the verified wheel's RECORD: any change, loss or version skew fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.install.attestations import PA_SDIST, RFC_WHEEL, fixture_path
from waitbus.install.record import check_installed
from waitbus.install.trust import VerificationFailed


def test_an_untouched_install_matches_every_record_entry(installed_rfc: Path) -> None:
    result = check_installed(fixture_path(RFC_WHEEL), installed_rfc)
    assert (result.project, result.version) == ("rfc8785", "0.1.2")
    assert result.checked == 6


def test_an_edited_installed_file_fails_naming_it(installed_rfc: Path) -> None:
    target = installed_rfc / "rfc8785" / "_impl.py"
    target.write_bytes(target.read_bytes() + b"\nimport os\n")
    with pytest.raises(VerificationFailed, match=r"rfc8785/_impl.py: content differs"):
        check_installed(fixture_path(RFC_WHEEL), installed_rfc)


def test_a_missing_installed_file_fails(installed_rfc: Path) -> None:
    (installed_rfc / "rfc8785" / "py.typed").unlink()
    with pytest.raises(VerificationFailed, match=r"rfc8785/py.typed: missing"):
        check_installed(fixture_path(RFC_WHEEL), installed_rfc)


def test_another_installed_version_fails(tmp_path: Path) -> None:
    with pytest.raises(VerificationFailed, match="holds version"):
        check_installed(fixture_path(RFC_WHEEL), tmp_path)


def test_an_sdist_has_no_record_to_check_installed_files_against() -> None:
    with pytest.raises(VerificationFailed, match="not a wheel"):
        check_installed(fixture_path(PA_SDIST))
