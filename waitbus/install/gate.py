"""The one verification every command runs: attestation first, then the installed files."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from waitbus.install.identity import Identity
from waitbus.install.record import InstalledCheck, check_installed
from waitbus.install.trust import VerificationFailed
from waitbus.install.verify import Verified, verify_bytes, verify_file

INDEX_URL_ENV = "WAITBUS_INDEX_URL"


@dataclass(frozen=True, slots=True)
class Request:
    """Where the distribution and its attestation come from, and whom to trust."""

    identity: Identity
    dist: Path | None = None
    attestation: Path | None = None
    index_url: str | None = None
    installed_root: Path | None = None
    check_installed: bool = True


@dataclass(frozen=True, slots=True)
class Outcome:
    verified: Verified
    installed: InstalledCheck | None


def verify(request: Request, report: Callable[[str], None] = lambda _step: None) -> Outcome:
    """Verify from local files when given, else from the index; raise VerificationFailed.

    `report` hears each step as it starts (it takes a second or two in all).
    """
    if (request.dist is None) != (request.attestation is None):
        msg = "pass --dist and --attestation together (the file and its attestation)"
        raise VerificationFailed(msg)
    if request.dist is not None and request.attestation is not None:
        report(f"checking {request.dist.name} against {request.attestation.name} "
               "(pinned Sigstore root, expected signer)")
        verified = verify_file(request.dist, request.attestation, request.identity)
        return Outcome(verified, _installed(request, verified.dist, report))
    index_url = request.index_url or os.environ.get(INDEX_URL_ENV)
    if not index_url:
        msg = (f"no provenance source: pass --dist FILE --attestation FILE, or a package index "
               f"with --index-url URL (or ${INDEX_URL_ENV}) to fetch the installed version's "
               "provenance")
        raise VerificationFailed(msg)
    from waitbus.install.index import fetch_installed

    with tempfile.TemporaryDirectory(prefix="waitbus-verify-") as tmp:
        report(f"fetching the installed version's wheel and provenance from {index_url}")
        fetched = fetch_installed(request.identity.project, index_url, Path(tmp))
        report("checking the wheel against its provenance (pinned Sigstore root, "
               "expected signer)")
        verified = verify_bytes(fetched.wheel, fetched.provenance, request.identity,
                                source=fetched.provenance_url)
        return Outcome(verified, _installed(request, fetched.wheel, report))


def _installed(request: Request, wheel: Path,
               report: Callable[[str], None]) -> InstalledCheck | None:
    if not request.check_installed:
        return None
    report("hashing the installed files against the verified wheel's RECORD")
    return check_installed(wheel, request.installed_root)
