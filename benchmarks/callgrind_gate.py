"""Instruction counts of the hot paths under callgrind, compared against a committed baseline.

    uv run python -m benchmarks.callgrind_gate            # exit 1 on a regression
    uv run python -m benchmarks.callgrind_gate --update   # re-record the baseline

One process under `valgrind --tool=callgrind` builds every input, then runs each hot path
COUNT times between dump boundaries, so each path is counted alone (start-up and set-up fall
in a dump of their own). Instructions per operation repeat to a fraction of a percent where
wall time on a shared host varies by tens of percent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.callgrind_workload import COUNTS, HOT_PATHS

HERE = Path(__file__).absolute().parent
BASELINE = HERE / "callgrind_baseline.json"
THRESHOLD_PERCENT = 5.0


def interpreter() -> dict[str, str]:
    """What the counts depend on besides our code: a different one needs a new baseline."""
    return {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "machine": platform.machine()}


def measure(names: list[str]) -> dict[str, float]:
    """Instructions per operation of each named hot path, from one callgrind run."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": str(HERE.parent)}
    with tempfile.TemporaryDirectory(prefix="wb-cg-out-") as tmp:
        out = Path(tmp) / "callgrind.out"
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                "--dump-before=sched_yield", "--dump-instr=no",
                sys.executable, "-m", "benchmarks.callgrind_workload", *names]
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False,
                              cwd=HERE.parent)
        if done.returncode != 0:
            msg = f"callgrind run failed: {done.stderr[-2000:]}"
            raise RuntimeError(msg)
        # Dump 1 is start-up and set-up; dumps 2.. are the hot paths in order.
        parts = sorted(Path(tmp).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
        totals = [_total(part) for part in parts]
    if len(totals) < len(names) + 1:
        msg = f"expected {len(names) + 1} callgrind dumps, got {len(totals)}"
        raise RuntimeError(msg)
    return {name: totals[i + 1] / COUNTS[name] for i, name in enumerate(names)}


def _total(path: Path) -> int:
    for text in path.read_text().splitlines():
        if text.startswith(("totals:", "summary:")):
            return int(text.split()[1])
    msg = f"no totals line in {path}"
    raise RuntimeError(msg)


def compare(baseline: dict[str, Any], measured: dict[str, float],
            threshold: float) -> list[str]:
    """Print a line per hot path; return the names that regressed beyond `threshold` %."""
    failed = []
    print(f"{'hot path':<26} {'baseline':>12} {'now':>12} {'change':>8}")
    for name, now in measured.items():
        if name not in baseline["hot_paths"]:
            print(f"{name:<26} {'-':>12} {now:>12.0f}          new: record it with --update")
            continue
        was = baseline["hot_paths"][name]["instructions_per_op"]
        change = 100 * (now - was) / was
        verdict = "REGRESSED" if change > threshold else ("faster" if change < -threshold else "")
        print(f"{name:<26} {was:>12.0f} {now:>12.0f} {change:>+7.1f}% {verdict}")
        if change > threshold:
            failed.append(name)
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.callgrind_gate",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="write a new baseline")
    parser.add_argument("--only", action="append", choices=sorted(HOT_PATHS), default=[],
                        help="measure only this hot path (repeatable)")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--threshold", type=float, default=None,
                        help=f"percent over the baseline that fails (default: the baseline's, "
                        f"else {THRESHOLD_PERCENT:g})")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("callgrind gate: valgrind is not installed; install the Debian package valgrind",
              file=sys.stderr)
        return 2
    names = args.only or sorted(HOT_PATHS)
    measured = measure(names)
    if args.update:
        doc = {"threshold_percent": args.threshold or THRESHOLD_PERCENT, **interpreter(),
               "hot_paths": {n: {"instructions_per_op": round(v), "count": COUNTS[n]}
                             for n, v in measured.items()}}
        args.baseline.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {args.baseline}")
        return 0
    baseline = json.loads(args.baseline.read_text())
    drift = {k: (baseline.get(k), v) for k, v in interpreter().items() if baseline.get(k) != v}
    if drift:
        print(f"callgrind gate: the baseline was recorded on another interpreter {drift}; "
              "counts are not comparable: re-record with --update on this one", file=sys.stderr)
        return 2
    threshold = args.threshold or baseline.get("threshold_percent", THRESHOLD_PERCENT)
    failed = compare(baseline, measured, threshold)
    if failed:
        print(f"callgrind gate: {', '.join(failed)} regressed by more than {threshold:g}%")
        return 1
    print(f"callgrind gate: every hot path within +{threshold:g}% of the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
