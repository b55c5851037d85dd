"""/metrics on the webhook listener: counted from real traffic, accepted by promtool."""

from __future__ import annotations

import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import run_cli, start_wait
from waitbus.demo import processes


@pytest.fixture
def listening(state_dir: Path) -> Iterator[str]:
    argv = processes.waitbus_argv(state_dir, "serve", "--listen-port", "0")
    proc = processes.start(argv, ready="serving", stream="stdout")
    try:
        assert proc.stdout is not None
        line = processes.read_until(proc.stdout, "webhook listener on", 10.0)
        assert line is not None
        yield line.rsplit(" ", 1)[1]
    finally:
        processes.stop(proc)


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.headers["content-type"], reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["content-type"], exc.read().decode()


def _post(url: str, body: bytes, content_type: str) -> int:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"content-type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_count_real_traffic_and_promtool_accepts_the_page(state_dir: Path,
                                                                  listening: str) -> None:
    waiter = start_wait(state_dir, "--source", "pytest", "--match", "fields.n=2",
                        "--timeout", "30s")
    for n in range(5):
        assert run_cli(state_dir, "emit", "--source", "ci", "--type", "build",
                       "--field", f"n={n}").returncode == 0
    for n in range(3):
        assert run_cli(state_dir, "emit", "--source", "pytest", "--type", "session",
                       "--field", f"n={n}").returncode == 0
    try:
        assert waiter.wait(timeout=30) == 0  # its event came through the fan-out: all 8 did
    finally:
        processes.stop(waiter)
    assert _post(listening + "/github", b"{}", "application/json") >= 400  # no signature
    assert _post(listening + "/github", b"x", "text/plain") == 415
    assert _get(listening + "/nowhere")[0] == 404

    status, content_type, text = _get(listening + "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    samples = _samples(text)
    assert samples[("waitbus_events_committed_total", (("source", "ci"),))] == 5
    assert samples[("waitbus_events_committed_total", (("source", "pytest"),))] == 3
    assert samples[("waitbus_fanout_latency_seconds_count", ())] == 8
    assert samples[("waitbus_fanout_latency_seconds_bucket", (("le", "+Inf"),))] == 8
    assert samples[("waitbus_webhook_rejects_total", (("reason", "not_found"),))] == 1
    assert samples[("waitbus_webhook_rejects_total",
                    (("reason", "unsupported_media_type"),))] == 1
    assert samples[("waitbus_head_cursor", ())] == 8
    assert samples[("waitbus_store_bytes", (("file", "db"),))] > 0

    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool is missing: apt-get install prometheus"
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                             text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == ""  # no lint findings either


def test_metrics_is_read_only(listening: str) -> None:
    assert _post(listening + "/metrics", b"{}", "application/json") == 405
