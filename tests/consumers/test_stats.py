"""`waitbus stats` figures from recorded waits: latency, endings, events, and polling computed."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import DaemonProcess
from waitbus.consumers import wait as waiting
from waitbus.consumers.stats import gather, poll_interval_s, polling
from waitbus.consumers.waitlog import logged
from waitbus.paths import StatePaths
from waitbus.sources import emitter
from waitbus.store.store import Store
from waitbus.store.waits import Ending, WaitRecord, save

S = 10**9
MS = 10**6


def _record(started_s: float, waited_s: float, *, sources: tuple[str, ...] = ("ci",),
            client: str = "cli", ending: Ending = Ending.MATCHED,
            wake_ms: float | None = 2.0, event_before_start: bool = False) -> WaitRecord:
    start = int(started_s * S)
    end = start + int(waited_s * S)
    if ending not in (Ending.MATCHED, Ending.FAILED) or wake_ms is None:
        return WaitRecord(start, end, client, sources, ending)
    event_at = start - S if event_before_start else end - int(wake_ms * MS)
    return WaitRecord(start, end, client, sources, ending, event_at, end)


def test_wake_latency_counts_only_waits_a_new_event_woke(state_dir: Path) -> None:
    paths = StatePaths(state_dir)
    base = time.time() - 60
    with Store(paths) as store:
        store.append(emitter.draft("ci", "build"))
    for n, wake_ms in enumerate((1.0, 2.0, 3.0, 40.0)):
        save(paths, _record(base + n, 5.0, wake_ms=wake_ms))
    save(paths, _record(base + 10, 0.01, event_before_start=True))  # answered from the store
    save(paths, _record(base + 11, 30.0, ending=Ending.TIMED_OUT))
    with Store(paths, read_only=True) as store:
        stats = gather(store, int((base - 1) * S))
    assert stats.waits == 6
    assert stats.woken == 4
    assert stats.wake_latency_ms["p50"] == 2.0
    assert stats.wake_latency_ms["p99"] == 40.0
    assert stats.by_ending == {"matched": 5, "timed_out": 1}
    assert stats.events_by_source == {"ci": 1}


def test_waits_before_the_window_are_left_out(state_dir: Path) -> None:
    paths = StatePaths(state_dir)
    Store(paths).close()
    now = time.time()
    save(paths, _record(now - 3600, 1.0))
    save(paths, _record(now - 10, 1.0))
    with Store(paths, read_only=True) as store:
        assert gather(store, int((now - 60) * S)).waits == 1


def test_polling_is_computed_from_each_waits_duration_and_its_sources_interval() -> None:
    computed = polling([
        _record(0, 10.0, sources=("docker",)),  # 10 polls at 1 s
        _record(0, 9.5, sources=("github",)),  # 4 polls at 3 s
        _record(0, 25.0, sources=(), client="mcp"),  # 3 polls at 10 s, each a tool call
        _record(0, 0.2, sources=("fs",), ending=Ending.TIMED_OUT),  # at least one poll
    ])
    assert computed.calls == 10 + 4 + 3 + 1
    assert computed.tool_round_trips == 3
    assert computed.added_delay_s == 0.5 + 1.5 + 5.0  # half an interval per woken wait


def test_a_wait_on_several_sources_polls_at_the_fastest_interval() -> None:
    assert poll_interval_s(("pytest", "docker")) == 1.0
    assert poll_interval_s(()) == 10.0


def test_a_woken_wait_is_recorded_through_the_store_it_opened_when_live(
        daemon: DaemonProcess) -> None:
    paths = StatePaths(daemon.state_dir)
    emitter.append(paths, emitter.draft("ci", "before"))
    wait = waiting.build([], source="ci")
    live: list[int] = []
    with logged(paths, wait, "cli") as timing:

        def on_live(cursor: int) -> None:
            timing.prepare(cursor)
            live.append(cursor)
            emitter.append(paths, emitter.draft("ci", "build"))  # the event that wakes it

        outcome = waiting.run_blocking(wait, paths, reconnect_s=5.0, on_live=on_live)
        timing.woke(outcome)
    timing.save()
    assert live == [1]
    assert [e.type for e in outcome.events] == ["build"]
    with Store(paths, read_only=True) as store:
        stats = gather(store, 0)
    assert (stats.waits, stats.woken, stats.by_ending) == (1, 1, {"matched": 1})
