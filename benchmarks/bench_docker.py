"""Container exit -> subscriber wake, beside a `docker ps` poll every 2 s, in the same run.

Run as root with dockerd up and the test image imported (`.ci/setup.d/40-docker.sh`):

    uv run python -m benchmarks.bench_docker --n 40 --rate 2

Containers are started open loop on a fixed schedule (`docker run -d`, not waited for) and each
exits 0.5 s after it starts. Latency is measured from the engine's own `die` timestamp (its
`timeNano`, wall clock, carried in the event's delivery id) to the moment the subscriber or the
poller sees the end, on the same host clock. What happens between the process exiting and the
engine logging `die` is the engine's cost, paid equally by both.
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Generator
from pathlib import Path
from typing import cast

from benchmarks.children import child_env
from benchmarks.harness import (
    Samples,
    Schedule,
    Summary,
    host_info,
    pace,
    print_table,
    summarize,
    write_json,
)
from waitbus import subscribe
from waitbus.demo import processes
from waitbus.event import Event

IMAGE = "waitbus-busybox:test"
POLL_S = 2.0


def start_daemon(state_dir: Path) -> subprocess.Popen[str]:
    argv = processes.waitbus_argv(state_dir, "serve", "--docker", "--listen-port", "off")
    return processes.start(argv, ready="serving", stream="stdout", env=child_env())


def subscriber(state_dir: Path, names: set[str], seen: dict[str, tuple[int, int]],
               done: threading.Event) -> None:
    """Record (die_ns, woke_ns) for each of our containers as the bus delivers it."""
    stream = cast(Generator[Event, None, None], subscribe(source="docker", state_dir=state_dir))
    with contextlib.closing(stream) as events:
        for event in events:
            woke_ns = time.time_ns()
            if event.subject in names:
                seen[event.subject] = (int(event.delivery_id.rsplit(":", 1)[1]), woke_ns)
            if len(seen) == len(names):
                break
    done.set()


def poller(prefix: str, found: dict[str, int], stop: threading.Event) -> None:
    """The polling baseline: `docker ps -a` every POLL_S, noting when each exit is first seen."""
    while not stop.is_set():
        listing = subprocess.run(
            ["docker", "ps", "-a", "--filter", f"name={prefix}", "--filter", "status=exited",
             "--format", "{{.Names}}"], capture_output=True, text=True, check=False)
        now = time.time_ns()
        for name in listing.stdout.split():
            found.setdefault(name, now)
        stop.wait(POLL_S)


def die_times(names: list[str]) -> dict[str, int]:
    """The engine's record of when each container died (for the poller's samples)."""
    out = subprocess.run(["docker", "inspect", "--format", "{{.Name}} {{.State.FinishedAt}}",
                          *names], capture_output=True, text=True, check=True).stdout
    times = {}
    for line in out.splitlines():
        name, finished = line.split()
        times[name.lstrip("/")] = _rfc3339_ns(finished)
    return times


def _rfc3339_ns(text: str) -> int:
    stamp, _, frac = text.rstrip("Z").partition(".")
    whole = time.strptime(stamp, "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(whole) * 1_000_000_000 + int((frac or "0").ljust(9, "0")[:9])


def run(n: int, rate_hz: float) -> dict[str, Summary]:
    prefix = f"wb-bench-{uuid.uuid4().hex[:6]}-"
    names = [f"{prefix}{i}" for i in range(n)]
    bus, polled = Samples("waitbus (docker source)", expected=n), Samples(
        f"docker ps every {POLL_S:g} s", expected=n, note="polling baseline")
    with tempfile.TemporaryDirectory(prefix="wbb-") as tmp:
        state_dir = Path(tmp) / "s"
        daemon = start_daemon(state_dir)
        seen: dict[str, tuple[int, int]] = {}
        found: dict[str, int] = {}
        done, stop = threading.Event(), threading.Event()
        threads = [threading.Thread(target=subscriber, args=(state_dir, set(names), seen, done),
                                    daemon=True),
                   threading.Thread(target=poller, args=(prefix, found, stop), daemon=True)]
        for thread in threads:
            thread.start()
        try:
            starts = []
            for name, intended in zip(names, Schedule(rate_hz=rate_hz, n=n).times_ns(),
                                      strict=True):
                pace(intended)
                starts.append(subprocess.Popen(
                    ["docker", "run", "-d", "--name", name, IMAGE, "sleep", "0.5"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            for proc in starts:
                proc.wait(60)
            done.wait(60)
            deadline = time.monotonic() + 2 * POLL_S + 5
            while len(found) < n and time.monotonic() < deadline:
                time.sleep(0.1)  # the baseline's own period decides; this only bounds the run
            stop.set()
            died = die_times(names)
        finally:
            subprocess.run(["docker", "rm", "-f", *names], capture_output=True, check=False)
            processes.stop(daemon)
    for die_ns, woke_ns in seen.values():
        bus.add(die_ns, woke_ns)
    for name, seen_ns in found.items():
        # The same reference as the bus where it has one: the engine's die timestamp.
        polled.add(seen[name][0] if name in seen else died[name], seen_ns)
    return {"bus": summarize(bus), "poll": summarize(polled)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="containers (one sample each)")
    parser.add_argument("--rate", type=float, default=2.0, help="container starts per second")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    result = run(args.n, args.rate)
    rows = [result["bus"], result["poll"]]
    print_table("container exit (engine die) -> subscriber wake, ms", rows)
    if args.json:
        write_json(args.json, {"host": host_info(), "scenarios": {"docker": result}})


if __name__ == "__main__":
    main()
