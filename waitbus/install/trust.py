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


def signer_policy(identity: Identity) -> VerificationPolicy:
    """Issuer, source repository and signing workflow must all be the expected ones."""
    from sigstore.verify import policy

    return policy.AllOf([
        policy.OIDCIssuerV2(identity.issuer),
        policy.OIDCSourceRepositoryURI(identity.repository_uri),
        _WorkflowPolicy(identity.build_config_prefix),
    ])


class _WorkflowPolicy:
    """The certificate's Build Config URI is the expected workflow file at an allowed ref."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def verify(self, cert: Certificate) -> None:
        from cryptography import x509
        from sigstore.errors import VerificationError

        oid = x509.ObjectIdentifier(BUILD_CONFIG_URI_OID)
        try:
            raw = cert.extensions.get_extension_for_oid(oid).value.public_bytes()
        except x509.ExtensionNotFound:
            msg = "certificate has no Build Config URI: it was not signed by a workflow"
            raise VerificationError(msg) from None
        uri = decode_utf8string(raw)
        if not uri.startswith(self._prefix) or len(uri) == len(self._prefix):
            msg = f"certificate's Build Config URI {uri} is not the workflow {self._prefix}..."
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
