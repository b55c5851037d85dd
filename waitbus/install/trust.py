"""The pinned Sigstore trust root and the signer policy; imports sigstore, so load it lazily."""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import TYPE_CHECKING

from waitbus.errors import WaitbusError
from waitbus.install.identity import Identity

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from sigstore.verify import Verifier
    from sigstore.verify.policy import VerificationPolicy

# The production trusted_root.json inside the sigstore wheel this release was tested with. It is
# read from the package, never from a TUF cache under $HOME, so no user file can widen the trust.
TRUSTED_ROOT_PARTS = ("_store", "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev", "trusted_root.json")
TRUSTED_ROOT_SHA256 = "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66"
# Fulcio's certificate extensions (sigstore/fulcio docs/oid-info.md), each a DER UTF8String.
SOURCE_REF_OID = "1.3.6.1.4.1.57264.1.14"
REPOSITORY_ID_OID = "1.3.6.1.4.1.57264.1.15"
OWNER_ID_OID = "1.3.6.1.4.1.57264.1.17"
BUILD_CONFIG_URI_OID = "1.3.6.1.4.1.57264.1.18"
DER_UTF8STRING = 0x0C


class VerificationFailed(WaitbusError):
    """A distribution, its attestation or its installed files did not check out."""


def pinned_verifier() -> Verifier:
    """A sigstore Verifier over the pinned production root, refusing a root that changed."""
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier

    source = resources.files("sigstore").joinpath(*TRUSTED_ROOT_PARTS)
    raw = source.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != TRUSTED_ROOT_SHA256:
        msg = (
            f"the sigstore trust root at {source} has sha256 {digest}, not the pinned "
            f"{TRUSTED_ROOT_SHA256}; reinstall the locked sigstore (`pip install "
            "'waitbus[verify]'`) or upgrade waitbus"
        )
        raise VerificationFailed(msg)
    # Read twice (hash, then parse): whoever can rewrite site-packages can rewrite this module too.
    return Verifier(trusted_root=TrustedRoot.from_file(str(source)))


def signer_policy(identity: Identity, version: str) -> VerificationPolicy:
    """Issuer, repository and owner (names and IDs), workflow and ref must all be expected."""
    from sigstore.verify import policy

    missing = [what for what, value in (("repository", identity.repository_id),
                                        ("owner", identity.owner_id)) if not value]
    if missing:
        msg = (f"the expected signer has no GitHub {' or '.join(missing)} ID, and a name alone "
               f"can be re-registered by someone else; this waitbus build does not pin the IDs "
               f"of {identity.repository}, so it cannot verify its releases: upgrade waitbus, or "
               "pass --expect-repository with --expect-repository-id and --expect-owner-id")
        raise VerificationFailed(msg)
    return policy.AllOf([
        policy.OIDCIssuerV2(identity.issuer),
        policy.OIDCSourceRepositoryURI(identity.repository_uri),
        policy.OIDCSourceRepositoryOwnerURI(identity.owner_uri),
        _ExtensionEquals(REPOSITORY_ID_OID, "repository ID", identity.repository_id),
        _ExtensionEquals(OWNER_ID_OID, "repository owner ID", identity.owner_id),
        _WorkflowPolicy(identity, version),
    ])


def extension_text(cert: Certificate, oid: str, what: str) -> str:
    """A Fulcio v2 extension (a DER UTF8String) as text; VerificationError when it is absent."""
    from cryptography import x509
    from sigstore.errors import VerificationError

    try:
        raw = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid)).value
    except x509.ExtensionNotFound:
        msg = f"certificate has no {what} ({oid}): it was not signed by a GitHub workflow"
        raise VerificationError(msg) from None
    return decode_utf8string(raw.public_bytes())


class _ExtensionEquals:
    """One certificate extension must equal the expected value exactly."""

    def __init__(self, oid: str, what: str, expected: str) -> None:
        self._oid, self._what, self._expected = oid, what, expected

    def verify(self, cert: Certificate) -> None:
        from sigstore.errors import VerificationError

        found = extension_text(cert, self._oid, self._what)
        if found != self._expected:
            msg = (f"certificate's {self._what} is {found}, expected {self._expected}: the name "
                   "may match, but it is another repository or account")
            raise VerificationError(msg)


class _WorkflowPolicy:
    """The Build Config URI is the expected workflow at an allowed ref, and so is the run's ref."""

    def __init__(self, identity: Identity, version: str) -> None:
        self._identity, self._version = identity, version

    def verify(self, cert: Certificate) -> None:
        from sigstore.errors import VerificationError

        identity, allowed = self._identity, self._identity.describe_refs(self._version)
        uri = extension_text(cert, BUILD_CONFIG_URI_OID, "Build Config URI")
        workflow, at, ref = uri.partition("@")
        if workflow != identity.workflow_uri or not at:
            msg = (f"certificate's Build Config URI {uri} is not the workflow "
                   f"{identity.workflow_uri}@{allowed}")
            raise VerificationError(msg)
        source_ref = extension_text(cert, SOURCE_REF_OID, "Source Repository Ref")
        for what, value in (("Build Config URI's ref", ref), ("Source Repository Ref", source_ref)):
            if not identity.allows_ref(value, self._version):
                msg = f"certificate's {what} is {value}, not {allowed}"
                raise VerificationError(msg)


def decode_utf8string(der: bytes) -> str:
    """Decode one DER UTF8String (tag, definite length, bytes)."""
    if len(der) < 2 or der[0] != DER_UTF8STRING:
        msg = "certificate extension is not a DER UTF8String"
        raise VerificationFailed(msg)
    length, start = der[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, start = int.from_bytes(der[2:2 + count], "big"), 2 + count
    body = der[start:start + length]
    if len(body) != length:
        msg = "certificate extension is truncated"
        raise VerificationFailed(msg)
    return body.decode("utf-8")
