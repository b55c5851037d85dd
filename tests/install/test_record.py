"""Installed files against the verified wheel's RECORD: any change, addition, loss, foreign
bytecode or version skew fails, and the result says what was not checked."""

from __future__ import annotations

import os
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

from tests.install.attestations import PA, PA_SDIST, RFC, RFC_WHEEL, fixture_path
from waitbus.install.record import check_installed
from waitbus.install.trust import VerificationFailed
from waitbus.install.verify import Verified, verify_file

LOAD_ONE_FILE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("probe", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
"""


@pytest.fixture(scope="module")
def verified_rfc() -> Verified:
    return verify_file(fixture_path(RFC_WHEEL), fixture_path(RFC_WHEEL + ".sigstore.json"), RFC)


def _compile(source: Path, *, optimize: int = -1) -> Path:
    written = py_compile.compile(str(source), doraise=True, optimize=optimize)
    assert written is not None
    return Path(written)


def test_an_untouched_install_matches_every_record_entry(installed_rfc: Path,
                                                         verified_rfc: Verified) -> None:
    result = check_installed(verified_rfc, installed_rfc)
    assert (result.project, result.version) == ("rfc8785", "0.1.2")
    assert result.checked == 6
    assert result.bytecode_checked == 0
    assert any("every dependency" in line for line in result.not_checked)


def test_an_edited_installed_file_fails_naming_it(installed_rfc: Path,
                                                  verified_rfc: Verified) -> None:
    target = installed_rfc / "rfc8785" / "_impl.py"
    target.write_bytes(target.read_bytes() + b"\nimport os\n")
    with pytest.raises(VerificationFailed, match=r"rfc8785/_impl.py: content differs"):
        check_installed(verified_rfc, installed_rfc)


def test_a_missing_installed_file_fails(installed_rfc: Path, verified_rfc: Verified) -> None:
    (installed_rfc / "rfc8785" / "py.typed").unlink()
    with pytest.raises(VerificationFailed, match=r"rfc8785/py.typed: missing"):
        check_installed(verified_rfc, installed_rfc)


def test_another_installed_version_fails(tmp_path: Path, verified_rfc: Verified) -> None:
    with pytest.raises(VerificationFailed, match="holds version"):
        check_installed(verified_rfc, tmp_path)


def test_an_sdist_has_no_record_to_check_installed_files_against() -> None:
    verified = verify_file(fixture_path(PA_SDIST), fixture_path(PA_SDIST + ".provenance"), PA)
    with pytest.raises(VerificationFailed, match="not a wheel"):
        check_installed(verified)


def test_an_added_module_in_a_verified_package_fails(installed_rfc: Path,
                                                     verified_rfc: Verified) -> None:
    (installed_rfc / "rfc8785" / "evil.py").write_text("import os\n")
    (installed_rfc / "rfc8785" / "sub").mkdir()
    (installed_rfc / "rfc8785" / "sub" / "__init__.py").write_text("")
    (installed_rfc / "rfc8785" / "_impl.pyc").write_bytes(b"")
    with pytest.raises(VerificationFailed, match=(
            r"3 installed file.*rfc8785/_impl.pyc: not in the verified wheel; rfc8785/evil.py: "
            r"not in the verified wheel; rfc8785/sub/__init__.py: not in the verified wheel")):
        check_installed(verified_rfc, installed_rfc)


def test_bytecode_compiled_from_the_verified_sources_passes(installed_rfc: Path,
                                                            verified_rfc: Verified) -> None:
    for name in ("__init__.py", "_impl.py"):
        _compile(installed_rfc / "rfc8785" / name)
        _compile(installed_rfc / "rfc8785" / name, optimize=1)
    result = check_installed(verified_rfc, installed_rfc)
    assert result.bytecode_checked == 4


def test_timestamp_bytecode_of_other_code_is_refused(installed_rfc: Path,
                                                     verified_rfc: Verified) -> None:
    # The attack: a .pyc whose header claims the verified _impl.py (its mtime and size, so the
    # importer trusts it) but whose code is something else.
    impl = installed_rfc / "rfc8785" / "_impl.py"
    genuine, mtime_ns = impl.read_bytes(), impl.stat().st_mtime_ns
    impl.write_bytes(b"print('FORGED')\n".ljust(len(genuine), b"#"))
    os.utime(impl, ns=(mtime_ns, mtime_ns))
    _compile(impl)
    impl.write_bytes(genuine)
    os.utime(impl, ns=(mtime_ns, mtime_ns))
    # The forged bytecode is what runs (only this one file is loaded, not the package).
    done = subprocess.run([sys.executable, "-c", LOAD_ONE_FILE, str(impl)], capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout == "FORGED\n"
    with pytest.raises(VerificationFailed, match=(
            rf"rfc8785/__pycache__/_impl\.{sys.implementation.cache_tag}\.pyc: its code is not "
            "compiled from the verified source")):
        check_installed(verified_rfc, installed_rfc)


def test_bytecode_for_another_interpreter_is_reported_not_checked(
        installed_rfc: Path, verified_rfc: Verified) -> None:
    cache = installed_rfc / "rfc8785" / "__pycache__"
    cache.mkdir()
    (cache / "_impl.cpython-20.pyc").write_bytes(b"not for this interpreter")
    result = check_installed(verified_rfc, installed_rfc)
    assert "1 bytecode files for other interpreters (this one never loads them)" in (
        result.not_checked)
