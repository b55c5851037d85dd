"""The retention benchmark, small: a store over its bound is pruned live while producers emit
and a follower reads; nothing live is lost and the files end under the bound."""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench_retention import run

BOUND_BYTES = 12 * 1024 * 1024


def test_pruning_to_a_size_bound_under_load_loses_no_live_event(state_dir: Path) -> None:
    figures = run(events=60_000, producers=4, rate_hz=50.0, bound_bytes=BOUND_BYTES,
                  pad_bytes=200, phase_s=1.0, state_dir=state_dir)
    assert figures["bytes_before"] > BOUND_BYTES
    assert "retention pruned" in figures["pass_log"]
    assert figures["emitted_live"] > 0
    assert figures["lost"] == 0, figures["lost_sample"]
    assert figures["follower_received"] == figures["emitted_live"]
    assert figures["bytes_after_pass"] <= BOUND_BYTES
    assert figures["bytes_at_end"] <= BOUND_BYTES
