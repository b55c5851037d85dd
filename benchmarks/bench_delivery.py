"""Delivery latency only, quickly: emit -> subscriber, fan-out (last receiver), wait exit.

    uv run python -m benchmarks.bench_delivery                   # waitbus beside redis
    uv run python -m benchmarks.bench_delivery --ab ../before    # this tree against another

With `--ab TREE` each repetition runs the scenarios once in TREE and once here, in turns
(each run has its own Redis beside it), and the report gives, per scenario and quantile, the
median over repetitions of waitbus / Redis for both trees. The other tree is measured with
this tree's benchmarks (copied over it), as `run_all --snapshot` does.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import bench_core
from benchmarks.children import child_env
from benchmarks.harness import Samples, Schedule, Summary, print_table, summarize, write_json
from benchmarks.targets import open_target

HERE = Path(__file__).absolute().parent
BROKERS = ("waitbus", "redis")
QUANTILES = ("p50", "p99")


def measure(fan_outs: tuple[int, ...], rounds: int, sub_n: int, fan_n: int,
            wait_n: int) -> dict[str, list[Summary]]:
    """Each scenario for waitbus and Redis, interleaved per round, one server each."""
    brokers = {name: open_target(name) for name in BROKERS}
    merged: dict[str, dict[str, Samples]] = {}

    def add(scenario: str, name: str, got: Samples) -> None:
        into = merged.setdefault(scenario, {})
        if name in into:
            into[name].extend(got)
        else:
            into[name] = got

    try:
        for r in range(rounds):
            for name in BROKERS[r % 2:] + BROKERS[: r % 2]:
                target = brokers[name]
                add("emit -> subscriber", name,
                    bench_core.fan_out(target, 1, Schedule(200.0, sub_n))[0])
                for count in fan_outs:
                    _, last = bench_core.fan_out(target, count, Schedule(100.0, fan_n))
                    add(f"fan-out to {count}, last receiver", name, last)
                if wait_n:
                    add("emit -> wait exit", name, bench_core.wait_exit(target, wait_n))
    finally:
        for target in brokers.values():
            target.close()
    return {s: [summarize(by[n]) for n in BROKERS] for s, by in merged.items()}


def ab(other: Path, args: argparse.Namespace) -> int:
    """Alternate runs of this tree and `other`; report median ratios to Redis per tree."""
    runs: dict[str, list[dict[str, list[Summary]]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="wb-ab-") as tmp:
        tree = Path(tmp) / "repo"
        shutil.copytree(other, tree, symlinks=True, ignore=shutil.ignore_patterns(
            ".venv", ".git", "__pycache__", "baselines", "dashboard"))
        shutil.rmtree(tree / "benchmarks", ignore_errors=True)
        shutil.copytree(HERE, tree / "benchmarks", ignore=shutil.ignore_patterns(
            "baselines", "dashboard", "__pycache__"))
        trees = {"before": tree, "after": HERE.parent}
        for rep in range(args.reps):
            for label in (("before", "after") if rep % 2 == 0 else ("after", "before")):
                out = Path(tmp) / f"{label}-{rep}.json"
                argv = [sys.executable, "-m", "benchmarks.bench_delivery", "--json", str(out),
                        *_plan_args(args)]
                env = {**child_env(), "PYTHONPATH": str(trees[label])}
                print(f"rep {rep + 1}/{args.reps}: {label}", file=sys.stderr, flush=True)
                subprocess.run(argv, cwd=trees[label], env=env, check=True,
                               stdout=subprocess.DEVNULL)
                runs[label].append(json.loads(out.read_text())["latency"])
    table = _median_ratios(runs)
    for scenario, by_label in table.items():
        cells = "  ".join(f"{label} " + " ".join(f"{q} {by_label[label][q]:.2f}x"
                                                 for q in QUANTILES) for label in by_label)
        print(f"{scenario:<34} {cells}")
    if args.json:
        write_json(args.json, {"ab": table, "runs": runs})
    return 0


def _median_ratios(runs: dict[str, list[dict[str, list[Summary]]]]
                   ) -> dict[str, dict[str, dict[str, float]]]:
    table: dict[str, dict[str, dict[str, float]]] = {}
    for label, docs in runs.items():
        for doc in docs:
            for scenario, rows in doc.items():
                wb, redis = rows[0], rows[1]
                cell = table.setdefault(scenario, {}).setdefault(label, {})
                for q in QUANTILES:
                    cell.setdefault(q, [])  # type: ignore[arg-type]
                    cell[q].append(wb[q] / redis[q])  # type: ignore[attr-defined]
    for by_label in table.values():
        for cell in by_label.values():
            for q in QUANTILES:
                cell[q] = statistics.median(cell[q])  # type: ignore[arg-type]
    return table


def _plan_args(args: argparse.Namespace) -> list[str]:
    return ["--rounds", str(args.rounds), "--sub-n", str(args.sub_n), "--fan-n",
            str(args.fan_n), "--wait-n", str(args.wait_n), "--fan-outs",
            ",".join(str(n) for n in args.fan_outs)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_delivery",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sub-n", type=int, default=1000, help="sends to one subscriber")
    parser.add_argument("--fan-n", type=int, default=200, help="sends per fan-out run")
    parser.add_argument("--wait-n", type=int, default=25, help="one-shot waiters (0: none)")
    parser.add_argument("--fan-outs", type=lambda s: tuple(int(n) for n in s.split(",") if n),
                        default=(10, 50))
    parser.add_argument("--ab", type=Path, help="another tree to measure in turns with this one")
    parser.add_argument("--reps", type=int, default=3, help="with --ab: runs of each tree")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.ab:
        return ab(args.ab, args)
    latency = measure(args.fan_outs, args.rounds, args.sub_n, args.fan_n, args.wait_n)
    for scenario, rows in latency.items():
        print_table(scenario, rows, subject="waitbus")
    if args.json:
        write_json(args.json, {"latency": latency})
    return 0


if __name__ == "__main__":
    sys.exit(main())
