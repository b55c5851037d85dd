"""One demo round per source: do the real thing, and time how soon a blocked wait wakes."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from waitbus.api import emit
from waitbus.demo import processes


class Skip(Exception):
    """This machine cannot run the round; the message says why."""


@dataclass(frozen=True)
class Wake:
    """How one round ended: the wait's exit status and event-received-to-exit time."""

    status: int
    wake_ms: float


@dataclass(frozen=True)
class Bus:
    """The demo's running daemon and what it listens on."""

    state: Path
    webhook_url: str | None
    watched: Path
    docker: bool


def blocked_wait(bus: Bus, *args: str) -> subprocess.Popen[str]:
    """A real `waitbus wait`, returned once it is subscribed (no race with the action)."""
    argv = processes.waitbus_argv(bus.state, "-v", "wait", "--timeout", "20s", "--json", *args)
    return processes.start(argv, ready="live at cursor", stream="stderr")


def released(waiter: subprocess.Popen[str], timeout_s: float = 20.0) -> Wake:
    """Wait for the waiter to exit; time from the event's receipt to the exit."""
    try:
        status = waiter.wait(timeout_s)
    except subprocess.TimeoutExpired:
        processes.stop(waiter)
        return Wake(124, float("nan"))
    exited_ns = time.time_ns()
    assert waiter.stdout is not None
    out = waiter.stdout.read()
    processes.stop(waiter)
    received = json.loads(out.splitlines()[-1])["received_at"] if out.strip() else exited_ns
    return Wake(status, (exited_ns - received) / 1e6)


def agent(bus: Bus, n: int) -> Wake:
    waiter = blocked_wait(bus, "--source", "agent", "--match", f"fields.round={n}")
    emit("agent", "message", subject="demo", fields={"round": n, "to": "*"}, state_dir=bus.state)
    return released(waiter)


def github(bus: Bus, n: int) -> Wake:
    if bus.webhook_url is None:
        msg = "the webhook listener did not start"
        raise Skip(msg)
    sha = hashlib.sha1(f"demo-{n}".encode()).hexdigest()  # noqa: S324 (a fake commit id)
    waiter = blocked_wait(bus, "--source", "github", "--match", f'fields.head_sha="{sha}"')
    body = json.dumps({
        "action": "completed",
        "workflow_run": {"id": 1000 + n, "name": "demo", "head_branch": "main",
                         "head_sha": sha, "status": "completed", "conclusion": "success",
                         "run_attempt": 1},
        "repository": {"full_name": "demo/repo"},
    }).encode()
    signature = hmac.new(DEMO_SECRET, body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(  # noqa: S310 (the demo's own loopback listener)
        bus.webhook_url + "/github", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-GitHub-Event": "workflow_run",
                 "X-GitHub-Delivery": f"demo-{n}-{time.time_ns()}",
                 "X-Hub-Signature-256": f"sha256={signature}"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback URL)
        answer.read()
    return released(waiter)


def files(bus: Bus, n: int) -> Wake:
    name = f"report-{n}.txt"
    waiter = blocked_wait(bus, "--source", "fs", "--match", f'fields.name="{name}"',
                          "--match", 'fields.kind="close_write"')
    (bus.watched / name).write_text("written by the waitbus demo\n")
    return released(waiter)


def pytest_run(bus: Bus, n: int) -> Wake:
    try:
        import pytest  # noqa: F401
    except ImportError:
        msg = "pytest is not installed here (pip install pytest)"
        raise Skip(msg) from None
    tests = bus.watched.parent / f"test_demo_{n}.py"
    tests.write_text("def test_passes():\n    assert True\n")
    waiter = blocked_wait(bus, "--source", "pytest", "--match", 'type="session"')
    env = {**os.environ, "WAITBUS_STATE_DIR": str(bus.state), "WAITBUS_PYTEST": "1"}
    # The wait wakes while pytest is still tearing down, so time it alongside the run.
    run = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(tests)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=env, cwd=bus.watched.parent)
    wake = released(waiter)
    run.wait(60)
    return wake


def docker(bus: Bus, n: int) -> Wake:
    if not bus.docker:
        msg = "no Docker engine answers at /var/run/docker.sock"
        raise Skip(msg)
    image = local_image()
    if image is None:
        msg = "the Docker engine has no busybox or alpine image (docker pull busybox)"
        raise Skip(msg)
    waiter = blocked_wait(bus, "--source", "docker", "--match", f'subject="waitbus-demo-{n}"')
    run = subprocess.Popen([DOCKER, "run", "--rm", "--name", f"waitbus-demo-{n}", image, "true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wake = released(waiter)  # `docker run --rm` returns only after removal, so time alongside
    run.wait(60)
    return wake


DEMO_SECRET = b"waitbus-demo-secret"
DOCKER = shutil.which("docker") or "docker"


def docker_answers(path: Path = Path("/var/run/docker.sock")) -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(str(path))
            sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return b"OK" in sock.recv(1024)
    except OSError:
        return False


def local_image() -> str | None:
    listed = subprocess.run([DOCKER, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
                            capture_output=True, text=True, timeout=30, check=False).stdout
    for name in listed.split():
        if any(known in name for known in ("busybox", "alpine")):
            return name
    return None


ROUNDS = {"agent": agent, "github": github, "filesystem": files, "pytest": pytest_run,
          "docker": docker}
