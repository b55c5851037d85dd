"""One command for every scenario, waitbus beside its peers, interleaved: tables and JSON.

With every extra synced (`uv sync --all-extras`; the bridge benchmark needs nats-py):

    uv run --all-extras python -m benchmarks.run_all          # the full run (about ten minutes)
    uv run --all-extras python -m benchmarks.run_all --quick  # tiny n: does everything run?
    uv run --all-extras python -m benchmarks.run_all --only throughput --out /tmp/t.json
    uv run --all-extras python -m benchmarks.run_all --snapshot --commit C --only ingest
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import waitbus
from benchmarks import bench_core, bench_start, callgrind_gate, procstat
from benchmarks.callgrind_workload import EMIT_MANY, HOT_PATHS
from benchmarks.children import child_env
from benchmarks.harness import (
    Samples,
    Schedule,
    Summary,
    host_info,
    print_table,
    ratios,
    summarize,
    write_json,
)
from benchmarks.targets import InotifyTarget, PeerTarget, WaitbusTarget, open_target

HERE = Path(__file__).absolute().parent
BROKERS = ("waitbus", "redis", "nats")
# What a tool would do without a bus: poll. The intervals are common defaults, not measured.
POLLING = {
    "poll 1 s (docker ps, stat loop)": 1.0,
    "poll 3 s (gh run watch default)": 3.0,
    "poll 10 s (agent sleep loop)": 10.0,
}
# Per-source benchmarks other modules own: how to ask each for JSON, full and quick.
SOURCE_BENCHES = {
    "fs": (["--out"], ["--quick"]),
    "pytest": (["--out"], ["--quick"]),
    "github_webhook": (["--json"], ["--n", "20"]),
    "docker": (["--json"], ["--n", "3"]),
    "mcp": (["--json"], ["--n", "5"]),
    "watch": (["--json"], ["--n", "15", "--rounds", "3"]),
    "bridge": (["--json"], ["--quick"]),
}
# The targets of the issue this run answers: absolute limits in ms, and ratios to Redis
# measured in the same run.
TARGETS = {
    "emit -> wait exit": ("p99", 5.0),
    "process: emit, exec -> exit": ("p50", 25.0),
    "process: wait, exec -> subscribed": ("p50", 40.0),
}
RATIO_TARGETS = ("emit -> subscriber", "fan-out to 10, last receiver",
                 "fan-out to 50, last receiver")
MAX_RATIO_TO_REDIS = 1.5


@dataclass(frozen=True, slots=True)
class Plan:
    """How big each scenario is; `quick` shrinks every count to check wiring, not speed."""

    rounds: int = 2
    subscriber_n: int = 1000
    subscriber_hz: float = 200.0
    fan_out_n: int = 200
    fan_out_hz: float = 100.0
    fan_outs: tuple[int, ...] = (10, 50)
    wait_n: int = 25
    start_n: int = 25
    ingest_one: int = 20_000
    ingest_many: tuple[int, int] = (20, 2_000)
    burst: int = 100
    load_producers: int = 50
    load_hz: float = 200.0
    load_s: float = 5.0
    idle_s: float = 60.0

    @classmethod
    def quick(cls, idle_s: float) -> Plan:
        return cls(rounds=1, subscriber_n=20, fan_out_n=10, fan_outs=(3,), wait_n=3,
                   start_n=3, ingest_one=200, ingest_many=(3, 50), burst=10, load_producers=3,
                   load_s=0.5, idle_s=idle_s)


def interleaved(names: tuple[str, ...], rounds: int,
                run: Callable[[str], Samples]) -> list[Summary]:
    """Run each target once per round, rotating the order, and merge rounds per target."""
    merged: dict[str, Samples] = {}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            progress(f"round {r + 1}/{rounds}: {name}")
            got = run(name)
            if name in merged:
                merged[name].extend(got)
            else:
                merged[name] = got
    return [summarize(merged[name]) for name in names]


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def latency(plan: Plan, brokers: dict[str, WaitbusTarget | PeerTarget]) -> dict[str, list[Summary]]:
    out: dict[str, list[Summary]] = {}
    sub = Schedule(plan.subscriber_hz, plan.subscriber_n)
    out["emit -> subscriber"] = interleaved(
        BROKERS, plan.rounds, lambda n: bench_core.fan_out(brokers[n], 1, sub)[0])
    fan = Schedule(plan.fan_out_hz, plan.fan_out_n)
    for count in plan.fan_outs:
        last: dict[str, Samples] = {}

        def one(name: str, count: int = count, last: dict[str, Samples] = last) -> Samples:
            every, at_last = bench_core.fan_out(brokers[name], count, fan)
            if name in last:
                last[name].extend(at_last)
            else:
                last[name] = at_last
            return every

        out[f"fan-out to {count} subscribers"] = interleaved(BROKERS, plan.rounds, one)
        out[f"fan-out to {count}, last receiver"] = [summarize(last[n]) for n in BROKERS]
    progress(f"process start-up: {plan.start_n} of each")
    out.update(bench_start.measure(bench_start.runs(brokers["waitbus"], brokers["redis"]),
                                   plan.start_n, progress))
    inotify = InotifyTarget()
    try:
        waiters: dict[str, WaitbusTarget | PeerTarget | InotifyTarget] = {
            **brokers, "inotifywait": inotify}
        out["emit -> wait exit"] = interleaved(
            (*BROKERS, "inotifywait"), plan.rounds,
            lambda n: bench_core.wait_exit(waiters[n], plan.wait_n))
    finally:
        inotify.close()
    for name in ("emit -> subscriber", "emit -> wait exit"):
        out[name] += [bench_core.polling_baseline(label, s) for label, s in POLLING.items()]
    return out


def throughput(plan: Plan, brokers: dict[str, WaitbusTarget | PeerTarget],
               *, peers: bool = True) -> dict[str, Any]:
    wb = brokers["waitbus"]
    many, each = plan.ingest_many
    out: dict[str, Any] = {
        "ingest, 1 producer": bench_core.load(wb, 1, plan.ingest_one),
        f"ingest, {many} producers": bench_core.load(wb, many, each),
    }
    if hasattr(waitbus, "emit_many"):  # a commit measured with --snapshot may predate it
        out[f"ingest, emit_many of {plan.burst}"] = bench_core.load(
            wb, 1, plan.ingest_one * 5, burst=plan.burst)
        out[f"ingest, {many} producers, emit_many of {plan.burst}"] = bench_core.load(
            wb, many, each * 5, burst=plan.burst)
    if not peers:
        return out
    per = max(1, round(plan.load_hz * plan.load_s))
    out[f"{plan.load_producers} producers at {plan.load_hz:g} Hz"] = [
        bench_core.load(brokers[name], plan.load_producers, per, plan.load_hz)
        for name in BROKERS
    ]
    return out


def idle(plan: Plan) -> dict[str, dict[str, float]]:
    """Fresh servers, no clients, watched together: RSS, CPU and wakeups."""
    fresh = {name: open_target(name) for name in BROKERS}
    try:
        pids = {name: t.pid() for name, t in fresh.items()}
        return procstat.idle_costs(pids, plan.idle_s)
    finally:
        for t in fresh.values():
            t.close()


def source_rows(doc: dict[str, Any]) -> list[Summary]:
    """The summary rows of a per-source benchmark's JSON, whichever shape it wrote."""
    if "rows" in doc:
        return list(doc["rows"])
    rows: list[Summary] = []
    for scenario in doc.get("scenarios", {}).values():
        rows += [row for row in scenario.values() if isinstance(row, dict) and "p99" in row]
    return rows


