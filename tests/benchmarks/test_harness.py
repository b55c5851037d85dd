"""The open-loop harness: schedules, quantiles, lost counts, tables and host description."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from benchmarks.harness import (
    Samples,
    Schedule,
    host_info,
    pace,
    print_table,
    ratios,
    summarize,
    write_json,
)


def test_fixed_schedule_spaces_sends_evenly_from_a_start_fixed_in_advance() -> None:
    times = Schedule(rate_hz=1000, n=4).times_ns(start_ns=10)
    assert times == [10, 1_000_010, 2_000_010, 3_000_010]


def test_poisson_schedule_is_repeatable_for_a_seed_and_keeps_the_mean_rate() -> None:
    first = Schedule(rate_hz=100, n=5000, poisson=True, seed=7).offsets_ns()
    assert first == Schedule(rate_hz=100, n=5000, poisson=True, seed=7).offsets_ns()
    mean_gap_s = first[-1] / (len(first) - 1) / 1e9
    assert 0.009 < mean_gap_s < 0.011
    assert first == sorted(first)


def test_latency_is_measured_from_the_intended_time_not_the_actual_send() -> None:
    samples = Samples("x", expected=2)
    # A send that went out 5 ms late and arrived 1 ms after that counts as 6 ms.
    samples.add(intended_ns=0, received_ns=6_000_000)
    samples.add(intended_ns=10_000_000, received_ns=11_000_000)
    summary = summarize(samples)
    assert summary["max"] == 6.0
    assert summary["p50"] == 1.0


def test_summary_uses_nearest_rank_quantiles_and_counts_the_lost() -> None:
    samples = Samples("x", expected=1005)
    for i in range(1, 1001):
        samples.add(0, i * 1_000_000)
    summary = summarize(samples)
    assert (summary["p50"], summary["p90"], summary["p99"]) == (500.0, 900.0, 990.0)
    assert (summary["p99.9"], summary["max"]) == (999.0, 1000.0)
    assert (summary["n"], summary["lost"]) == (1000, 5)


def test_summary_of_nothing_received_reports_everything_lost() -> None:
    summary = summarize(Samples("x", expected=3))
    assert summary["lost"] == 3
    assert summary["p99"] is None


def test_interleaved_rounds_merge_into_one_target() -> None:
    a, b = Samples("x", expected=2), Samples("x", expected=3)
    a.add(0, 1)
    b.add(0, 2)
    a.extend(b)
    assert (a.expected, a.lost, len(a.latencies_ns)) == (5, 3, 2)


def test_table_prints_every_quantile_and_the_ratio_of_the_subject_to_each_peer() -> None:
    mine, theirs = Samples("waitbus", 1), Samples("redis", 1)
    mine.add(0, 2_000_000)
    theirs.add(0, 1_000_000)
    out = io.StringIO()
    rows = [summarize(mine), summarize(theirs)]
    print_table("emit -> subscriber", rows, subject="waitbus", out=out)
    text = out.getvalue()
    for column in ("p50", "p90", "p99", "p99.9", "max", "lost", "n"):
        assert column in text
    assert "vs redis" in text
    assert "2x" in text
    assert ratios(rows, "waitbus") == {"redis": dict.fromkeys(
        ("p50", "p90", "p99", "p99.9", "max"), 2.0)}


def test_pace_returns_at_the_intended_time_and_reports_lateness() -> None:
    target = time.monotonic_ns() + 2_000_000
    assert pace(target) == 0
    assert time.monotonic_ns() >= target
    assert pace(time.monotonic_ns() - 5_000_000) >= 5_000_000


def test_host_info_describes_cpu_kernel_python_and_commit(tmp_path: Path) -> None:
    info = host_info()
    for key in ("cpu_model", "cores", "kernel", "python", "commit"):
        assert info[key], key
    path = write_json(tmp_path / "deep" / "r.json", {"host": info})
    assert json.loads(path.read_text())["host"]["cores"] == info["cores"]
