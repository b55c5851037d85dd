"""`waitbus verify` on real signed fixtures: the valid ones pass, every tampering fails."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.install.attestations import (
    CONFORMANCE,
    PA,
    PA_SDIST,
    RFC,
    RFC_WHEEL,
    fixture_path,
    override_args,
)
from waitbus.install.identity import GITHUB_ACTIONS_ISSUER, Identity
from waitbus.install.trust import VerificationFailed
from waitbus.install.verify import verify_file


@pytest.mark.parametrize(("dist", "attestation", "identity", "kind"), [
    (RFC_WHEEL, RFC_WHEEL + ".sigstore.json", RFC, "sigstore bundle"),
    (PA_SDIST, PA_SDIST + ".publish.attestation", PA, "PEP 740 attestation"),
    (PA_SDIST, PA_SDIST + ".slsa.attestation", PA, "PEP 740 attestation"),
    (PA_SDIST, PA_SDIST + ".provenance", PA, "PEP 740 provenance"),
    ("conformance/a.txt", "conformance/happy-path-v0.3.sigstore.json", CONFORMANCE,
     "sigstore bundle"),
])
def test_genuine_attestations_verify_with_their_signer(dist: str, attestation: str,
                                                       identity: Identity, kind: str) -> None:
    verified = verify_file(fixture_path(dist), fixture_path(attestation), identity)
    assert verified.kind == kind
    assert verified.sha256 == hashlib.sha256(fixture_path(dist).read_bytes()).hexdigest()


@pytest.mark.parametrize(("dist", "attestation", "identity", "reason"), [
    ("tampered/" + RFC_WHEEL, RFC_WHEEL + ".sigstore.json", RFC, "digest mismatch"),
    ("tampered/" + PA_SDIST, PA_SDIST + ".provenance", PA, "but the file has sha256"),
    ("tampered/" + PA_SDIST, PA_SDIST + ".publish.attestation", PA, "but the file has sha256"),
    (RFC_WHEEL, RFC_WHEEL + ".sigstore.json", replace(RFC, repository="example/waitbus"),
     "OIDCSourceRepositoryURI does not match"),
    (PA_SDIST, PA_SDIST + ".provenance", replace(PA, repository="example/waitbus"),
     "expected https://github.com/example/waitbus"),
    (PA_SDIST, PA_SDIST + ".slsa.attestation", replace(PA, workflow=".github/workflows/ci.yml"),
     "is not the workflow"),
    (RFC_WHEEL, RFC_WHEEL + ".sigstore.json", replace(RFC, issuer="https://accounts.google.com"),
     "OIDCIssuerV2 does not match"),
    ("conformance/a.txt", "conformance/happy-path-v0.3.sigstore.json",
     replace(CONFORMANCE, ref_prefix="refs/tags/"),
     "Build Config URI's ref is refs/heads/main, not refs/tags/ or a ref starting with it"),
    # The account-resurrection case: the same names, another repository or owner.
    (RFC_WHEEL, RFC_WHEEL + ".sigstore.json", replace(RFC, repository_id="1"),
     "repository ID is 768213997, expected 1"),
    (PA_SDIST, PA_SDIST + ".provenance", replace(PA, owner_id="2"),
     "repository owner ID is 2314423, expected 2"),
    ("conformance/a.txt", "conformance/inclusion-proof-corrupted-hash_fail.sigstore.json",
     CONFORMANCE, "inclusion proof contains invalid root hash"),
    (RFC_WHEEL, RFC_WHEEL + ".publish.attestation", RFC,
     "not signed under the pinned Sigstore production root"),
    (RFC_WHEEL, RFC_WHEEL + ".sigstore.json", Identity(repository=RFC.repository),
     "is not a distribution of waitbus"),
], ids=["tampered-wheel", "tampered-sdist-provenance", "tampered-sdist-attestation",
        "wrong-repository", "wrong-repository-provenance", "wrong-workflow", "wrong-issuer",
        "branch-run-not-a-tag", "same-name-other-repository-id", "same-name-other-owner-id",
        "corrupted-inclusion-proof", "staging-signed", "other-project"])
def test_tampering_or_a_wrong_signer_fails_with_the_reason(dist: str, attestation: str,
                                                           identity: Identity,
                                                           reason: str) -> None:
    with pytest.raises(VerificationFailed, match=reason):
        verify_file(fixture_path(dist), fixture_path(attestation), identity)


def test_an_attestation_for_another_file_name_fails(tmp_path: Path) -> None:
    renamed = tmp_path / "pypi_attestations-0.0.20.tar.gz"
    shutil.copyfile(fixture_path(PA_SDIST), renamed)
    any_tag = replace(PA, ref_prefix="refs/tags/")
    with pytest.raises(VerificationFailed, match="no attestation subject is named"):
        verify_file(renamed, fixture_path(PA_SDIST + ".publish.attestation"), any_tag)


def test_a_release_ref_must_be_the_tag_of_the_distributions_version(tmp_path: Path) -> None:
    # The same signed bytes under a later version's name: the signature and subject hold,
    # but the run was for tag v0.1.2, and a release of 0.1.3 comes only from tag v0.1.3.
    renamed = tmp_path / "rfc8785-0.1.3-py3-none-any.whl"
    shutil.copyfile(fixture_path(RFC_WHEEL), renamed)
    expected = r"Build Config URI's ref is refs/tags/v0\.1\.2, not refs/tags/v0\.1\.3"
    with pytest.raises(VerificationFailed, match=expected):
        verify_file(renamed, fixture_path(RFC_WHEEL + ".sigstore.json"), RFC)


@pytest.mark.parametrize("ref", ["refs/heads/main", "refs/heads/"])
def test_an_expected_ref_matches_exactly_or_as_a_prefix(ref: str) -> None:
    verified = verify_file(fixture_path("conformance/a.txt"),
                           fixture_path("conformance/happy-path-v0.3.sigstore.json"),
                           replace(CONFORMANCE, ref_prefix=ref))
    assert verified.kind == "sigstore bundle"


def test_a_ref_shorter_than_the_expected_one_does_not_match() -> None:
    with pytest.raises(VerificationFailed, match="is refs/heads/main, not refs/heads/mainline"):
        verify_file(fixture_path("conformance/a.txt"),
                    fixture_path("conformance/happy-path-v0.3.sigstore.json"),
                    replace(CONFORMANCE, ref_prefix="refs/heads/mainline"))


def test_a_file_that_is_no_attestation_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": "world"}')
    with pytest.raises(VerificationFailed, match="neither a Sigstore bundle"):
        verify_file(fixture_path(RFC_WHEEL), junk, RFC)


def test_the_default_identity_is_the_waitbus_release_workflow() -> None:
    default = Identity()
    assert (default.repository, default.workflow, default.issuer, default.ref_prefix) == (
        "waitbus/waitbus", ".github/workflows/release.yml", GITHUB_ACTIONS_ISSUER, "")
    assert default.allows_ref("refs/tags/v1.2.3", "1.2.3")
    assert not default.allows_ref("refs/tags/v1.2.3", "1.2.4")
    assert not default.allows_ref("refs/tags/nightly", "1.2.3")
    assert not default.allows_ref("refs/heads/v1.2.3", "1.2.3")
    with pytest.raises(VerificationFailed, match="not a distribution of waitbus"):
        verify_file(fixture_path(RFC_WHEEL), fixture_path(RFC_WHEEL + ".sigstore.json"),
                    default)


def test_cli_override_is_announced_loudly_and_the_file_verifies(state_dir: Path) -> None:
    done = run_cli(state_dir, "verify", "--file-only", "--json",
                   "--dist", str(fixture_path(PA_SDIST)),
                   "--attestation", str(fixture_path(PA_SDIST + ".provenance")),
                   *override_args(PA))
    assert done.returncode == 0, done.stderr
    assert "WARNING: the expected signer was changed" in done.stderr
    assert "trailofbits/pypi-attestations" in done.stderr
    result = json.loads(done.stdout)
    assert result["kind"] == "PEP 740 provenance"
    assert result["sha256"].startswith("9bb1add0")


def test_cli_refuses_a_repository_name_without_its_ids(state_dir: Path) -> None:
    done = run_cli(state_dir, "verify", "--file-only", "--dist", str(fixture_path(RFC_WHEEL)),
                   "--attestation", str(fixture_path(RFC_WHEEL + ".sigstore.json")),
                   "--expect-repository", RFC.repository, "--expect-project", RFC.project)
    assert done.returncode == 2
    assert "needs --expect-repository-id and --expect-owner-id" in done.stderr


def test_cli_report_says_what_was_and_was_not_checked(state_dir: Path,
                                                      rfc_args: list[str]) -> None:
    done = run_cli(state_dir, "verify", *rfc_args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("verified rfc8785-0.1.2-py3-none-any.whl")
    assert "repository id 768213997, owner id 2314423" in lines[0]
    assert lines[1].startswith("checked: 6 installed files of rfc8785 0.1.2")
    assert lines[2] == "checked: 0 bytecode files in __pycache__ compile from the verified sources"
    assert lines[-1].startswith("not checked: the interpreter, its standard library, .pth files")


def test_cli_without_any_provenance_source_refuses(state_dir: Path) -> None:
    done = run_cli(state_dir, "verify")
    assert done.returncode == 77  # refused as unsafe
    assert "no provenance source" in done.stderr
    assert "Traceback" not in done.stderr


def test_sigstore_is_imported_only_when_a_verification_runs() -> None:
    code = ("import sys; from waitbus.cli.main import build_parser; build_parser(); "
            "import waitbus.install.gate, waitbus.install.units, waitbus.secrets; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'sigstore', 'pypi_attestations', 'cryptography', 'pydantic'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"
