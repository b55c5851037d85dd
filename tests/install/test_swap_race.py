"""A distribution swapped after its signature check cannot lend its RECORD to the file check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.install.attestations import RFC, RFC_WHEEL, fixture_path
from tests.install.forge import forge, unpack
from waitbus.install import gate
from waitbus.install.trust import VerificationFailed

EVIL = b"import os\nos.system('echo owned')\n"


def test_a_wheel_swapped_between_signature_and_record_check_is_refused(tmp_path: Path) -> None:
    # The attacker's install: rfc8785 with its code replaced, and a forged wheel whose RECORD
    # vouches for exactly those files.
    forged = forge(fixture_path(RFC_WHEEL), tmp_path / "forged.whl",
                   {"rfc8785/_impl.py": EVIL})
    installed = unpack(forged, tmp_path / "site-packages")
    dist = tmp_path / RFC_WHEEL
    shutil.copyfile(fixture_path(RFC_WHEEL), dist)
    swapped: list[str] = []

    def swap_after_the_signature_check(step: str) -> None:
        # The report of the RECORD step comes after the signature was checked and before the
        # RECORD is read: the moment an inotify-triggered swap wins the race.
        if "RECORD" in step:
            shutil.copyfile(forged, dist)
            swapped.append(step)

    request = gate.Request(identity=RFC, dist=dist,
                           attestation=fixture_path(RFC_WHEEL + ".sigstore.json"),
                           installed_root=installed)
    with pytest.raises(VerificationFailed, match=r"rfc8785/_impl.py: content differs"):
        gate.verify(request, swap_after_the_signature_check)
    assert swapped, "the swap never happened: the test proves nothing"
