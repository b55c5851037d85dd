"""The instruction-count gate: it passes on unchanged code and fails on a slowed hot path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.callgrind_workload import SLOWDOWN_ENV

REPO = Path(__file__).resolve().parent.parent.parent
HOT_PATH = "wire.encode_event"


def gate(*args: str, slow: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != SLOWDOWN_ENV}
    if slow is not None:
        env[SLOWDOWN_ENV] = slow
    return subprocess.run([sys.executable, "-m", "benchmarks.callgrind_gate", "--only", HOT_PATH,
                           *args], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cg") / "baseline.json"
    done = gate("--update", "--baseline", str(path))
    assert done.returncode == 0, done.stderr
    return path


def test_gate_passes_when_the_hot_path_is_unchanged(baseline: Path) -> None:
    done = gate("--baseline", str(baseline))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "within +5%" in done.stdout


def test_gate_fails_when_a_hot_path_is_deliberately_slowed(baseline: Path) -> None:
    done = gate("--baseline", str(baseline), slow=HOT_PATH)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{HOT_PATH} regressed" in done.stdout


def test_committed_baseline_names_every_hot_path_with_a_threshold() -> None:
    doc = json.loads((REPO / "benchmarks" / "callgrind_baseline.json").read_text())
    assert doc["threshold_percent"] == 5.0
    assert {"wire.encode_event", "wire.FrameDecoder.feed", "match.AnyOf.matches",
            "store.Store.append", "bus.fan_out_to_50",
            "sources.emitter.emit_many_100"} == set(doc["hot_paths"])