def sources(names: list[str], quick: bool) -> dict[str, Any]:
    """Run each present per-source benchmark in a child; a failure is recorded, not fatal."""
    out: dict[str, Any] = {}
    for name in names:
        if not (HERE / f"bench_{name}.py").exists():
            continue
        flag, small = SOURCE_BENCHES[name]
        with tempfile.TemporaryDirectory(prefix="wb-src-") as tmp:
            path = Path(tmp) / "out.json"
            argv = [sys.executable, "-m", f"benchmarks.bench_{name}", *flag, str(path),
                    *(small if quick else [])]
            done = subprocess.run(argv, capture_output=True, text=True, env=child_env(),
                                  cwd=HERE.parent, timeout=900, check=False)
            if done.returncode != 0 or not path.exists():
                out[name] = {"failed": f"exit {done.returncode}: {done.stderr[-1500:]}"}
                continue
            out[name] = {"rows": source_rows(json.loads(path.read_text()))}
    return out


def verdicts(doc: dict[str, Any], plan: Plan) -> dict[str, dict[str, Any]]:
    """Each issue target beside what was measured, met or not."""
    out: dict[str, dict[str, Any]] = {}
    for scenario, (col, limit_ms) in TARGETS.items():
        rows = doc.get("latency", {}).get(scenario)
        if rows:
            got = rows[0][col]
            out[f"{scenario} {col} <= {limit_ms:g} ms"] = {
                "measured": got, "met": got is not None and got <= limit_ms}
    for scenario in RATIO_TARGETS:
        ratio = doc.get("ratios", {}).get(scenario, {}).get("redis", {})
        for col in ("p50", "p99"):
            if ratio.get(col) is not None:
                out[f"{scenario} {col} <= {MAX_RATIO_TO_REDIS:g}x Redis"] = {
                    "measured": ratio[col], "met": ratio[col] <= MAX_RATIO_TO_REDIS}
    many = plan.ingest_many[0]
    for key, want in (("ingest, 1 producer", 10_000), (f"ingest, {many} producers", 20_000),
                      (f"ingest, emit_many of {plan.burst}", 100_000)):
        row = doc["throughput"].get(key)
        if row is None:
            continue
        out[f"{key} >= {want}/s, zero loss"] = {
            "measured": row["per_s"], "lost": row["lost"], "lost_in_store": row["lost_in_store"],
            "met": row["per_s"] >= want and row["lost"] == 0 and row["lost_in_store"] == 0}
    if "idle" not in doc:
        return out
    wb = doc["idle"]["waitbus"]
    out["idle RSS < 20 MB"] = {"measured": wb["rss_mb"], "met": wb["rss_mb"] < 20}
    out["zero wakeups in an idle minute"] = {"measured": wb["wakeups_per_min"],
                                             "met": wb["wakeups"] == 0}
    return out


