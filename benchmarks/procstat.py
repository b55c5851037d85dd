"""Costs of a running process from /proc: resident memory, CPU time and context switches."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One reading of a process: CPU seconds used so far and context switches of all threads."""

    at_ns: int
    cpu_s: float
    voluntary: int
    involuntary: int

    @property
    def switches(self) -> int:
        return self.voluntary + self.involuntary


def rss_kb(pid: int) -> int:
    """VmRSS of `pid` in kB."""
    return _status_field(Path(f"/proc/{pid}/status"), "VmRSS")


def snapshot(pid: int) -> Snapshot:
    """CPU time (utime + stime) and the context switches summed over every thread of `pid`."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # Fields after the command name, which may itself hold spaces and parentheses.
    rest = stat[stat.rindex(")") + 2 :].split()
    cpu_s = (int(rest[11]) + int(rest[12])) / _TICKS_PER_S
    voluntary = involuntary = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            voluntary += _status_field(task / "status", "voluntary_ctxt_switches")
            involuntary += _status_field(task / "status", "nonvoluntary_ctxt_switches")
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended between listing and reading
    return Snapshot(time.monotonic_ns(), cpu_s, voluntary, involuntary)


def idle_costs(pids: dict[str, int], duration_s: float) -> dict[str, dict[str, float]]:
    """Watch idle processes together for `duration_s`: RSS, wakeups per minute and CPU %.

    Every process is read at the same two instants, so they share whatever the host did.
    """
    before = {name: snapshot(pid) for name, pid in pids.items()}
    time.sleep(duration_s)  # the measurement itself: nothing to wait on, just time passing
    out: dict[str, dict[str, float]] = {}
    for name, pid in pids.items():
        after = snapshot(pid)
        first = before[name]
        elapsed_s = (after.at_ns - first.at_ns) / 1e9
        wakeups = after.switches - first.switches
        out[name] = {
            "rss_mb": rss_kb(pid) / 1024,
            "wakeups": wakeups,
            "wakeups_per_min": wakeups * 60 / elapsed_s,
            "cpu_percent": 100 * (after.cpu_s - first.cpu_s) / elapsed_s,
            "duration_s": elapsed_s,
        }
    return out


def cpu_percent_between(first: Snapshot, last: Snapshot) -> float:
    """Share of one core used between two snapshots, in percent."""
    return 100 * (last.cpu_s - first.cpu_s) / ((last.at_ns - first.at_ns) / 1e9)


def _status_field(path: Path, name: str) -> int:
    for text in path.read_text().splitlines():
        if text.startswith(name + ":"):
            return int(text.split()[1])
    msg = f"{path} has no {name} line"
    raise KeyError(msg)
