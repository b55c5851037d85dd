"""Test helpers for the webhook listener: fixture bodies, signing, a real HTTP client."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from waitbus.demo import processes

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "github-webhooks"
SECRET = b"it's a secret to everybody"
TOKEN = b"alertmanager-test-token"


def fixture(name: str) -> bytes:
    """A stored GitHub webhook body, byte for byte; fails the test if the fixtures are absent."""
    path = FIXTURES / f"{name}.payload.json"
    if not path.is_file():
        pytest.fail(f"GitHub webhook fixture {path} is missing; see tests/fixtures/README.md")
    return path.read_bytes()


def fixture_names() -> list[str]:
    if not FIXTURES.is_dir():
        pytest.fail(f"GitHub webhook fixtures folder {FIXTURES} is missing")
    return sorted(p.name.removesuffix(".payload.json") for p in FIXTURES.glob("*.payload.json"))


def signature(body: bytes, secret: bytes = SECRET) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def github_headers(event: str, delivery: str, body: bytes,
                   secret: bytes = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signature(body, secret)}


def write_secret(state_dir: Path, name: str, value: bytes) -> None:
    """Store a secret as `waitbus secret set` would: a 0600 file in <state>/secrets."""
    secrets = state_dir / "secrets"
    secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
    state_dir.chmod(0o700)
    path = secrets / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, object]


def post(url: str, path: str, body: bytes, headers: Mapping[str, str],
         timeout_s: float = 10.0) -> Answer:
    """One real HTTP/1.1 POST to the listener."""
    where = urlsplit(url)
    assert where.hostname is not None
    assert where.port is not None
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=timeout_s)
    try:
        conn.request("POST", path, body=body, headers=dict(headers))
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    return Answer(response.status, json.loads(raw) if raw else {})


def deliver(url: str, event: str, delivery: str, body: bytes,
            timeout_s: float = 10.0) -> Answer:
    return post(url, "/github", body, github_headers(event, delivery, body), timeout_s)


def derived(fixture_name: str, event: str, changes: Mapping[str, object]) -> bytes:
    """A fixture body with some keys of its `event` object replaced (then signed as sent)."""
    obj = json.loads(fixture(fixture_name))
    obj[event].update(changes)
    return json.dumps(obj).encode()


@contextmanager
def listening_daemon(state_dir: Path, *extra: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A real `waitbus serve --listen-port 0`; yields its listener URL and process."""
    argv = processes.waitbus_argv(state_dir, "-v", "serve", "--listen-port", "0", *extra)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    # A reader thread, because a selector on a buffered text pipe misses a line that arrived
    # in the same read as the line before it ("serving" and the listener line do).
    lines: queue.Queue[str] = queue.Queue()
    pump = threading.Thread(target=_pump, args=(proc, lines), daemon=True)
    pump.start()
    try:
        url = _listener_url(lines)
        if url is None:
            pytest.fail("waitbus serve did not report its webhook listener within 15 s")
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        pump.join(10)
        assert proc.stdout is not None
        proc.stdout.close()


def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    assert proc.stdout is not None
    for text in proc.stdout:
        lines.put(text)
    lines.put("")


def _listener_url(lines: queue.Queue[str], timeout_s: float = 15.0) -> str | None:
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            text = lines.get(timeout=left)
        except queue.Empty:
            return None
        found = re.search(r"webhook listener on (http://[0-9.]+:\d+)", text)
        if found or not text:
            return found.group(1) if found else None
    return None
