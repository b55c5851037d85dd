"""What the bus did for its users: waits served, how fast they woke, and what polling would cost."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from waitbus.event import JSONObject
from waitbus.store.store import Store
from waitbus.store.waits import Ending, WaitRecord, read

# Common poll intervals of the tools an agent would otherwise loop on (seconds): a `docker ps`
# or `stat` loop every second, `gh run watch` every 3 s, an agent's `sleep 10` loop otherwise.
POLL_INTERVAL_S = {"docker": 1.0, "fs": 1.0, "github": 3.0}
DEFAULT_POLL_INTERVAL_S = 10.0


@dataclass(frozen=True, slots=True)
class Polling:
    """What polling the same sources would have cost for the same waits: computed, not measured."""

    calls: int  # status checks (API calls, `gh`/`docker` runs) a poller would have made
    tool_round_trips: int  # of those, MCP tool calls an agent's model would have made
    added_delay_s: float  # summed: a poller notices an event half an interval late on average

    def to_json(self) -> JSONObject:
        return {"computed": True, "calls": self.calls, "tool_round_trips": self.tool_round_trips,
                "added_delay_s": round(self.added_delay_s, 3),
                "poll_interval_s": {**POLL_INTERVAL_S, "other": DEFAULT_POLL_INTERVAL_S}}


@dataclass(frozen=True, slots=True)
class Stats:
    """Waits since a moment, from their recorded timestamps, and the events committed since."""

    since_ns: int
    waits: int
    by_client: dict[str, int]
    by_ending: dict[str, int]
    wake_latency_ms: dict[str, float | None]  # p50, p99 and max over waits an event woke
    woken: int
    waited_s: float
    events_by_source: dict[str, int]
    polling: Polling

    def to_json(self) -> JSONObject:
        return {"since": self.since_ns, "waits": self.waits,
                "by_client": dict(self.by_client), "by_ending": dict(self.by_ending),
                "woken_live": self.woken, "wake_latency_ms": dict(self.wake_latency_ms),
                "waited_s": round(self.waited_s, 3),
                "events_by_source": dict(self.events_by_source),
                "polling": self.polling.to_json()}


def gather(store: Store, since_ns: int) -> Stats:
    """Read the waits and events recorded since `since_ns` and compute the figures."""
    records = read(store, since_ns)
    with store.reading() as db:
        counts = db.execute("SELECT source, count(*) FROM events WHERE received_at >= ?"
                            " GROUP BY source ORDER BY count(*) DESC", (since_ns,)).fetchall()
    latencies = sorted(r.wake_latency_ns for r in records if r.wake_latency_ns is not None)
    return Stats(
        since_ns=since_ns, waits=len(records),
        by_client=dict(Counter(r.client for r in records)),
        by_ending=dict(Counter(str(r.ending) for r in records)),
        wake_latency_ms={"p50": _quantile(latencies, 0.5), "p99": _quantile(latencies, 0.99),
                         "max": latencies[-1] / 1e6 if latencies else None},
        woken=len(latencies),
        waited_s=sum(_duration_s(r) for r in records),
        events_by_source={str(source): int(n) for source, n in counts},
        polling=polling(records))


def polling(records: list[WaitRecord]) -> Polling:
    """A poller of each wait's sources at their common interval, over the same durations."""
    calls = round_trips = 0
    delay_s = 0.0
    for record in records:
        interval = poll_interval_s(record.sources)
        polls = max(1, math.ceil(_duration_s(record) / interval))
        calls += polls
        if record.client == "mcp":
            round_trips += polls
        if record.ending in (Ending.MATCHED, Ending.FAILED):
            delay_s += interval / 2
    return Polling(calls, round_trips, delay_s)


def poll_interval_s(sources: tuple[str, ...]) -> float:
    """The interval a poller of these sources would use: the fastest one's."""
    return min((POLL_INTERVAL_S.get(s, DEFAULT_POLL_INTERVAL_S) for s in sources),
               default=DEFAULT_POLL_INTERVAL_S)


def _duration_s(record: WaitRecord) -> float:
    return max(0, (record.woke_at or record.ended_at) - record.started_at) / 1e9


def _quantile(ordered: list[int], q: float) -> float | None:
    """Nearest rank, in milliseconds."""
    if not ordered:
        return None
    return ordered[max(1, math.ceil(q * len(ordered))) - 1] / 1e6
