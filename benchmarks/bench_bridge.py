"""The NATS bridge: emit on host A -> subscriber on host B, beside raw core NATS, open loop.

    uv run python -m benchmarks.bench_bridge                  # full run (about 3 minutes)
    uv run python -m benchmarks.bench_bridge --quick          # wiring check (about 30 s)

One nats-server -js on loopback; two state directories play hosts a and b, each with its own
`waitbus serve` and `waitbus bridge nats`. In every round:

- bridge: this process emits on a at `--rate` per second on a fixed schedule (durable commit
  on a, export, JetStream, import and commit on b, fan-out on b); a `waitbus.subscribe`
  process on b records each arrival. Latency is the arrival minus the emit's intended time.
- core NATS: the same schedule published with PUB on a core subject of the same server to a
  subscriber process (no JetStream, nothing stored): the floor of "one process tells another
  through this server".

Then the export rate: `--backlog` events committed on a while its bridge is stopped, then the
bridge started: the time until a's export cursor reaches its head (every event acknowledged by
JetStream) and until b holds all of them, with the loss counted on b. Last, every process idle
for `--idle-s`: RSS, wakeups (context switches of all threads) and CPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import procstat
from benchmarks.children import child_env, spawn, worker
from benchmarks.harness import (
    Samples,
    Schedule,
    host_info,
    pace,
    print_table,
    ratios,
    summarize,
    write_json,
)
from benchmarks.peers import NatsClient, free_port
from waitbus import api
from waitbus.demo import processes
from waitbus.paths import resolve
from waitbus.store.store import Store

SUBJECT = b"bench"
BRIDGE = "bridge a -> b"
CORE = "core NATS pub/sub"


class Bus:
    """nats-server -js, and hosts a and b with a daemon and a bridge each."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        conf = root / "nats.conf"
        conf.write_text(f'listen: "127.0.0.1:{self.port}"\n'
                        f'jetstream {{ store_dir: "{root / "js"}" }}\n')
        self.daemons: dict[str, subprocess.Popen[str]] = {}
        self.bridges: dict[str, subprocess.Popen[str]] = {}
        self.nats = spawn(["nats-server", "-c", str(conf)], ready="Server is ready")
        try:
            for name in ("a", "b"):
                self.daemons[name] = processes.start(
                    processes.waitbus_argv(root / name, "serve", "--listen-port", "off"),
                    ready="serving", stream="stdout", env=child_env())
            for name in ("a", "b"):
                self.start_bridge(name)
        except BaseException:
            self.close()  # a bridge that cannot start (no nats-py) leaves nothing running
            raise

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start_bridge(self, name: str) -> None:
        argv = processes.waitbus_argv(self.root / name, "bridge", "nats", "--url", self.url,
                                      "--host", name)
        self.bridges[name] = processes.start(argv, ready="bridge connected", stream="stdout",
                                             env=child_env())

    def stop_bridge(self, name: str) -> None:
        processes.stop(self.bridges.pop(name))

    def close(self) -> None:
        for proc in (*self.bridges.values(), *self.daemons.values(), self.nats):
            processes.stop(proc)


def bridge_round(bus: Bus, n: int, rate_hz: float, base: int) -> Samples:
    sub = spawn(worker("subscribe", "waitbus", "--state-dir", str(bus.root / "b")),
                ready="live at cursor")
    samples = Samples(BRIDGE, expected=n)
    times = Schedule(rate_hz=rate_hz, n=n).times_ns()
    for seq, intended in enumerate(times):
        pace(intended)
        api.emit("bench", "tick", fields={"seq": base + seq}, state_dir=bus.root / "a")
    api.emit("bench", "stop", state_dir=bus.root / "a")
    received = _collect(sub)
    for seq, intended in enumerate(times):
        if (at := received.get(str(base + seq))) is not None:
            samples.add(intended, at)
    return samples


def core_round(bus: Bus, n: int, rate_hz: float) -> Samples:
    sub = spawn(worker("subscribe", "nats", "--port", str(bus.port)), ready="ready")
    client = NatsClient(bus.port)
    samples = Samples(CORE, expected=n)
    times = Schedule(rate_hz=rate_hz, n=n).times_ns()
    for seq, intended in enumerate(times):
        pace(intended)
        client.publish(SUBJECT, str(seq).encode())
    client.publish(SUBJECT, b"stop")
    client.flush()
    client.close()
    received = _collect(sub)
    for seq, intended in enumerate(times):
        if (at := received.get(str(seq))) is not None:
            samples.add(intended, at)
    return samples


def _collect(sub: subprocess.Popen[str], timeout_s: float = 120.0) -> dict[str, int]:
    out, _ = sub.communicate(timeout=timeout_s)
    found: dict[str, int] = json.loads(out)["received"]
    return found


