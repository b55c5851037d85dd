"""install-systemd/launchd write units only after a passing verification; uninstall is exact."""

from __future__ import annotations

import json
import plistlib
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.install.attestations import RFC, RFC_WHEEL, fixture_path, override_args

FAILING = {
    "tampered": ["--dist", str(fixture_path("tampered/" + RFC_WHEEL)),
                 "--attestation", str(fixture_path(RFC_WHEEL + ".sigstore.json")),
                 *override_args(RFC)],
    "default-identity": ["--dist", str(fixture_path(RFC_WHEEL)),
                         "--attestation", str(fixture_path(RFC_WHEEL + ".sigstore.json"))],
    "no-provenance": [],
}


def test_install_systemd_writes_the_unit_after_a_passing_verification(
        state_dir: Path, tmp_path: Path, rfc_args: list[str]) -> None:
    units = tmp_path / "units"
    done = run_cli(state_dir, "install-systemd", "--files-only", "--unit-dir", str(units),
                   *rfc_args)
    assert done.returncode == 0, done.stderr
    assert "verified rfc8785-0.1.2-py3-none-any.whl" in done.stdout
    assert "WARNING: the expected signer was changed" in done.stderr
    assert "WARNING: checking the installed files under" in done.stderr
    unit = units / "waitbus.service"
    assert f"ReadWritePaths={state_dir}" in unit.read_text().splitlines()
    manifest = json.loads((state_dir / "install" / "systemd.json").read_text())
    assert [f["path"] for f in manifest["files"]] == [str(unit)]


@pytest.mark.parametrize("case", sorted(FAILING))
@pytest.mark.parametrize("command", ["install-systemd", "install-launchd"])
def test_a_failing_verification_writes_nothing(state_dir: Path, tmp_path: Path,
                                               installed_rfc: Path, command: str,
                                               case: str) -> None:
    units = tmp_path / "units"
    done = run_cli(state_dir, command, "--files-only", "--unit-dir", str(units),
                   "--installed-root", str(installed_rfc), *FAILING[case])
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("waitbus: ")
    assert "Traceback" not in done.stderr
    assert not units.exists()
    assert not state_dir.exists()


def test_tampered_installed_files_refuse_the_install(state_dir: Path, tmp_path: Path,
                                                     installed_rfc: Path,
                                                     rfc_args: list[str]) -> None:
    (installed_rfc / "rfc8785" / "__init__.py").write_text("evil = True\n")
    done = run_cli(state_dir, "install-systemd", "--files-only",
                   "--unit-dir", str(tmp_path / "units"), *rfc_args)
    assert done.returncode == 1
    assert "differ from the verified wheel" in done.stderr
    assert not (tmp_path / "units").exists()


def test_skip_verify_installs_with_a_warning(state_dir: Path, tmp_path: Path) -> None:
    done = run_cli(state_dir, "install-systemd", "--files-only", "--skip-verify",
                   "--unit-dir", str(tmp_path / "units"))
    assert done.returncode == 0, done.stderr
    assert "WARNING: --skip-verify" in done.stderr
    assert (tmp_path / "units" / "waitbus.service").is_file()


def test_dry_run_shows_the_unit_and_writes_nothing(state_dir: Path, tmp_path: Path,
                                                   rfc_args: list[str]) -> None:
    units = tmp_path / "units"
    done = run_cli(state_dir, "install-systemd", "--dry-run", "--unit-dir", str(units),
                   *rfc_args)
    assert done.returncode == 0, done.stderr
    assert f"--- would write {units / 'waitbus.service'}" in done.stdout
    assert "NoNewPrivileges=yes" in done.stdout
    assert not units.exists()
    assert not state_dir.exists()


def test_uninstall_removes_exactly_what_install_wrote(state_dir: Path, tmp_path: Path,
                                                      rfc_args: list[str]) -> None:
    units = tmp_path / "units"
    units.mkdir()
    (units / "mine.service").write_text("[Unit]\n")
    assert run_cli(state_dir, "install-systemd", "--files-only", "--unit-dir", str(units),
                   *rfc_args).returncode == 0
    done = run_cli(state_dir, "uninstall-systemd", "--files-only")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in units.iterdir()) == ["mine.service"]
    assert not (state_dir / "install" / "systemd.json").exists()


def test_uninstall_keeps_a_unit_edited_since_install(state_dir: Path, tmp_path: Path) -> None:
    units = tmp_path / "units"
    run_cli(state_dir, "install-systemd", "--files-only", "--skip-verify", "--unit-dir",
            str(units))
    unit = units / "waitbus.service"
    unit.write_text(unit.read_text() + "# mine\n")
    done = run_cli(state_dir, "uninstall-systemd", "--files-only")
    assert done.returncode == 1
    assert "changed since install" in done.stderr
    assert unit.exists()


def test_install_refuses_to_overwrite_a_unit_it_did_not_write(state_dir: Path,
                                                              tmp_path: Path) -> None:
    units = tmp_path / "units"
    units.mkdir()
    (units / "waitbus.service").write_text("[Unit]\nDescription=someone else's\n")
    done = run_cli(state_dir, "install-systemd", "--files-only", "--skip-verify", "--unit-dir",
                   str(units))
    assert done.returncode == 2
    assert "was not written by waitbus" in done.stderr


def test_install_launchd_writes_a_plist_after_a_passing_verification(
        state_dir: Path, tmp_path: Path, rfc_args: list[str]) -> None:
    agents = tmp_path / "agents"
    done = run_cli(state_dir, "install-launchd", "--files-only", "--unit-dir", str(agents),
                   *rfc_args)
    assert done.returncode == 0, done.stderr
    (plist_path,) = agents.iterdir()
    plist = plistlib.loads(plist_path.read_bytes())
    assert plist["ProgramArguments"][-3:] == ["--state-dir", str(state_dir), "serve"]
    assert run_cli(state_dir, "uninstall-launchd", "--files-only").returncode == 0
    assert list(agents.iterdir()) == []
