"""The one verification every command runs: attestation first, then the installed files."""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from waitbus.install.identity import DEFAULT_PROJECT, Identity
from waitbus.install.record import InstalledCheck, check_installed
from waitbus.install.trust import VerificationFailed
from waitbus.install.verify import Verified, normalize, verify_bytes, verify_file

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
    # The console scripts to check against the verified entry points. None: those of the
    # verified wheel beside this interpreter, unless installed_root names another installation.
    scripts: tuple[Path, ...] | None = None


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
        return Outcome(verified, _installed(request, verified, report))
    index_url = request.index_url or os.environ.get(INDEX_URL_ENV)
    if not index_url:
        msg = (f"no provenance source: pass --dist FILE --attestation FILE, or a package index "
               f"with --index-url URL (or ${INDEX_URL_ENV}) to fetch the installed version's "
               "provenance")
        raise VerificationFailed(msg)
    from waitbus.install.index import fetch_installed

    report(f"fetching the installed version's wheel and provenance from {index_url}")
    fetched = fetch_installed(request.identity.project, index_url)
    report("checking the wheel against its provenance (pinned Sigstore root, expected signer)")
    verified = verify_bytes(fetched.wheel, fetched.data, fetched.provenance, request.identity,
                            source=fetched.provenance_url)
    return Outcome(verified, _installed(request, verified, report))


def _installed(request: Request, verified: Verified,
               report: Callable[[str], None]) -> InstalledCheck | None:
    """Check the installation against the verified bytes (never the file read again)."""
    if not request.check_installed:
        return None
    report("hashing the installed files against the verified wheel's RECORD, comparing "
           "bytecode and console scripts")
    scripts = request.scripts
    if scripts is None and request.installed_root is None:
        from waitbus.install.record import read_wheel

        folder = Path(sysconfig.get_path("scripts"))
        scripts = tuple(folder / name for name in sorted(read_wheel(verified).entry_points)
                        if (folder / name).exists())
    return check_installed(verified, request.installed_root, scripts,
                           Path(os.path.abspath(sys.executable)))


def check_running(outcome: Outcome) -> None:
    """The verified installation must be the waitbus this process runs, which a unit will run.

    A passing verification of another project, or of another copy of waitbus, says nothing
    about the code the unit would start.
    """
    import waitbus

    installed = outcome.installed
    running = Path(waitbus.__file__).resolve().parent
    if installed is None or normalize(installed.project) != normalize(DEFAULT_PROJECT):
        what = f"{installed.project} {installed.version}" if installed else "no installation"
        msg = (f"the verification covered {what}, not the waitbus this command runs from "
               f"({running}); install commands only accept a verification of waitbus itself")
        raise VerificationFailed(msg)
    verified = (installed.root / "waitbus").resolve()
    if verified != running:
        msg = (f"the verified waitbus is the one under {installed.root}, but this command runs "
               f"the waitbus in {running}; run the install command of the verified installation "
               "(its own interpreter or console script)")
        raise VerificationFailed(msg)