def report(doc: dict[str, Any]) -> None:
    for scenario, rows in doc.get("latency", {}).items():
        print_table(scenario, rows, subject="waitbus")
        cpu = [f"{r['label']} server {r['server_cpu_us']:.0f} us, each receiver "
               f"{r['client_cpu_us']:.0f} us" for r in rows if "server_cpu_us" in r]
        if cpu:
            print("CPU per delivery: " + "; ".join(cpu))
    for name, result in doc.get("sources", {}).items():
        if "failed" in result:
            print(f"\n== source {name}: FAILED {result['failed']}")
        else:
            print_table(f"source {name}", result["rows"])
    print("\n== throughput and CPU under load")
    for name, value in doc["throughput"].items():
        for row in value if isinstance(value, list) else [value]:
            print(f"{name:<28} {row['label']:<8} {row['per_s']:>10.0f}/s  lost {row['lost']}  "
                  f"server CPU {row['server_cpu_percent']:.1f}%  "
                  f"producers CPU {row['producers_cpu_s']:.2f} s  "
                  f"subscriber CPU {row.get('subscriber_cpu_s', 0):.2f} s  "
                  f"late max {row['late_max_ms']:.1f} ms")
    if "idle" in doc:
        print(f"\n== idle for {doc['plan']['idle_s']:g} s (costs, published as losses too)")
    for name, row in doc.get("idle", {}).items():
        print(f"{name:<8} RSS {row['rss_mb']:6.1f} MB  CPU {row['cpu_percent']:.3f}%  "
              f"wakeups/min {row['wakeups_per_min']:.1f}")
    print("\n== targets")
    for name, row in doc["targets"].items():
        print(f"{'met ' if row['met'] else 'MISSED'} {name}: measured {row['measured']}")


def run(plan: Plan, source_names: list[str], only: str = "") -> dict[str, Any]:
    doc: dict[str, Any] = {"host": host_info(), "plan": plan_json(plan),
                           "started_ns": time.time_ns()}
    if only in ("throughput", "ingest"):
        return only_throughput(plan, doc, peers=only == "throughput")
    bench_start.precompile()
    progress(f"idle costs over {plan.idle_s:g} s")
    doc["idle"] = idle(plan)
    brokers: dict[str, WaitbusTarget | PeerTarget] = {}
    try:
        for name in BROKERS:
            brokers[name] = open_target(name)
        doc["latency"] = latency(plan, brokers)
        progress("throughput and CPU under load")
        doc["throughput"] = throughput(plan, brokers)
        doc["rss_after_mb"] = {n: procstat.rss_kb(t.pid()) / 1024 for n, t in brokers.items()}
    finally:
        for target in brokers.values():
            target.close()
    progress(f"per-source benchmarks: {', '.join(source_names) or 'none'}")
    doc["sources"] = sources(source_names, plan.rounds == 1)
    if plan.rounds > 1 and shutil.which("valgrind"):
        progress("hot-path instruction counts")
        # A commit measured with --snapshot may predate a hot path; a failure here is recorded.
        names = sorted(n for n in HOT_PATHS if n != EMIT_MANY or hasattr(waitbus, "emit_many"))
        try:
            doc["instructions"] = callgrind_gate.measure(names)
        except RuntimeError as exc:
            doc["instructions_failed"] = str(exc)[-1500:]
    doc["ratios"] = {s: ratios(rows, "waitbus") for s, rows in doc["latency"].items()}
    doc["targets"] = verdicts(doc, plan)
    doc["duration_s"] = (time.time_ns() - doc["started_ns"]) / 1e9
    return doc


