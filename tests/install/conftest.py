"""Fixtures for the install tests: the fixture wheel unpacked, and flags that verify it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.install.attestations import RFC, RFC_WHEEL, fixture_path, override_args


@pytest.fixture
def installed_rfc(tmp_path: Path) -> Path:
    """The fixture wheel unpacked as an installer would, into a directory nothing imports."""
    root = tmp_path / "site-packages"
    with zipfile.ZipFile(fixture_path(RFC_WHEEL)) as archive:
        archive.extractall(root)
    return root


@pytest.fixture
def rfc_args(installed_rfc: Path) -> list[str]:
    """Verification flags that pass: the fixture wheel, its bundle, its signer, its install."""
    return ["--dist", str(fixture_path(RFC_WHEEL)),
            "--attestation", str(fixture_path(RFC_WHEEL + ".sigstore.json")),
            *override_args(RFC), "--installed-root", str(installed_rfc)]
