"""Fetch the installed version's wheel and its PEP 740 provenance from a package index."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from waitbus.install.trust import VerificationFailed
from waitbus.install.verify import normalize

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
INTEGRITY_JSON = "application/vnd.pypi.integrity.v1+json"
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
TIMEOUT_S = 30.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True, slots=True)
class Fetched:
    """A wheel's name and bytes (kept in memory), with the provenance the index publishes for it."""

    wheel: Path
    data: bytes
    provenance: bytes
    provenance_url: str


def fetch_installed(project: str, index_url: str) -> Fetched:
    """Download the installed version's wheel and provenance through the PEP 691 JSON API."""
    try:
        version = metadata.version(project)
    except metadata.PackageNotFoundError:
        msg = f"{project} is not installed, so there is no installed version to verify"
        raise VerificationFailed(msg) from None
    return fetch(project, version, index_url)


def fetch(project: str, version: str, index_url: str) -> Fetched:
    """Download `project` `version`'s wheel, with the provenance the index serves."""
    page_url = f"{index_url.rstrip('/')}/{normalize(project)}/"
    page = json.loads(_get(page_url, SIMPLE_JSON))
    entry = _wheel_entry(page, project, version, page_url)
    provenance_url = entry.get("provenance")
    if not isinstance(provenance_url, str):
        msg = (f"the index publishes no provenance for {entry['filename']}; verify from files "
               "with --dist and --attestation, or use --skip-verify knowingly")
        raise VerificationFailed(msg)
    data = _get(urllib.parse.urljoin(page_url, str(entry["url"])), "*/*")
    hashes = entry.get("hashes")
    expected = hashes.get("sha256") if isinstance(hashes, dict) else None
    if hashlib.sha256(data).hexdigest() != expected:
        msg = f"{entry['filename']} from the index does not match the index's own sha256"
        raise VerificationFailed(msg)
    wheel = Path(str(entry["filename"]))
    if wheel.name != str(entry["filename"]):
        msg = f"the index names a wheel {entry['filename']!r} that is not a plain file name"
        raise VerificationFailed(msg)
    provenance_url = urllib.parse.urljoin(page_url, provenance_url)
    return Fetched(wheel, data, _get(provenance_url, INTEGRITY_JSON), provenance_url)


def _wheel_entry(page: object, project: str, version: str, page_url: str) -> dict[str, object]:
    files = page.get("files") if isinstance(page, dict) else None
    if not isinstance(files, list):
        msg = f"{page_url} is not a PEP 691 project page (no files list)"
        raise VerificationFailed(msg)
    prefix = f"{normalize(project).replace('-', '_')}-{version}-"
    wheels = [f for f in files if isinstance(f, dict)
              and str(f.get("filename", "")).startswith(prefix)
              and str(f.get("filename", "")).endswith(".whl")]
    if not wheels:
        msg = f"the index lists no wheel for {project} {version} at {page_url}"
        raise VerificationFailed(msg)
    return wheels[0]


def _get(url: str, accept: str) -> bytes:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http"
                                        and parts.hostname in LOOPBACK_HOSTS):
        msg = f"refusing to fetch {url}: only https (or http on loopback) is allowed"
        raise VerificationFailed(msg)
    # The scheme is checked just above; urllib refuses redirects to non-http schemes.
    request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            body: bytes = response.read(MAX_RESPONSE_BYTES + 1)
    except (urllib.error.URLError, OSError) as exc:
        msg = (f"cannot fetch {url} ({exc}); offline, verify from files with --dist and "
               "--attestation")
        raise VerificationFailed(msg) from exc
    if len(body) > MAX_RESPONSE_BYTES:
        msg = f"{url} answered with more than {MAX_RESPONSE_BYTES} bytes"
        raise VerificationFailed(msg)
    return body