def only_throughput(plan: Plan, doc: dict[str, Any], *, peers: bool) -> dict[str, Any]:
    """The throughput section alone (A/B runs): no idle, latency, sources or counts; `ingest`
    (peers=False) leaves out the paced many-producer rows, whose peers need their servers."""
    brokers: dict[str, WaitbusTarget | PeerTarget] = {}
    try:
        for name in BROKERS if peers else ("waitbus",):
            brokers[name] = open_target(name)
        progress("throughput and CPU under load")
        doc["throughput"] = throughput(plan, brokers, peers=peers)
    finally:
        for target in brokers.values():
            target.close()
    doc["targets"] = verdicts(doc, plan)
    doc["duration_s"] = (time.time_ns() - doc["started_ns"]) / 1e9
    return doc


def plan_json(plan: Plan) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in plan.__dataclass_fields__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_all", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny counts: check, not measure")
    parser.add_argument("--idle-s", type=float, default=60.0, help="idle watch (default 60 s)")
    parser.add_argument("--out", type=Path, help="JSON path (default: baselines/<commit>.json)")
    parser.add_argument("--sources", default="all",
                        help="per-source benchmarks to run: all, none, or a list like fs,pytest")
    parser.add_argument("--only", choices=("throughput", "ingest"),
                        help="run one section alone: throughput, or ingest (its waitbus rows)")
    parser.add_argument("--snapshot", action="store_true",
                        help="measure the committed HEAD, exported apart from the work tree")
    parser.add_argument("--commit", default="HEAD",
                        help="with --snapshot: the commit to measure (default HEAD)")
    args = parser.parse_args(argv)
    if args.snapshot:
        return in_snapshot(args)
    plan = Plan.quick(args.idle_s) if args.quick else Plan(idle_s=args.idle_s)
    names = {"all": list(SOURCE_BENCHES), "none": []}.get(args.sources,
                                                          args.sources.split(","))
    unknown = set(names) - set(SOURCE_BENCHES)
    if unknown:
        parser.error(f"unknown sources {sorted(unknown)}; known: {', '.join(SOURCE_BENCHES)}")
    doc = run(plan, names, args.only or "")
    report(doc)
    commit = (doc["host"]["commit"] or "unknown")[:12]
    path = write_json(args.out or HERE / "baselines" / f"{commit}.json", doc)
    print(f"\nwrote {path}")
    return 0


def in_snapshot(args: argparse.Namespace) -> int:
    """Export a commit with `git archive` and measure it there, apart from the work tree.

    The benchmarks themselves are today's, copied over the export, so an old commit is
    measured the same way as a new one (that is how an older commit's run is added after the fact).
    """
    repo = HERE.parent
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", args.commit],
                            capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="wb-snap-") as tmp:
        tree = Path(tmp) / "repo"
        tree.mkdir()
        archive = subprocess.run(["git", "-C", str(repo), "archive", commit],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        shutil.rmtree(tree / "benchmarks", ignore_errors=True)
        shutil.copytree(HERE, tree / "benchmarks", ignore=shutil.ignore_patterns(
            "baselines", "dashboard", "__pycache__"))
        # Older commits kept their webhook fixtures outside the repository; the benchmarks
        # read today's copy, which is the same data.
        shutil.rmtree(tree / "tests" / "fixtures", ignore_errors=True)
        shutil.copytree(repo / "tests" / "fixtures", tree / "tests" / "fixtures")
        argv = [sys.executable, "-m", "benchmarks.run_all", "--idle-s", str(args.idle_s),
                "--sources", args.sources, *(["--only", args.only] if args.only else []),
                "--out", str((args.out or HERE / "baselines" / f"{commit[:12]}.json").absolute())]
        if args.quick:
            argv.append("--quick")
        env = {**os.environ, "WAITBUS_BENCH_COMMIT": commit, "PYTHONPATH": str(tree)}
        return subprocess.run(argv, cwd=tree, env=env, check=False).returncode

if __name__ == "__main__":
    sys.exit(main())
