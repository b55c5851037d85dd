"""Hook cost: a client invoking `waitbus hook-event` -> the hook's exit, open loop.

    uv run python -m benchmarks.bench_hook --n 200 --rate 10

What an agent client pays per hook call. Each call is started as Claude Code, Codex CLI and
Gemini CLI start a command hook: `sh -c COMMAND` with the JSON payload on stdin, stdin then
closed; latency is the process's exit minus the call's intended start time (the schedule is
fixed in advance, so a slow call delays nothing it would not delay in a client). Targets run in
interleaved rounds, so the host's other work falls on each alike.

- hook, daemon: `waitbus hook-event claude` with a daemon serving the state directory.
- hook, no daemon: the same with no daemon (the event is stored, not fanned out).
- hook, unwritable store: the state directory cannot be created (it exits 0 all the same).
- python -c pass: the interpreter's own start and exit, the floor for any Python hook.
- sh cat: `cat >/dev/null`, the floor for any hook at all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

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
from waitbus.demo import processes
from waitbus.integrations.hooks import waitbus_executable

PAYLOAD = json.dumps({"session_id": "bench", "hook_event_name": "Stop", "cwd": str(Path.cwd()),
                      "turn_id": None, "stop_hook_active": False}).encode()


def _round(label: str, command: str, schedule: Schedule) -> Samples:
    samples = Samples(label, schedule.n)
    lock = threading.Lock()
    threads = []

    def reap(proc: subprocess.Popen[bytes], intended_ns: int) -> None:
        proc.wait()
        exited_ns = time.monotonic_ns()
        with lock:
            samples.add(intended_ns, exited_ns)

    for intended_ns in schedule.times_ns():
        pace(intended_ns)
        proc = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # a target that reads no stdin
            proc.stdin.write(PAYLOAD)
            proc.stdin.close()
        thread = threading.Thread(target=reap, args=(proc, intended_ns))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=60)
    return samples


def run(n: int, rate_hz: float, rounds: int) -> list[Summary]:
    exe = waitbus_executable()
    with tempfile.TemporaryDirectory(prefix="wb-hook-") as tmp:
        served, unserved = Path(tmp) / "served", Path(tmp) / "unserved"
        blocked = Path(tmp) / "file"
        blocked.write_text("")
        hook = f"{shlex.quote(exe)} --state-dir {{}} hook-event claude"
        targets = {
            "hook, daemon": hook.format(shlex.quote(str(served))),
            "hook, no daemon": hook.format(shlex.quote(str(unserved))),
            "hook, unwritable store": hook.format(shlex.quote(str(blocked / "state"))),
            "python -c pass": f"{shlex.quote(sys.executable)} -c pass",
            "sh cat": "cat >/dev/null",
        }
        daemon = processes.start(processes.waitbus_argv(served, "serve", "--listen-port", "off"),
                                 ready="serving", stream="stdout")
        try:
            merged: dict[str, Samples] = {}
            per_round = max(1, n // rounds)
            for _ in range(rounds):
                for label, command in targets.items():
                    got = _round(label, command, Schedule(rate_hz, per_round))
                    if label in merged:
                        merged[label].extend(got)
                    else:
                        merged[label] = got
        finally:
            processes.stop(daemon)
    return [summarize(samples) for samples in merged.values()]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="hook calls per target")
    parser.add_argument("--rate", type=float, default=10.0, help="hook calls per second")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rows = run(args.n, args.rate, args.rounds)
    print_table(f"hook call -> hook exit, open loop at {args.rate:g}/s", rows)
    if args.json:
        write_json(args.json, {"host": host_info(), "rows": rows})
    print(json.dumps({row["label"]: {"p50": row["p50"], "p99": row["p99"], "n": row["n"]}
                      for row in rows}))


if __name__ == "__main__":
    main()
