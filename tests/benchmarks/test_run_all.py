"""A smoke run of the one benchmark command: tiny counts, every scenario, the JSON's shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import run_all

QUANTILES = ("p50", "p90", "p99", "p99.9", "max", "lost", "n")


def test_quick_run_measures_waitbus_beside_every_peer_and_writes_its_json(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run.json"
    assert run_all.main(["--quick", "--idle-s", "0.5", "--sources", "none",
                         "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert {"cpu_model", "cores", "kernel", "python", "commit"} <= doc["host"].keys()
    labels = {s: [row["label"] for row in rows] for s, rows in doc["latency"].items()}
    assert labels["emit -> subscriber"][:3] == ["waitbus", "redis", "nats"]
    assert labels["emit -> wait exit"][:4] == ["waitbus", "redis", "nats", "inotifywait"]
    assert any(label.startswith("poll ") for label in labels["emit -> wait exit"])
    for rows in doc["latency"].values():
        for row in rows:
            assert set(QUANTILES) <= row.keys()
            assert row["lost"] == 0, row
    assert doc["ratios"]["emit -> subscriber"]["redis"]["p99"] > 0
    ingest = doc["throughput"]["ingest, 1 producer"]
    assert ingest["lost"] == ingest["lost_in_store"] == 0
    assert set(doc["idle"]) == {"waitbus", "redis", "nats"}
    assert all(row["rss_mb"] > 0 for row in doc["idle"].values())
    assert "idle RSS < 20 MB" in doc["targets"]
    assert labels["fan-out to 3, last receiver"] == ["waitbus", "redis", "nats"]
    assert labels["process: emit, exec -> exit"][0] == "waitbus emit"
    assert labels["process: wait, exec -> subscribed"][0] == "waitbus wait"
    burst = doc["throughput"]["ingest, emit_many of 10"]
    assert burst["sent"] == burst["stored"] == burst["received"]
    assert doc["latency"]["emit -> subscriber"][0]["client_cpu_us"] > 0
    printed = capsys.readouterr().out
    assert "== emit -> subscriber (ms)" in printed
    assert "vs redis" in printed


def test_per_source_results_are_read_from_either_json_shape() -> None:
    row = {"label": "waitbus", "p50": 1.0, "p99": 2.0}
    assert run_all.source_rows({"rows": [row]}) == [row]
    nested = {"host": {}, "scenarios": {"docker": {"bus": row, "poll": {**row, "label": "p"}}}}
    assert [r["label"] for r in run_all.source_rows(nested)] == ["waitbus", "p"]
