"""Fetching a wheel and its provenance from a PEP 691 index (a real HTTP server on loopback)."""

from __future__ import annotations

import hashlib
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.install.attestations import RFC, RFC_WHEEL, fixture_path
from waitbus.install.index import fetch
from waitbus.install.record import check_installed
from waitbus.install.trust import VerificationFailed
from waitbus.install.verify import verify_bytes


@contextmanager
def _serve(root: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _index(tmp_path: Path, *, sha256: str | None = None, provenance: bool = True) -> Path:
    """A simple index listing the fixture wheel, its provenance URL pointing at its bundle."""
    root = tmp_path / "index"
    page = root / "simple" / "rfc8785"
    files = root / "files"
    page.mkdir(parents=True)
    files.mkdir()
    shutil.copyfile(fixture_path(RFC_WHEEL), files / RFC_WHEEL)
    shutil.copyfile(fixture_path(RFC_WHEEL + ".sigstore.json"), files / "bundle.json")
    digest = sha256 or hashlib.sha256(fixture_path(RFC_WHEEL).read_bytes()).hexdigest()
    entry = {"filename": RFC_WHEEL, "url": f"../../files/{RFC_WHEEL}",
             "hashes": {"sha256": digest},
             "provenance": "../../files/bundle.json" if provenance else None}
    # SimpleHTTPRequestHandler answers a directory URL with its index.html.
    (page / "index.html").write_text(json.dumps({"name": "rfc8785", "files": [entry]}))
    return root


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = _index(tmp_path)
    with _serve(root) as url:
        yield root, url


def test_the_fetched_wheel_verifies_and_matches_its_install(
        served: tuple[Path, str], tmp_path: Path, installed_rfc: Path) -> None:
    _root, url = served
    got = fetch("rfc8785", "0.1.2", url)
    verified = verify_bytes(got.wheel, got.data, got.provenance, RFC, source=got.provenance_url)
    assert verified.dist.name == RFC_WHEEL
    assert check_installed(verified, installed_rfc).checked == 6


def test_a_wheel_that_disagrees_with_the_index_hash_is_refused(tmp_path: Path) -> None:
    refused = pytest.raises(VerificationFailed, match="does not match the index's own sha256")
    with _serve(_index(tmp_path, sha256="0" * 64)) as url, refused:
        fetch("rfc8785", "0.1.2", url)


def test_a_file_without_provenance_is_refused(tmp_path: Path) -> None:
    refused = pytest.raises(VerificationFailed, match="publishes no provenance")
    with _serve(_index(tmp_path, provenance=False)) as url, refused:
        fetch("rfc8785", "0.1.2", url)


def test_plain_http_to_a_remote_host_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VerificationFailed, match="only https"):
        fetch("rfc8785", "0.1.2", "http://example.invalid/simple")
