"""Retention under load: a large store pruned to a size bound while producers emit and a
follower reads. Reports emit latency before, during and after the pass, the file size, and
what the follower missed (it must miss nothing).

    uv run python -m benchmarks.bench_retention                    # 1M events, 20 producers
    uv run python -m benchmarks.bench_retention --events 60000 --producers 4 --bound 12MiB

Phases, all with the same open-loop producers running: A, a daemon with retention off; then
the daemon restarts with `--retain-bytes BOUND` and B is its first retention pass (from its
start until it logs the pass); C, the same daemon afterwards. Emit latency is the time from
each emit's intended send time to its commit returning.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.children import child_env, spawn
from benchmarks.harness import Samples, host_info, pace, print_table, summarize, write_json
from waitbus.demo import processes

ROLE_TIMEOUT_S = 3600.0
FILL_BATCH_ROWS = 20_000


def prefill(state_dir: Path, events: int, pad_bytes: int) -> int:
    """Commit `events` old events in large transactions (setup, not measured); return head."""
    from waitbus.paths import StatePaths
    from waitbus.store.store import Store

    fields_pad = "x" * pad_bytes
    start_ns = time.time_ns() - events * 1000
    with Store(StatePaths(state_dir)) as store, store.maintenance() as db:
        for first in range(0, events, FILL_BATCH_ROWS):
            rows = [(uuid.uuid4().hex, "fill", "old", f"s{n % 50}", "success",
                     start_ns + n * 1000, json.dumps({"n": n, "pad": fields_pad}))
                    for n in range(first, min(events, first + FILL_BATCH_ROWS))]
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO events (delivery_id, source, type, subject, conclusion,"
                           " received_at, fields) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with Store(StatePaths(state_dir)) as store:
        return store.head()


def store_bytes(state_dir: Path) -> int:
    """events.db plus its WAL, as the file system counts them."""
    total = 0
    for name in ("events.db", "events.db-wal"):
        with contextlib.suppress(FileNotFoundError):
            total += (state_dir / name).stat().st_size
    return total


def _serve(state_dir: Path, *retain: str) -> subprocess.Popen[str]:
    argv = processes.waitbus_argv(state_dir, "-v", "serve", "--listen-port", "off",
                                  "--retain-age", "off", "--retain-rows", "off", *retain)
    return processes.start(argv, ready="serving", stream="stdout", timeout_s=60.0,
                           env=child_env())


def _role(*args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.bench_retention", *args]


def run(*, events: int, producers: int, rate_hz: float, bound_bytes: int, pad_bytes: int,
        phase_s: float, state_dir: Path) -> dict[str, Any]:
    """The whole scenario in `state_dir`; returns the figures (see the module docstring)."""
    head = prefill(state_dir, events, pad_bytes)
    filled_bytes = store_bytes(state_dir)
    daemon = _serve(state_dir, "--retain-bytes", "off")
    follower = spawn(_role("follow", str(state_dir), str(head)), ready="live at cursor",
                     timeout_s=60.0)
    makers = _producers(state_dir, producers, rate_hz)
    try:
        for proc in makers:
            _say(proc, "go")
        time.sleep(phase_s)  # the benchmark's own clock: phase A runs this long
        processes.stop(daemon)
        pass_started = time.monotonic_ns()
        daemon = _serve(state_dir, "--retain-bytes", str(bound_bytes))
        assert daemon.stderr is not None
        line, said = _await_line(daemon, "retention pruned")
        pass_ended = time.monotonic_ns()
        if line is None:
            msg = "the daemon never reported its retention pass; it said:\n" + "\n".join(said)
            raise RuntimeError(msg)
        bytes_after_pass = store_bytes(state_dir)
        time.sleep(phase_s)  # phase C
        for proc in makers:
            _say(proc, "stop")
        made = [_result(proc) for proc in makers]
        subprocess.run(processes.waitbus_argv(state_dir, "emit", "--source", "bench",
                                              "--type", "stop"), check=True, env=child_env(),
                       capture_output=True)
        seen = _result(follower)["received"]
    finally:
        for proc in (*makers, follower, daemon):
            processes.stop(proc)
    return _figures(made, seen, line, pass_started, pass_ended, filled_bytes,
                    bytes_after_pass, store_bytes(state_dir), events, bound_bytes)


def _figures(made: list[dict[str, Any]], seen: list[str], line: str, pass_started: int,
             pass_ended: int, filled: int, after_pass: int, at_end: int, events: int,
             bound: int) -> dict[str, Any]:
    phases = {name: Samples(name, expected=0) for name in ("A: retention off",
                                                           "B: during the pass",
                                                           "C: after the pass")}
    sent: set[str] = set()
    for result in made:
        for seq, (intended, latency) in enumerate(result["samples"]):
            sent.add(f"{result['tag']}-{seq}")
            phase = ("A: retention off" if intended < pass_started else
                     "B: during the pass" if intended <= pass_ended else "C: after the pass")
            phases[phase].expected += 1
            phases[phase].latencies_ns.append(latency)
    lost = sorted(sent - set(seen))
    return {
        "events_prefilled": events, "bound_bytes": bound, "bytes_before": filled,
        "bytes_after_pass": after_pass, "bytes_at_end": at_end,
        "pass_s": (pass_ended - pass_started) / 1e9, "pass_log": line.strip(),
        "emitted_live": len(sent), "follower_received": len(set(seen)),
        "lost": len(lost), "lost_sample": lost[:10],
        "emit_latency": [summarize(s) for s in phases.values()],
    }


def _producers(state_dir: Path, count: int, rate_hz: float) -> list[subprocess.Popen[str]]:
    """Start every producer, then return once each is ready for "go" on its stdin."""
    procs = [subprocess.Popen(_role("produce", str(state_dir), str(tag), str(rate_hz)),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=child_env())
             for tag in range(count)]
    for proc in procs:
        assert proc.stderr is not None
        if processes.read_until(proc.stderr, "ready", 60.0) is None:
            for other in procs:
                processes.stop(other)
            msg = f"producer {proc.args!r} did not start"
            raise RuntimeError(msg)
    return procs


def _await_line(proc: subprocess.Popen[str], needle: str) -> tuple[str | None, list[str]]:
    """The first stderr line with `needle`, and the lines before it (for a failure's message)."""
    assert proc.stderr is not None
    said: list[str] = []
    deadline = time.monotonic() + ROLE_TIMEOUT_S
    while (left := deadline - time.monotonic()) > 0:
        line = processes.read_until(proc.stderr, "", left)
        if line is None:
            break
        if needle in line:
            return line, said
        said = [*said[-30:], line]
    return None, said


def _say(proc: subprocess.Popen[str], word: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(word + "\n")
    proc.stdin.flush()


def _result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=ROLE_TIMEOUT_S)
    if proc.returncode != 0:
        msg = f"{proc.args!r} exited {proc.returncode}: {err[-2000:]}"
        raise RuntimeError(msg)
    value: dict[str, Any] = json.loads(out)
    return value


def produce(state_dir: str, tag: int, rate_hz: float) -> int:
    """Emit at `rate_hz` (open loop) from "go" until "stop"; print [intended, latency] pairs."""
    import waitbus

    step_ns = round(1e9 / rate_hz)
    # The first emit opens the store; it is start-up, not a sample.
    waitbus.emit("warm-up", "open", state_dir=state_dir)
    print("ready", file=sys.stderr, flush=True)
    sys.stdin.readline()
    start = time.monotonic_ns()
    samples: list[tuple[int, int]] = []
    for seq in range(sys.maxsize):
        intended = start + seq * step_ns
        pace(intended, spin_ns=0)
        waitbus.emit("bench", "load", fields={"p": tag, "seq": seq}, state_dir=state_dir)
        samples.append((intended, time.monotonic_ns() - intended))
        if select.select([sys.stdin], [], [], 0)[0]:
            break
    json.dump({"tag": tag, "samples": samples}, sys.stdout)
    return 0


def follow(state_dir: str, since: int) -> int:
    """Read every bench event after `since` until a stop event; print what arrived."""
    import logging

    import waitbus

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    received: list[str] = []
    for event in waitbus.subscribe(source="bench", since=since, state_dir=state_dir,
                                   reconnect_s=120.0):
        if event.type == "stop":
            break
        received.append(f"{event.fields['p']}-{event.fields['seq']}")
    json.dump({"received": received}, sys.stdout)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "produce":
        return produce(args[1], int(args[2]), float(args[3]))
    if args and args[0] == "follow":
        return follow(args[1], int(args[2]))
    from waitbus.cli.retention import byte_count

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_retention")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--producers", type=int, default=20)
    parser.add_argument("--rate", type=float, default=50.0, help="emits/s per producer")
    parser.add_argument("--bound", default="64MiB", help="the size bound the daemon enforces")
    parser.add_argument("--pad", type=int, default=200, help="bytes of filler per event")
    parser.add_argument("--phase-s", type=float, default=15.0)
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    parsed = parser.parse_args(args)
    with tempfile.TemporaryDirectory(prefix="wb-ret-") as tmp:
        figures = run(events=parsed.events, producers=parsed.producers, rate_hz=parsed.rate,
                      bound_bytes=byte_count(parsed.bound), pad_bytes=parsed.pad,
                      phase_s=parsed.phase_s, state_dir=Path(tmp) / "s")
    print_table(f"emit latency, {parsed.producers} producers x {parsed.rate:g}/s",
                figures["emit_latency"])
    shown = {k: v for k, v in figures.items() if k != "emit_latency"}
    print(json.dumps(shown, indent=2))
    if parsed.json:
        write_json(Path(parsed.json), {"host": host_info(), "retention": figures})
    return 0 if figures["lost"] == 0 else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