def export_rate(bus: Bus, backlog: int) -> dict[str, Any]:
    """Commit `backlog` events on a with its bridge stopped, then time the catch-up."""
    a, b = resolve(bus.root / "a"), resolve(bus.root / "b")
    bus.stop_bridge("a")
    tag = time.monotonic_ns()
    for seq in range(backlog):
        api.emit("drain", "tick", fields={"seq": seq, "tag": tag}, state_dir=bus.root / "a")
    with Store(a, read_only=True) as store:
        head = store.head()
    bus.start_bridge("a")
    # From the bridge's ready line: connected, stream checked, about to export.
    started = time.monotonic_ns()
    exported_at = None
    with Store(a, read_only=True) as store:
        while exported_at is None:
            if store.bridges()["nats"][0] >= head:
                exported_at = time.monotonic_ns()
            else:
                time.sleep(0.005)  # a benchmark's sampling interval, not a test's wait
    last = api.wait_for([f"fields.seq={backlog - 1}", f"fields.tag={tag}"], source="drain",
                        since=0, state_dir=bus.root / "b", timeout_s=600)
    imported_at = time.monotonic_ns()
    with Store(b, read_only=True) as store:
        held = [e for e in store.read_after(0, limit=10 * backlog + 1000)
                if e.source == "drain" and e.fields.get("tag") == tag]
    seqs = [e.fields["seq"] for e in held]
    export_s = (exported_at - started) / 1e9
    total_s = (imported_at - started) / 1e9
    return {"events": backlog, "export_s": export_s, "export_per_s": backlog / export_s,
            "a_to_b_s": total_s, "a_to_b_per_s": backlog / total_s,
            "lost_on_b": backlog - len(set(seqs)), "duplicates_on_b": len(seqs) - len(set(seqs)),
            "in_order_on_b": seqs == sorted(seqs), "last_cursor_on_b": last.cursor}


def idle(bus: Bus, idle_s: float) -> dict[str, dict[str, float]]:
    pids = {"bridge a": bus.bridges["a"].pid, "bridge b": bus.bridges["b"].pid,
            "daemon a": bus.daemons["a"].pid, "nats-server": bus.nats.pid}
    return procstat.idle_costs(pids, idle_s)


def run(n: int, rate_hz: float, rounds: int, backlog: int, idle_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wbb-") as tmp:
        bus = Bus(Path(tmp))
        try:
            merged = {BRIDGE: Samples(BRIDGE, 0), CORE: Samples(CORE, 0)}
            for index in range(rounds):
                order = [BRIDGE, CORE] if index % 2 == 0 else [CORE, BRIDGE]
                for label in order:
                    got = (bridge_round(bus, n, rate_hz, index * n) if label == BRIDGE
                           else core_round(bus, n, rate_hz))
                    merged[label].extend(got)
                print(f"round {index + 1}/{rounds} done", file=sys.stderr, flush=True)
            rows = [summarize(merged[BRIDGE]), summarize(merged[CORE])]
            drain = export_rate(bus, backlog)
            costs = idle(bus, idle_s)
        finally:
            bus.close()
    return {"latency": rows, "ratios": ratios(rows, BRIDGE), "rate_hz": rate_hz,
            "export": drain, "idle": costs}


def report(result: dict[str, Any]) -> None:
    print_table(f"emit on a -> subscriber on b, open loop at {result['rate_hz']:g}/s",
                result["latency"])
    drain = result["export"]
    print(f"\n== export of a {drain['events']}-event backlog")
    print(f"exported (JetStream acknowledged every event) in {drain['export_s']:.2f} s: "
          f"{drain['export_per_s']:.0f} events/s")
    print(f"all on b in {drain['a_to_b_s']:.2f} s: {drain['a_to_b_per_s']:.0f} events/s; "
          f"lost {drain['lost_on_b']}, duplicates {drain['duplicates_on_b']}, "
          f"in order {drain['in_order_on_b']}")
    print("\n== idle")
    for name, cost in result["idle"].items():
        print(f"{name:<12} rss {cost['rss_mb']:6.1f} MB  wakeups {cost['wakeups']:4.0f} in "
              f"{cost['duration_s']:.0f} s  cpu {cost['cpu_percent']:.2f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="events per round and target")
    parser.add_argument("--rate", type=float, default=100.0, help="events per second")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--backlog", type=int, default=5000)
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument("--quick", action="store_true", help="tiny counts: wiring, not speed")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.quick:
        args.n, args.rounds, args.backlog, args.idle_s = 20, 1, 200, 2.0
    result = run(args.n, args.rate, args.rounds, args.backlog, args.idle_s)
    report(result)
    if args.json:
        latency = {str(row["label"]): row for row in result["latency"]}
        scenarios: dict[str, Any] = {"bridge": latency, "bridge export": result["export"],
                                     "bridge idle": result["idle"]}
        write_json(args.json, {"host": host_info(), "scenarios": scenarios,
                               "ratios": result["ratios"]})


if __name__ == "__main__":
    main()
