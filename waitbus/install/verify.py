"""Verify a distribution file against its Sigstore bundle, PEP 740 attestation or provenance."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from waitbus.install.identity import Identity
from waitbus.install.trust import VerificationFailed, pinned_verifier, signer_policy

if TYPE_CHECKING:
    from sigstore.models import Bundle
    from sigstore.verify import Verifier
    from sigstore.verify.policy import VerificationPolicy

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
SIGSTORE_BUNDLE_MEDIA_PREFIX = "application/vnd.dev.sigstore.bundle"
MAX_ATTESTATION_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Verified:
    """A distribution whose bytes a trusted signer attested, with those very bytes.

    Everything checked later (the wheel's RECORD, its entry points) is read from `data`, never
    from `dist` again: a file swapped after the signature check cannot lend its RECORD.
    """

    dist: Path
    data: bytes = field(repr=False)
    sha256: str
    kind: str
    identity: Identity
    # The in-toto predicates covered; empty for a plain message signature.
    predicate_types: tuple[str, ...]


def verify_file(dist: Path, attestation: Path, identity: Identity) -> Verified:
    """Check `dist` against the attestation file, trusting only the pinned root and `identity`.

    `dist` is read once; the returned `Verified.data` is what was checked.
    """
    check_project(dist.name, identity.project)
    try:
        raw = attestation.read_bytes()[:MAX_ATTESTATION_BYTES + 1]
    except OSError as exc:
        msg = f"cannot read attestation {attestation}: {exc.strerror}"
        raise VerificationFailed(msg) from exc
    return verify_bytes(dist, read_dist(dist), raw, identity, source=str(attestation))


def verify_bytes(dist: Path, data: bytes, raw: bytes, identity: Identity, *,
                 source: str) -> Verified:
    """Check `data` (the bytes of the distribution named `dist`) against attestation `raw`."""
    import pydantic
    from sigstore.errors import Error as SigstoreError

    check_project(dist.name, identity.project)
    kind = _kind_of(raw, source)
    verifier = pinned_verifier()
    policy = signer_policy(identity, dist_version(dist.name))
    try:
        predicates = _verify_kind(kind, raw, verifier, policy, dist.name, data)
    except (SigstoreError, pydantic.ValidationError, ValueError) as exc:
        reason = _first_line(exc)
        if "certificate chain" in reason:
            reason += " (it is not signed under the pinned Sigstore production root)"
        msg = f"{source} does not verify {dist.name}: {reason}"
        raise VerificationFailed(msg) from exc
    return Verified(dist, data, hashlib.sha256(data).hexdigest(), kind, identity, predicates)


def dist_version(filename: str) -> str:
    """The version in a wheel's or sdist's file name (empty for any other file)."""
    if filename.endswith(".whl"):
        parts = filename.split("-")
        return parts[1] if len(parts) >= 5 else ""
    for suffix in (".tar.gz", ".zip"):
        if filename.endswith(suffix) and "-" in filename:
            return filename.removesuffix(suffix).rsplit("-", 1)[1]
    return ""


def check_project(filename: str, project: str) -> None:
    """The file must be a distribution of `project` (PEP 503 normalized names)."""
    stem = filename.split("-", 1)[0] if filename.endswith(".whl") else filename.rsplit("-", 1)[0]
    if normalize(stem) != normalize(project):
        msg = (f"{filename} is not a distribution of {project}; pass --expect-project "
               "to verify another project")
        raise VerificationFailed(msg)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_dist(dist: Path) -> bytes:
    """The distribution's bytes, read once through one descriptor."""
    try:
        with dist.open("rb") as handle:
            return handle.read()
    except OSError as exc:
        msg = f"cannot read distribution {dist}: {exc.strerror}"
        raise VerificationFailed(msg) from exc


def _kind_of(raw: bytes, source: str) -> str:
    if len(raw) > MAX_ATTESTATION_BYTES:
        msg = f"{source} is larger than {MAX_ATTESTATION_BYTES} bytes; it is not an attestation"
        raise VerificationFailed(msg)
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        msg = f"{source} is not JSON ({exc}); pass a .sigstore.json bundle or a PEP 740 file"
        raise VerificationFailed(msg) from exc
    if isinstance(doc, dict):
        if str(doc.get("mediaType", "")).startswith(SIGSTORE_BUNDLE_MEDIA_PREFIX):
            return "sigstore bundle"
        if "attestation_bundles" in doc:
            return "PEP 740 provenance"
        if "envelope" in doc and "verification_material" in doc:
            return "PEP 740 attestation"
    msg = (f"{source} is neither a Sigstore bundle, a PEP 740 attestation nor a PEP 740 "
           "provenance object")
    raise VerificationFailed(msg)


def _verify_kind(kind: str, raw: bytes, verifier: Verifier, policy: VerificationPolicy,
                 name: str, data: bytes) -> tuple[str, ...]:
    from pypi_attestations import Attestation, Provenance
    from sigstore.models import Bundle

    if kind == "sigstore bundle":
        bundle = Bundle.from_json(raw)
        if bundle._dsse_envelope is None:  # a plain signature over the file's digest
            verifier.verify_artifact(data, bundle, policy)
            return ()
        return (_verify_dsse(verifier, bundle, policy, name, data, single=False),)
    if kind == "PEP 740 attestation":
        bundle = Attestation.model_validate_json(raw).to_bundle()
        return (_verify_dsse(verifier, bundle, policy, name, data, single=True),)
    provenance = Provenance.model_validate_json(raw)
    attestations = [a for group in provenance.attestation_bundles for a in group.attestations]
    if not attestations:
        msg = "the provenance object holds no attestations"
        raise ValueError(msg)
    return tuple(_verify_dsse(verifier, a.to_bundle(), policy, name, data, single=True)
                 for a in attestations)


def _verify_dsse(verifier: Verifier, bundle: Bundle, policy: VerificationPolicy, name: str,
                 data: bytes, *, single: bool) -> str:
    """Verify the envelope, then bind its in-toto subject to this file's name and sha256."""
    from pypi_attestations import AttestationType

    payload_type, payload = verifier.verify_dsse(bundle, policy)
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        msg = f"envelope carries {payload_type}, not an in-toto statement"
        raise ValueError(msg)
    statement = json.loads(payload)
    subjects = statement.get("subject") or []
    if single and len(subjects) != 1:
        msg = f"the statement has {len(subjects)} subjects; a PEP 740 attestation has one"
        raise ValueError(msg)
    named = [s for s in subjects if isinstance(s, dict) and s.get("name") == name]
    if not named:
        listed = ", ".join(str(s.get("name")) for s in subjects if isinstance(s, dict))
        msg = f"no attestation subject is named {name} (subjects: {listed or 'none'})"
        raise ValueError(msg)
    expected = hashlib.sha256(data).hexdigest()
    attested = named[0].get("digest", {}).get("sha256")
    if attested != expected:
        msg = f"subject {name} has sha256 {attested}, but the file has sha256 {expected}"
        raise ValueError(msg)
    predicate = str(statement.get("predicateType"))
    if predicate not in {t.value for t in AttestationType}:
        msg = f"unknown predicate type {predicate}; expected publish or SLSA provenance"
        raise ValueError(msg)
    return predicate


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
