"""The metrics page: counts by source, a cumulative histogram, escaping, read-at-scrape families."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from waitbus.bus.metrics import Metrics
from waitbus.event import Event

NOW_NS = 10**18


def _event(cursor: int, source: str, age_s: float) -> Event:
    return Event(cursor, f"d{cursor}", source, "t", None, None, NOW_NS - int(age_s * 1e9), {})


def _values(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_fanned_out_batches_count_by_source_and_fill_cumulative_buckets() -> None:
    metrics = Metrics()
    metrics.on_fanned_out([_event(1, "ci", 0.0004), _event(2, "ci", 0.003),
                           _event(3, "pytest", 0.2)], NOW_NS)
    values = _values(metrics)
    assert values[("waitbus_events_committed_total", (("source", "ci"),))] == 2
    assert values[("waitbus_events_committed_total", (("source", "pytest"),))] == 1
    bucket = "waitbus_fanout_latency_seconds_bucket"
    assert values[(bucket, (("le", "0.0005"),))] == 1
    assert values[(bucket, (("le", "0.005"),))] == 2
    assert values[(bucket, (("le", "0.25"),))] == 3
    assert values[(bucket, (("le", "+Inf"),))] == 3
    assert values[("waitbus_fanout_latency_seconds_count", ())] == 3


def test_families_are_read_when_the_page_is_rendered_and_labels_are_escaped() -> None:
    metrics = Metrics()
    reads = []

    def read() -> list[tuple[dict[str, str], float]]:
        reads.append(1)
        return [({"bridge": 'a "quoted"\\name'}, 7.0)]

    metrics.add("waitbus_bridge_export_lag_events", "gauge", "lag", read)
    assert reads == []  # nothing runs until a scrape
    values = _values(metrics)
    assert values[("waitbus_bridge_export_lag_events", (("bridge", 'a "quoted"\\name'),))] == 7
    assert reads == [1]
