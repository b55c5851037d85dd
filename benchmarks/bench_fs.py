"""File write -> subscriber wake: waitbus beside inotifywait and a 1 s poll, interleaved.

    uv run python -m benchmarks.bench_fs            # 3 rounds x 500 writes at 100/s per target
    uv run python -m benchmarks.bench_fs --quick    # check that everything runs

Each target watches its own directory, so a round measures one target while the others idle.
A write is `open, write one byte, close`; latency runs from the write's intended (open-loop)
time to the moment this process reads the file's name from the target's stdout, the same
pipe path for every target. inotifywait asks the kernel for close_write only; the waitbus fs
source also commits create events, so its daemon does more work per write.
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.children import spawn
from benchmarks.harness import Samples, Schedule, host_info, print_table, summarize, write_json
from waitbus.demo import processes

HERE = Path(__file__).absolute().parent
_SPIN_NS = 300_000
DRAIN_S = {"poll 1 s (getmtime loop)": 3.0}
SUBSCRIBER = """\
import logging, sys
from waitbus import subscribe
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
for event in subscribe('fields.kind="close_write"', source="fs", state_dir=sys.argv[1]):
    print(event.fields["name"], flush=True)
"""
# What a script without a notifier does: look at every file's mtime once a second.
POLLER = """\
import os, sys, time
root, seen, ready = sys.argv[1], {}, False
while True:
    with os.scandir(root) as entries:
        for entry in entries:
            mtime = entry.stat().st_mtime_ns
            if seen.get(entry.name) != mtime:
                seen[entry.name] = mtime
                print(entry.name, flush=True)
    if not ready:
        print("polling", file=sys.stderr, flush=True)
        ready = True
    time.sleep(1.0)
"""


@dataclass
class Watcher:
    """One target: a process that prints a file's name when it learns the file was written."""

    label: str
    folder: Path
    proc: subprocess.Popen[str]
    helpers: tuple[subprocess.Popen[str], ...] = ()
    buffer: bytes = b""

    def names(self, data: bytes) -> list[str]:
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        return [line.decode() for line in lines if line]

    def stop(self) -> None:
        for proc in (self.proc, *self.helpers):
            processes.stop(proc)


def start_waitbus(root: Path) -> Watcher:
    folder, state = root / "waitbus", root / "state"
    folder.mkdir()
    argv = [sys.executable, "-m", "waitbus", "--state-dir", str(state), "-v", "serve",
            "--listen-port", "off", "--watch", str(folder)]
    daemon = spawn(argv, ready="fs: watching")
    sub = spawn([sys.executable, "-c", SUBSCRIBER, str(state)], ready="live at cursor")
    return Watcher("waitbus", folder, sub, (daemon,))


def start_inotifywait(root: Path) -> Watcher:
    if shutil.which("inotifywait") is None:
        msg = "inotifywait is not installed; install inotify-tools (.ci/setup.d/55-inotify.sh)"
        raise RuntimeError(msg)
    folder = root / "inotifywait"
    folder.mkdir()
    argv = ["inotifywait", "-m", "-e", "close_write", "--format", "%f", str(folder)]
    return Watcher("inotifywait", folder, spawn(argv, ready="Watches established"))


def start_poller(root: Path) -> Watcher:
    folder = root / "poll"
    folder.mkdir()
    proc = spawn([sys.executable, "-c", POLLER, str(folder)], ready="polling")
    return Watcher("poll 1 s (getmtime loop)", folder, proc)


def measure(watcher: Watcher, schedule: Schedule, tag: str) -> Samples:
    """Write on `schedule` into the watcher's folder and time each name it reports."""
    samples = Samples(watcher.label, expected=schedule.n)
    times = schedule.times_ns()
    pending: dict[str, int] = {}
    assert watcher.proc.stdout is not None
    fd = watcher.proc.stdout.fileno()
    deadline = times[-1] + int(DRAIN_S.get(watcher.label, 2.0) * 1e9)
    sent = 0
    while (sent < len(times) or pending) and (now := time.monotonic_ns()) < deadline:
        if sent < len(times) and now >= times[sent]:
            name = f"{tag}-{sent}"
            pending[name] = times[sent]
            with open(watcher.folder / name, "wb") as handle:
                handle.write(b"x")
            sent += 1
            continue
        until = times[sent] if sent < len(times) else deadline
        # Sleep in select until just before the next send, then spin, as harness.pace does.
        timeout_s = max(0.0, (until - now - _SPIN_NS) / 1e9)
        if select.select([fd], [], [], timeout_s)[0]:
            data = os.read(fd, 65536)
            seen_ns = time.monotonic_ns()
            for name in watcher.names(data):
                if name in pending:
                    samples.add(pending.pop(name), seen_ns)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_fs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny counts: check, not measure")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-n", type=int, default=500, help="writes per round and target")
    parser.add_argument("--rate-hz", type=float, default=100.0)
    parser.add_argument("--out", type=Path, help="JSON path (default: baselines/fs-<commit>.json)")
    args = parser.parse_args(argv)
    rounds, n = (1, 20) if args.quick else (args.rounds, args.n)
    root = Path(tempfile.mkdtemp(prefix="wb-fs-"))
    watchers: list[Watcher] = []
    try:
        watchers = [start_waitbus(root), start_inotifywait(root), start_poller(root)]
        totals = {w.label: Samples(w.label, expected=0) for w in watchers}
        for r in range(rounds):
            for w in watchers[r % 3:] + watchers[:r % 3]:  # rotate who goes first
                totals[w.label].extend(measure(w, Schedule(args.rate_hz, n), f"r{r}"))
    finally:
        for w in watchers:
            w.stop()
        shutil.rmtree(root, ignore_errors=True)
    rows = [summarize(s) for s in totals.values()]
    print_table(f"file write -> subscriber wake, {args.rate_hz:g}/s open loop", rows)
    p99 = {row["label"]: row["p99"] for row in rows}
    gap = (p99["waitbus"] or 0.0) - (p99["inotifywait"] or 0.0)
    print(f"\nwaitbus p99 - inotifywait p99 = {gap:.3f} ms (target: within 1 ms)")
    host = host_info()
    doc = {"host": host, "scenario": "fs write -> subscriber", "rate_hz": args.rate_hz,
           "rounds": rounds, "n_per_round": n, "rows": rows, "p99_gap_ms": gap,
           "quick": args.quick}
    if not args.quick or args.out:
        out = args.out or HERE / "baselines" / f"fs-{str(host['commit'])[:12]}.json"
        print(f"wrote {write_json(out, doc)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
