"""Prometheus metrics of the daemon: counters move on events; a scrape renders the page."""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from waitbus.event import Event
from waitbus.record import record

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Commit-to-offer latency buckets, in seconds: a healthy bus sits in the first few.
LATENCY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                     2.5, 5.0)

Labels = dict[str, str]
Sample = tuple[Labels, float]
Read = Callable[[], Iterable[Sample]]


class Histogram:
    """A Prometheus histogram: cumulative buckets, a sum and a count."""

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def samples(self) -> list[tuple[str, Labels, float]]:
        out: list[tuple[str, Labels, float]] = []
        running = 0
        for bound, count in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += count
            out.append(("_bucket", {"le": _number(bound)}, running))
        out += [("_sum", {}, self.sum), ("_count", {}, self.count)]
        return out


@record
class Family:
    """A metric whose samples are read when the page is rendered."""

    name: str
    kind: str  # counter or gauge
    help: str
    read: Read


class Metrics:
    """What the daemon counts as it works, and the families read at scrape time.

    Nothing here runs on a timer: the counters move when events are fanned out, and a scrape
    reads the rest (subscribers, store size) at that moment.
    """

    def __init__(self) -> None:
        self.committed: Counter[str] = Counter()
        self.fan_out_latency = Histogram(LATENCY_BUCKETS_S)
        self._families: list[Family] = []

    def __repr__(self) -> str:
        return (f"<Metrics events={sum(self.committed.values())} "
                f"families={len(self._families)}>")

    def on_fanned_out(self, events: Sequence[Event], now_ns: int) -> None:
        """Count a fanned-out batch by source, and how long each took from commit to offer."""
        for event in events:
            self.committed[event.source] += 1
            self.fan_out_latency.observe(max(0, now_ns - event.received_at) / 1e9)

    def add(self, name: str, kind: str, help: str, read: Read) -> None:
        """Register a counter or gauge read at scrape time (a bridge adds its lag here)."""
        if kind not in ("counter", "gauge"):
            msg = f"metric kind must be counter or gauge, not {kind!r}"
            raise ValueError(msg)
        self._families.append(Family(name, kind, help, read))

    def render(self) -> bytes:
        """The page in the Prometheus text exposition format (version 0.0.4)."""
        lines = _family("waitbus_events_committed_total", "counter",
                        "Events committed to the store, counted as the daemon fans them out.",
                        [({"source": s}, n) for s, n in sorted(self.committed.items())])
        name = "waitbus_fanout_latency_seconds"
        lines += [f"# HELP {name} Time from an event's received_at (stamped just before its "
                  "commit) to its offer to live subscribers.", f"# TYPE {name} histogram"]
        lines += [_line(name + suffix, labels, value)
                  for suffix, labels, value in self.fan_out_latency.samples()]
        for family in self._families:
            lines += _family(family.name, family.kind, family.help, family.read())
        return ("\n".join(lines) + "\n").encode()


def _family(name: str, kind: str, help: str, samples: Iterable[Sample]) -> list[str]:
    return [f"# HELP {name} {_help(help)}", f"# TYPE {name} {kind}",
            *(_line(name, labels, value) for labels, value in samples)]


def _line(name: str, labels: Labels, value: float) -> str:
    if not labels:
        return f"{name} {_number(value)}"
    body = ",".join(f'{key}="{_label(text)}"' for key, text in labels.items())
    return f"{name}{{{body}}} {_number(value)}"


def _number(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")
