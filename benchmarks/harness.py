"""An open-loop latency harness: fixed schedules, latency from the intended send time.

Import it for any benchmark that sends something at a time and sees it arrive later::

    from benchmarks.harness import Schedule, Samples, summarize, host_info, print_table

    schedule = Schedule(rate_hz=200, n=1000)          # or Schedule(..., poisson=True, seed=1)
    samples = Samples("waitbus", expected=schedule.n)
    for seq, intended_ns in enumerate(schedule.times_ns()):
        pace(intended_ns)                              # sleep (then spin) until that instant
        send(seq)
    ...                                                # later, for every arrival:
    samples.add(intended_ns, received_ns)              # both from time.monotonic_ns()
    print_table("emit -> subscriber", [summarize(samples), summarize(peer)])
    write_json(path, {"host": host_info(), "scenarios": {...}})

Why open loop: a closed loop (send, wait for the answer, send the next) stops sending while
the system stalls, so the stall is counted once instead of for every send it delayed
("coordinated omission"). Here every send has an intended time fixed before the run, and
latency is the arrival time minus that intended time, so a late send is charged to the system.

Public API: `Schedule`, `pace`, `Samples`, `summarize`, `host_info`, `print_table`,
`ratios`, `write_json`. Times are `time.monotonic_ns()` values, which one Linux host shares across
processes; summaries are in milliseconds.
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Samples",
    "Schedule",
    "Summary",
    "host_info",
    "pace",
    "print_table",
    "ratios",
    "summarize",
    "write_json",
]

Summary = dict[str, Any]
QUANTILES = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p99.9", 0.999))
COLUMNS = ("p50", "p90", "p99", "p99.9", "max")
# Sleeping overshoots by tens of microseconds; the last stretch before a send is spun instead.
_SPIN_NS = 300_000


@dataclass(frozen=True, slots=True)
class Schedule:
    """When each of `n` sends is meant to happen: every 1/rate_hz, or Poisson at that rate."""

    rate_hz: float
    n: int
    poisson: bool = False
    seed: int = 0
    lead_ns: int = 20_000_000

    def offsets_ns(self) -> list[int]:
        """Intended send times relative to the start, fixed before anything is sent."""
        step = 1e9 / self.rate_hz
        if not self.poisson:
            return [round(i * step) for i in range(self.n)]
        rng = random.Random(self.seed)
        at, out = 0.0, []
        for _ in range(self.n):
            out.append(round(at))
            at += rng.expovariate(1.0) * step
        return out

    def times_ns(self, start_ns: int | None = None) -> list[int]:
        """Absolute intended times (monotonic ns), starting `lead_ns` from now by default."""
        base = time.monotonic_ns() + self.lead_ns if start_ns is None else start_ns
        return [base + off for off in self.offsets_ns()]


def pace(intended_ns: int, *, spin_ns: int = _SPIN_NS) -> int:
    """Block until `intended_ns` (monotonic); return how late the caller already was (ns).

    The last `spin_ns` are spun for precision; many paced processes should pass 0.
    """
    now = time.monotonic_ns()
    if now >= intended_ns:
        return now - intended_ns
    if intended_ns - now > spin_ns:
        time.sleep((intended_ns - now - spin_ns) / 1e9)
    while time.monotonic_ns() < intended_ns:
        pass
    return 0


@dataclass(slots=True)
class Samples:
    """Latencies of one target in one scenario, and how many arrivals were expected."""

    label: str
    expected: int
    latencies_ns: list[int] = field(default_factory=list)
    note: str = ""
    # CPU time the server and the receiving processes spent on these samples, when measured.
    server_cpu_ns: int = 0
    client_cpu_ns: int = 0

    def add(self, intended_ns: int, received_ns: int) -> None:
        self.latencies_ns.append(received_ns - intended_ns)

    def extend(self, other: Samples) -> None:
        """Merge another round of the same target (interleaved runs)."""
        self.expected += other.expected
        self.latencies_ns.extend(other.latencies_ns)
        self.server_cpu_ns += other.server_cpu_ns
        self.client_cpu_ns += other.client_cpu_ns

    @property
    def lost(self) -> int:
        return max(0, self.expected - len(self.latencies_ns))


def _quantile(ordered: Sequence[int], q: float) -> int:
    """Nearest-rank quantile: the smallest sample with at least q of the samples at or below."""
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def summarize(samples: Samples) -> Summary:
    """p50, p90, p99, p99.9 and max in ms, with lost and n, as a JSON-ready dict."""
    ordered = sorted(samples.latencies_ns)
    out: Summary = {"label": samples.label, "n": len(ordered), "lost": samples.lost}
    for name, q in QUANTILES:
        out[name] = _quantile(ordered, q) / 1e6 if ordered else None
    out["max"] = ordered[-1] / 1e6 if ordered else None
    # CPU per delivered sample, in microseconds: steadier than wall time on a shared host.
    if samples.server_cpu_ns and ordered:
        out["server_cpu_us"] = samples.server_cpu_ns / len(ordered) / 1e3
    if samples.client_cpu_ns and ordered:
        out["client_cpu_us"] = samples.client_cpu_ns / len(ordered) / 1e3
    if samples.note:
        out["note"] = samples.note
    return out


def host_info(repo: Path | None = None) -> dict[str, Any]:
    """What ran the numbers: CPU model, cores, kernel, Python, commit, load at the time."""
    root = repo or Path(__file__).resolve().parent.parent
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "os": platform.system(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        # A run over an exported snapshot (run_all --snapshot) is told its commit.
        "commit": os.environ.get("WAITBUS_BENCH_COMMIT") or _git(root, "rev-parse", "HEAD"),
        "dirty": (not os.environ.get("WAITBUS_BENCH_COMMIT")
                  and bool(_git(root, "status", "--porcelain", "--untracked-files=no"))),
        "loadavg": list(os.getloadavg()),
        "memory_kb": _meminfo_total_kb(),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _cpu_model() -> str:
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                return text.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _meminfo_total_kb() -> int | None:
    try:
        first = Path("/proc/meminfo").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return int(first.split()[1])


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 100 else f"{value:.1f}"
    return str(value)


def _ratio(mine: Any, theirs: Any) -> str:
    if not mine or not theirs:
        return "-"
    return f"{mine / theirs:.3g}x"


def print_table(title: str, rows: Sequence[Summary], *, subject: str | None = None,
                out: Any = None) -> None:
    """Print summaries side by side, then `subject` (default: the first row) over each peer.

    A ratio below 1 means the subject is faster than that peer at that quantile.
    """
    stream = out or sys.stdout
    if not rows:
        return
    width = max(12, *(len(str(r["label"])) for r in rows))
    head = f"{'target':<{width}} " + " ".join(f"{c:>9}" for c in (*COLUMNS, "lost", "n"))
    print(f"\n== {title} (ms)", file=stream)
    print(head, file=stream)
    for row in rows:
        cells = " ".join(f"{_cell(row.get(c)):>9}" for c in (*COLUMNS, "lost", "n"))
        print(f"{row['label']:<{width}} {cells}", file=stream)
    _print_ratios(rows, subject, width, stream)


def _print_ratios(rows: Sequence[Summary], subject: str | None, width: int, stream: Any) -> None:
    me = next((r for r in rows if r["label"] == subject), rows[0])
    peers = [r for r in rows if r is not me]
    if not peers:
        return
    print(f"ratio {me['label']} / peer (below 1: {me['label']} is faster)", file=stream)
    for peer in peers:
        cells = " ".join(f"{_ratio(me.get(c), peer.get(c)):>9}" for c in COLUMNS)
        print(f"{'vs ' + str(peer['label']):<{width}} {cells}", file=stream)


def ratios(rows: Iterable[Summary], subject: str) -> dict[str, dict[str, float | None]]:
    """subject / peer for each quantile, per peer label (JSON form of the printed ratios)."""
    listed = list(rows)
    me = next((r for r in listed if r["label"] == subject), None)
    if me is None:
        return {}
    out: dict[str, dict[str, float | None]] = {}
    for peer in listed:
        if peer is me:
            continue
        out[str(peer["label"])] = {
            c: (me[c] / peer[c]) if me.get(c) and peer.get(c) else None for c in COLUMNS
        }
    return out


def write_json(path: Path, doc: dict[str, Any]) -> Path:
    """Write `doc` as indented JSON, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    return path
