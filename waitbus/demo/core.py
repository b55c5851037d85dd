"""`waitbus demo`: a daemon in a temporary directory, real waits, measured wakes."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from waitbus.api import emit
from waitbus.demo import processes

Report = Callable[[str], None]


@dataclass
class DemoResult:
    """What the demo ran, what it measured and what it skipped."""

    ok: bool = True
    wake_ms: dict[str, list[float]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def run(report: Report, *, rounds: int = 5) -> DemoResult:
    """Run the demo in a fresh temporary directory and remove it afterwards."""
    result = DemoResult()
    root = Path(tempfile.mkdtemp(prefix="waitbus-demo-"))
    state = root / "state"
    daemon = None
    try:
        report(f"state directory {state} (temporary)")
        daemon = processes.start(processes.waitbus_argv(state, "serve"), ready="serving",
                                 stream="stdout")
        report(f"daemon started (pid {daemon.pid})")
        _agent_round(state, report, result, rounds)
        _verdict_round(state, report, result)
    except processes.ChildFailed as exc:
        result.ok = False
        result.problems.append(str(exc))
    finally:
        if daemon is not None:
            status = processes.stop(daemon)
            if status != 0:
                result.ok = False
                result.problems.append(f"the daemon exited with status {status} on SIGTERM")
        shutil.rmtree(root, ignore_errors=True)
    return result


def _blocked_wait(state: Path, *args: str) -> subprocess.Popen[str]:
    argv = processes.waitbus_argv(state, "-v", "wait", "--timeout", "10s", *args)
    return processes.start(argv, ready="live at cursor", stream="stderr")


def _agent_round(state: Path, report: Report, result: DemoResult, rounds: int) -> None:
    samples: list[float] = []
    for n in range(rounds):
        waiter = _blocked_wait(state, "--source", "agent", "--match", f"fields.round={n}")
        started = time.perf_counter()
        emit("agent", "message", subject="demo", fields={"round": n}, state_dir=state)
        status = waiter.wait(10)
        samples.append((time.perf_counter() - started) * 1e3)
        processes.stop(waiter)
        if status != 0:
            result.ok = False
            result.problems.append(f"agent round {n}: wait exited {status}, expected 0")
    result.wake_ms["agent"] = samples
    report(f"agent: emit -> `waitbus wait` exit, median {statistics.median(samples):.2f} ms "
           f"over {len(samples)} rounds (max {max(samples):.2f} ms)")


def _verdict_round(state: Path, report: Report, result: DemoResult) -> None:
    waiter = _blocked_wait(state, "--source", "ci", "--match", 'subject="demo/build"')
    emit("ci", "build", subject="demo/build", conclusion="failure", state_dir=state)
    status = waiter.wait(10)
    processes.stop(waiter)
    if status == 1:
        report("ci: a failed build released `waitbus wait` with exit 1, as it should")
    else:
        result.ok = False
        result.problems.append(f"a failed build should exit 1; wait exited {status}")
