"""`waitbus demo` as a new user runs it: a real subprocess, its exit code and its report."""

from __future__ import annotations

import subprocess
import sys

from waitbus.demo.rounds import docker_answers


def test_demo_wakes_a_wait_from_every_source_it_can_run() -> None:
    result = subprocess.run([sys.executable, "-m", "waitbus", "demo"], capture_output=True,
                            text=True, timeout=180, check=False)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for source in ("agent", "github", "filesystem", "pytest"):
        assert f"demo: {source}: released a blocked `waitbus wait` 3/3 times" in out
    assert "demo: verdict: a failed build released `waitbus wait` with exit 1" in out
    assert "demo: all good" in out
    # Docker runs when an engine answers (CI starts one); otherwise the skip is said plainly.
    if docker_answers():
        assert "demo: docker: released a blocked `waitbus wait` 3/3 times" in out
    else:
        assert "demo: docker: skipped: no Docker engine answers" in out
    assert "Traceback" not in result.stderr


def test_demo_json_reports_every_measurement() -> None:
    import json

    result = subprocess.run([sys.executable, "-m", "waitbus", "demo", "--json", "--repeats", "1"],
                            capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["problems"] == []
    assert {"agent", "github", "filesystem", "pytest"} <= set(report["wake_ms"])
    assert all(len(ms) == 1 and ms[0] > 0 for ms in report["wake_ms"].values())
    assert "demo: agent: released" in result.stderr
