"""`waitbus verify` on real signed fixtures: the valid ones pass, every tampering fails."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
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
    (RFC_WHEEL, RFC_WHEEL + ".sigstore.json", Identity(repository="example/waitbus",
                                                        project="rfc8785"),
     "OIDCSourceRepositoryURI does not match"),
    (PA_SDIST, PA_SDIST + ".provenance", Identity(repository="example/waitbus",
                                                  project="pypi-attestations"),
     "expected https://github.com/example/waitbus"),
    (PA_SDIST, PA_SDIST + ".slsa.attestation",
     Identity(repository=PA.repository, workflow=".github/workflows/ci.yml", project=PA.project),
     "is not the workflow"),
    (RFC_WHEEL, RFC_WHEEL + ".sigstore.json",
     Identity(repository=RFC.repository, project=RFC.project,
              issuer="https://accounts.google.com"),
     "OIDCIssuerV2 does not match"),
    ("conformance/a.txt", "conformance/happy-path-v0.3.sigstore.json",
     Identity(repository=CONFORMANCE.repository, workflow=CONFORMANCE.workflow,
              project=CONFORMANCE.project), "is not the workflow"),
    ("conformance/a.txt", "conformance/inclusion-proof-corrupted-hash_fail.sigstore.json",
     CONFORMANCE, "inclusion proof contains invalid root hash"),
    (RFC_WHEEL, RFC_WHEEL + ".publish.attestation", RFC,
     "not signed under the pinned Sigstore production root"),
    (RFC_WHEEL, RFC_WHEEL + ".sigstore.json", Identity(repository=RFC.repository),
     "is not a distribution of waitbus"),
], ids=["tampered-wheel", "tampered-sdist-provenance", "tampered-sdist-attestation",
        "wrong-repository", "wrong-repository-provenance", "wrong-workflow", "wrong-issuer",
        "branch-run-not-a-tag",
        "corrupted-inclusion-proof", "staging-signed", "other-project"])
def test_tampering_or_a_wrong_signer_fails_with_the_reason(dist: str, attestation: str,
                                                           identity: Identity,
                                                           reason: str) -> None:
    with pytest.raises(VerificationFailed, match=reason):
        verify_file(fixture_path(dist), fixture_path(attestation), identity)


def test_an_attestation_for_another_file_name_fails(tmp_path: Path) -> None:
    renamed = tmp_path / "pypi_attestations-0.0.20.tar.gz"
    shutil.copyfile(fixture_path(PA_SDIST), renamed)
    with pytest.raises(VerificationFailed, match="no attestation subject is named"):
        verify_file(renamed, fixture_path(PA_SDIST + ".publish.attestation"), PA)


def test_a_file_that_is_no_attestation_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": "world"}')
    with pytest.raises(VerificationFailed, match="neither a Sigstore bundle"):
        verify_file(fixture_path(RFC_WHEEL), junk, RFC)


def test_the_default_identity_is_the_waitbus_release_workflow() -> None:
    default = Identity()
    assert (default.repository, default.workflow, default.issuer, default.ref_prefix) == (
        "waitbus/waitbus", ".github/workflows/release.yml", GITHUB_ACTIONS_ISSUER, "refs/tags/")
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


def test_cli_without_any_provenance_source_refuses(state_dir: Path) -> None:
    done = run_cli(state_dir, "verify")
    assert done.returncode == 1
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
