"""The real signed attestation fixtures and the identity overrides that match their signers."""

from __future__ import annotations

from pathlib import Path

import pytest

from waitbus.install.identity import Identity

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "attestations"
RFC_WHEEL = "rfc8785-0.1.2-py3-none-any.whl"
PA_SDIST = "pypi_attestations-0.0.19.tar.gz"
# The GitHub IDs are those in the certificates (Fulcio extensions .15 and .17); see the README.
RFC = Identity(repository="trailofbits/rfc8785.py", repository_id="768213997",
               owner_id="2314423", project="rfc8785")
PA = Identity(repository="trailofbits/pypi-attestations", repository_id="772247423",
              owner_id="2314423", project="pypi-attestations")
CONFORMANCE = Identity(
    repository="sigstore-conformance/extremely-dangerous-public-oidc-beacon",
    repository_id="632596897",
    owner_id="131804563",
    workflow=".github/workflows/extremely-dangerous-oidc-beacon.yml",
    project="a.txt",
    ref_prefix="refs/heads/",
)


def fixture_path(name: str) -> Path:
    """A fixture file; fails the test loudly when it is missing from tests/fixtures."""
    path = FIXTURES / name
    if not path.is_file():
        pytest.fail(f"attestation fixture {path} is missing; see tests/fixtures/README.md")
    return path


def override_args(identity: Identity) -> list[str]:
    """The explicit CLI flags that make `identity` the expected signer."""
    return ["--expect-repository", identity.repository,
            "--expect-repository-id", identity.repository_id,
            "--expect-owner-id", identity.owner_id, "--expect-workflow", identity.workflow,
            "--expect-project", identity.project,
            *(["--expect-ref-prefix", identity.ref_prefix] if identity.ref_prefix else [])]
