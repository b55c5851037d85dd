"""`waitbus demo`: a daemon in a temporary directory, real waits woken by every source."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from waitbus.api import emit
from waitbus.demo import processes, rounds

Report = Callable[[str], None]


@dataclass
class DemoResult:
    """What the demo ran, what it measured and what it skipped."""

    ok: bool = True
    wake_ms: dict[str, list[float]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    state_dir: Path | None = None  # kept for a look afterwards (`demo --keep`)


def run(report: Report, *, repeats: int = 3, keep: bool = False) -> DemoResult:
    """Run the demo in a fresh temporary directory and remove it afterwards (unless `keep`)."""
    result = DemoResult()
    root = Path(tempfile.mkdtemp(prefix="waitbus-demo-"))
    result.state_dir = root / "state" if keep else None
    daemon: subprocess.Popen[str] | None = None
    try:
        bus, daemon = _start(root, report)
        for name, play in rounds.ROUNDS.items():
            _play(name, play, bus, repeats, report, result)
        _verdict_round(bus, report, result)
    except processes.ChildFailed as exc:
        result.ok = False
        result.problems.append(str(exc))
    finally:
        if daemon is not None:
            status = processes.stop(daemon)
            if status != 0:
                result.ok = False
                result.problems.append(f"the daemon exited with status {status} on SIGTERM")
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return result


def _start(root: Path, report: Report) -> tuple[rounds.Bus, subprocess.Popen[str]]:
    state, watched = root / "state", root / "watched"
    watched.mkdir()
    secrets = state / "secrets"
    secrets.mkdir(parents=True, mode=0o700)
    (secrets / "github-webhook").write_bytes(rounds.DEMO_SECRET)
    (secrets / "github-webhook").chmod(0o600)
    docker = rounds.docker_answers()
    args = ["serve", "--listen-port", "0", "--watch", str(watched)]
    if docker:
        args.append("--docker")
    argv = processes.waitbus_argv(state, *args)
    daemon = processes.start(argv, ready="serving", stream="stdout")
    assert daemon.stdout is not None
    line = processes.read_until(daemon.stdout, "webhook listener on", 10)
    url = line.rsplit(" ", 1)[-1].strip() if line else None
    report(f"daemon pid {daemon.pid} in {state} (temporary); webhook listener {url}; "
           f"watching {watched}; docker {'on' if docker else 'off'}")
    return rounds.Bus(state, url, watched, docker), daemon


def _play(name: str, play: Callable[[rounds.Bus, int], rounds.Wake], bus: rounds.Bus,
          repeats: int, report: Report, result: DemoResult) -> None:
    samples: list[float] = []
    for n in range(repeats):
        try:
            wake = play(bus, n)
        except rounds.Skip as exc:
            result.skipped[name] = str(exc)
            report(f"{name}: skipped: {exc}")
            return
        if wake.status != 0:
            result.ok = False
            result.problems.append(f"{name} round {n}: wait exited {wake.status}, expected 0")
            continue
        samples.append(wake.wake_ms)
    result.wake_ms[name] = samples
    if samples:
        report(f"{name}: released a blocked `waitbus wait` {len(samples)}/{repeats} times; "
               f"event received -> wait exited, median {statistics.median(samples):.2f} ms "
               f"(max {max(samples):.2f} ms)")


def _verdict_round(bus: rounds.Bus, report: Report, result: DemoResult) -> None:
    waiter = rounds.blocked_wait(bus, "--source", "ci", "--match", 'subject="demo/build"')
    emit("ci", "build", subject="demo/build", conclusion="failure", state_dir=bus.state)
    wake = rounds.released(waiter)
    if wake.status == 1:
        report("verdict: a failed build released `waitbus wait` with exit 1, as it should")
    else:
        result.ok = False
        result.problems.append(f"a failed build should exit 1; wait exited {wake.status}")
