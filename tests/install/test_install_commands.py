"""install-systemd/launchd write units only after a verification of this very waitbus; signer
overrides are refused unless accepted loudly; uninstall is exact."""

from __future__ import annotations

import json
import plistlib
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.install.attestations import RFC, RFC_WHEEL, fixture_path, override_args
from waitbus.install import gate
from waitbus.install.trust import VerificationFailed

ACCEPT = "--dangerously-accept-signer-overrides"
# rfc8785's genuine wheel under a waitbus file name: its signature checks out for rfc8785's
# signer, and its version matches the signing tag (refs/tags/v0.1.2).
DISGUISED = "waitbus-0.1.2-py3-none-any.whl"
RFC_SIGNER = [arg for arg in override_args(RFC) if arg not in ("--expect-project", "rfc8785")]
BUNDLE = str(fixture_path(RFC_WHEEL + ".sigstore.json"))


def _disguised(tmp_path: Path) -> str:
    target = tmp_path / DISGUISED
    shutil.copyfile(fixture_path(RFC_WHEEL), target)
    return str(target)


def _failing(case: str, tmp_path: Path) -> list[str]:
    return {
        "another-project": ["--dist", str(fixture_path(RFC_WHEEL)), "--attestation", BUNDLE],
        "no-provenance": [],
        # The default signer's GitHub IDs are not pinned yet: nothing verifies by name alone.
        "ids-not-pinned": ["--dist", _disguised(tmp_path), "--attestation", BUNDLE],
        # A fork's signer, accepted loudly, verifies the bytes; but they are not waitbus.
        "accepted-signer-other-bytes": ["--dist", _disguised(tmp_path), "--attestation", BUNDLE,
                                        *RFC_SIGNER, ACCEPT],
    }[case]


REASONS = {
    "another-project": "is not a distribution of waitbus",
    "no-provenance": "no provenance source",
    "ids-not-pinned": "does not pin the IDs of waitbus/waitbus",
    "accepted-signer-other-bytes": "carries metadata for rfc8785 0.1.2",
}


@pytest.mark.parametrize("case", sorted(REASONS))
@pytest.mark.parametrize("command", ["install-systemd", "install-launchd"])
def test_a_failing_verification_writes_nothing(state_dir: Path, tmp_path: Path, command: str,
                                               case: str) -> None:
    units = tmp_path / "units"
    done = run_cli(state_dir, command, "--files-only", "--unit-dir", str(units),
                   *_failing(case, tmp_path))
    assert done.returncode == 77, done.stderr  # refused as unsafe
    assert REASONS[case] in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("waitbus: ")
    assert "Traceback" not in done.stderr
    assert not units.exists()
    assert not state_dir.exists()


REFUSED = {
    "signer-overrides": (RFC_SIGNER, "would change whom this install trusts; refused"),
    "one-override": (["--expect-ref-prefix", "refs/heads/"],
                     "--expect-ref-prefix would change whom this install trusts"),
    "another-project": ([*override_args(RFC), ACCEPT],
                        "--expect-project is refused by the install commands"),
    "another-installation": (["--installed-root", "/usr/lib/python3/dist-packages", ACCEPT],
                             "--installed-root is refused by the install commands"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
@pytest.mark.parametrize("command", ["install-systemd", "install-launchd"])
def test_install_refuses_signer_overrides_unless_accepted_loudly(
        state_dir: Path, tmp_path: Path, command: str, case: str) -> None:
    flags, reason = REFUSED[case]
    units = tmp_path / "units"
    done = run_cli(state_dir, command, "--files-only", "--unit-dir", str(units),
                   "--dist", str(fixture_path(RFC_WHEEL)), "--attestation", BUNDLE, *flags)
    assert done.returncode == 2, done.stderr
    assert reason in done.stderr
    assert "Traceback" not in done.stderr
    assert not units.exists()
    assert not state_dir.exists()


def test_a_verification_of_another_project_does_not_authorise_installing_waitbus(
        installed_rfc: Path) -> None:
    request = gate.Request(identity=RFC, dist=fixture_path(RFC_WHEEL),
                           attestation=fixture_path(RFC_WHEEL + ".sigstore.json"),
                           installed_root=installed_rfc)
    outcome = gate.verify(request)
    assert outcome.installed is not None
    with pytest.raises(VerificationFailed, match=r"covered rfc8785 0\.1\.2, not the waitbus"):
        gate.check_running(outcome)


def test_skip_verify_installs_with_a_warning(state_dir: Path, tmp_path: Path) -> None:
    done = run_cli(state_dir, "install-systemd", "--files-only", "--skip-verify",
                   "--unit-dir", str(tmp_path / "units"))
    assert done.returncode == 0, done.stderr
    assert "WARNING: --skip-verify" in done.stderr
    unit = tmp_path / "units" / "waitbus.service"
    assert f"ReadWritePaths={state_dir}" in unit.read_text().splitlines()
    manifest = json.loads((state_dir / "install" / "systemd.json").read_text())
    assert [f["path"] for f in manifest["files"]] == [str(unit)]


def test_dry_run_shows_the_unit_and_writes_nothing(state_dir: Path, tmp_path: Path) -> None:
    units = tmp_path / "units"
    done = run_cli(state_dir, "install-systemd", "--dry-run", "--skip-verify",
                   "--unit-dir", str(units))
    assert done.returncode == 0, done.stderr
    assert f"--- would write {units / 'waitbus.service'}" in done.stdout
    assert "NoNewPrivileges=yes" in done.stdout
    assert not units.exists()
    assert not state_dir.exists()


def test_uninstall_removes_exactly_what_install_wrote(state_dir: Path, tmp_path: Path) -> None:
    units = tmp_path / "units"
    units.mkdir()
    (units / "mine.service").write_text("[Unit]\n")
    assert run_cli(state_dir, "install-systemd", "--files-only", "--skip-verify",
                   "--unit-dir", str(units)).returncode == 0
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
    assert done.returncode == 77  # refused as unsafe
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


def test_install_launchd_writes_a_plist_and_uninstall_removes_it(state_dir: Path,
                                                                 tmp_path: Path) -> None:
    agents = tmp_path / "agents"
    done = run_cli(state_dir, "install-launchd", "--files-only", "--skip-verify",
                   "--unit-dir", str(agents))
    assert done.returncode == 0, done.stderr
    (plist_path,) = agents.iterdir()
    plist = plistlib.loads(plist_path.read_bytes())
    assert plist["ProgramArguments"][-3:] == ["--state-dir", str(state_dir), "serve"]
    assert run_cli(state_dir, "uninstall-launchd", "--files-only").returncode == 0
    assert list(agents.iterdir()) == []
