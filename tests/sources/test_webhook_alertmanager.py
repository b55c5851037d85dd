"""A real Alertmanager posting to the listener; and the Alertmanager normalizer and auth."""

from __future__ import annotations

import base64
import json
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import start_wait
from tests.sources.webhook_client import TOKEN, listening_daemon, post, write_secret
from waitbus.demo import processes
from waitbus.event import Conclusion
from waitbus.paths import resolve
from waitbus.secrets import ALERTMANAGER_TOKEN
from waitbus.sources.webhook import alertmanager
from waitbus.sources.webhook.exchange import Rejection
from waitbus.store.store import Store

BINARY = "/usr/bin/prometheus-alertmanager"
CONFIG = """\
route:
  receiver: waitbus
  group_by: [job]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: waitbus
    webhook_configs:
      - url: {url}/alertmanager
        send_resolved: true
        http_config:
{auth}
"""
_INDENT = " " * 12
BEARER = (f"{_INDENT[2:]}authorization:\n{_INDENT}type: Bearer\n"
          f"{_INDENT}credentials: {TOKEN.decode()}")
BASIC = f"{_INDENT[2:]}basic_auth:\n{_INDENT}username: am\n{_INDENT}password: {TOKEN.decode()}"


def _free_port() -> int:
    # Alertmanager does not report a port it picked itself, so one is chosen for it here.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_alertmanager(listener_url: str, auth: str) -> Iterator[str]:
    """A real Alertmanager on loopback with a temp config and storage; yields its API URL."""
    if not Path(BINARY).exists():
        pytest.fail(f"{BINARY} is missing; install the Debian package prometheus-alertmanager")
    work = Path(tempfile.mkdtemp(prefix="am-"))
    (work / "am.yml").write_text(CONFIG.format(url=listener_url, auth=auth))
    address = f"127.0.0.1:{_free_port()}"
    proc = subprocess.Popen(
        [BINARY, f"--config.file={work / 'am.yml'}", f"--storage.path={work / 'data'}",
         f"--web.listen-address={address}", "--cluster.listen-address=", "--log.level=info"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    pump = threading.Thread(target=_pump, args=(proc, lines), daemon=True)
    pump.start()
    try:
        _await_line(lines, re.compile(r'msg="Listening on"|Listening on'), 20.0)
        yield f"http://{address}"
    finally:
        proc.terminate()
        proc.wait(10)
        pump.join(10)
        assert proc.stderr is not None
        proc.stderr.close()
        shutil.rmtree(work, ignore_errors=True)


def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    assert proc.stderr is not None
    for text in proc.stderr:
        lines.put(text)
    lines.put("")


def _await_line(lines: queue.Queue[str], pattern: re.Pattern[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    seen: list[str] = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            text = lines.get(timeout=left)
        except queue.Empty:
            break
        if not text:
            break
        seen.append(text)
        if pattern.search(text):
            return
    pytest.fail("alertmanager did not start listening:\n" + "".join(seen[-20:]))


def _push(api: str, alerts: list[dict[str, object]]) -> None:
    request = urllib.request.Request(f"{api}/api/v2/alerts", data=json.dumps(alerts).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _alert(name: str, severity: str, *, ended: bool = False) -> dict[str, object]:
    now = datetime.now(UTC).isoformat()
    alert: dict[str, object] = {"labels": {"alertname": name, "severity": severity,
                                           "job": "disks"},
                                "annotations": {"summary": f"{name} on the test box"},
                                "startsAt": "2026-01-01T00:00:00Z"}
    if ended:
        alert["endsAt"] = now
    return alert


@pytest.mark.parametrize("auth", [BEARER, BASIC], ids=["bearer", "basic"])
def test_real_alertmanager_group_becomes_one_event_per_alert(state_dir: Path, auth: str) -> None:
    write_secret(state_dir, ALERTMANAGER_TOKEN, TOKEN)
    with listening_daemon(state_dir) as (url, _proc), running_alertmanager(url, auth) as api:
        firing = start_wait(state_dir, "--all-of", 'alertmanager:fields.alertname="DiskFull"',
                            "--all-of", 'alertmanager:fields.alertname="DiskSlow"',
                            "--timeout", "30s")
        _push(api, [_alert("DiskFull", "critical"), _alert("DiskSlow", "warning")])
        assert firing.wait(30) == 1
        processes.stop(firing)
        resolved = start_wait(state_dir, "--source", "alertmanager",
                              "--match", 'fields.status="resolved"', "--timeout", "30s")
        _push(api, [_alert("DiskFull", "critical", ended=True)])
        assert resolved.wait(30) == 0
        processes.stop(resolved)
    with Store(resolve(state_dir), read_only=True) as store:
        events = store.read_after(0)
    by_name = {(e.subject, e.fields["status"]): e for e in events}
    assert set(by_name) >= {("DiskFull", "firing"), ("DiskSlow", "firing"),
                            ("DiskFull", "resolved")}
    full = by_name[("DiskFull", "firing")]
    assert full.conclusion is Conclusion.FAILURE
    assert full.fields["severity"] == "critical"
    assert isinstance(full.fields["labels"], dict)
    assert full.fields["labels"]["job"] == "disks"
    assert full.delivery_id.startswith("alertmanager:")
    assert full.delivery_id.endswith(":firing:2026-01-01T00:00:00Z")
    assert by_name[("DiskFull", "resolved")].conclusion is Conclusion.SUCCESS


def test_wrong_token_gets_401_and_stores_nothing(state_dir: Path) -> None:
    write_secret(state_dir, ALERTMANAGER_TOKEN, TOKEN)
    body = json.dumps({"alerts": [{"status": "firing", "fingerprint": "f", "startsAt": "t",
                                   "labels": {"alertname": "A"}}]}).encode()
    with listening_daemon(state_dir) as (url, _proc):
        for header in ("Bearer nope", "", "Basic !!!", "Token " + TOKEN.decode()):
            headers = {"Content-Type": "application/json", "Authorization": header}
            assert post(url, "/alertmanager", body, headers).status == 401
        ok = post(url, "/alertmanager", body, {"Content-Type": "application/json",
                                               "Authorization": f"Bearer {TOKEN.decode()}"})
    assert ok.status == 200
    with Store(resolve(state_dir), read_only=True) as store:
        assert [e.delivery_id for e in store.read_after(0)] == ["alertmanager:f:firing:t"]


def test_basic_auth_compares_only_the_password() -> None:
    header = "Basic " + base64.b64encode(b"anyone:" + TOKEN).decode()
    assert alertmanager.authorized(header, TOKEN)
    assert not alertmanager.authorized(header, TOKEN + b"x")


@pytest.mark.parametrize("body", [
    b'{"alerts": 1}', b'{"alerts": [{"status": "firing"}]}', b"[]",
    b'{"alerts": [{"status": "pending", "fingerprint": "f", "startsAt": "t"}]}',
])
def test_malformed_notifications_are_rejected_whole(body: bytes) -> None:
    rejected = alertmanager.normalize(body, received_at=1)
    assert isinstance(rejected, Rejection)
    assert rejected.status == 400
