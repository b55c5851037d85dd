"""Emit -> line printed by `waitbus watch`, open loop, beside `tail -f` and redis-cli.

    uv run python -m benchmarks.bench_watch --n 500 --rate 100

What an agent's Monitor tool sees: a process that prints one line per event on its stdout.
One real daemon; each target is a long-running process whose stdout this process reads
through a pipe, stamping each line as it is read. Emits go out on a fixed schedule from a
thread, and latency is a line's arrival minus its emit's intended time. Targets run in
interleaved rounds, so whatever else the host does falls on each alike.

- waitbus watch: `waitbus watch --source S` (the default line, marked untrusted data).
- waitbus tail -f: `waitbus tail -f --source S`, the same feed with the plain line.
- redis-cli: `redis-cli --raw subscribe CH` on a loopback redis-server, fed by PUBLISH; in
  memory and not durable, so a floor, not a like-for-like peer.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.children import child_env, spawn
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
from benchmarks.peers import RedisClient, Server, start_redis
from waitbus import emit
from waitbus.demo import processes

CHANNEL = b"bench-watch"
_SEQ_IN_DATA = re.compile(r'"seq":(\d+)')
_SEQ_IN_TAIL = re.compile(r"#\d+ bench-tail/tick (\d+)")


@dataclass
class Lines:
    """Reads a child's stdout on a thread and stamps each line as it is read."""

    proc: subprocess.Popen[str]
    seq_of: Callable[[str], int | None]
    arrived: dict[int, int] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        pending = b""
        while chunk := os.read(fd, 65536):
            now = time.monotonic_ns()
            pending += chunk
            *complete, pending = pending.split(b"\n")
            with self.changed:
                for raw in complete:
                    seq = self.seq_of(raw.decode(errors="replace"))
                    if seq is not None:
                        self.arrived.setdefault(seq, now)
                self.changed.notify_all()

    def wait_for(self, seqs: list[int], timeout_s: float) -> None:
        with self.changed:
            self.changed.wait_for(lambda: all(s in self.arrived for s in seqs), timeout_s)


@dataclass
class Target:
    label: str
    lines: Lines
    send: Callable[[int], None]
    samples: Samples


def _data_seq(line: str) -> int | None:
    found = _SEQ_IN_DATA.search(line) if line.startswith("waitbus event #") else None
    return int(found.group(1)) if found else None


def _tail_seq(line: str) -> int | None:
    found = _SEQ_IN_TAIL.search(line)
    return int(found.group(1)) if found else None


def _redis_seq(line: str) -> int | None:
    return int(line) if line.isdigit() else None


def open_targets(state_dir: Path, redis: Server, n: int) -> tuple[list[Target], list[object]]:
    env = child_env()
    watch = spawn(processes.waitbus_argv(state_dir, "-v", "watch", "--source", "bench-watch"),
                  ready="live at cursor", env=env)
    tail = spawn(processes.waitbus_argv(state_dir, "-v", "tail", "-n", "0", "-f", "--source",
                                        "bench-tail"), ready="live at cursor", env=env)
    cli = subprocess.Popen(["redis-cli", "-p", str(redis.port), "--raw", "subscribe",
                            CHANNEL.decode()], stdout=subprocess.PIPE, text=True, env=env)
    publisher = RedisClient(redis.port)
    targets = [
        Target("waitbus watch", Lines(watch, _data_seq),
               lambda seq: _emit(state_dir, "bench-watch", seq), Samples("waitbus watch", 0)),
        Target("waitbus tail -f", Lines(tail, _tail_seq),
               lambda seq: _emit(state_dir, "bench-tail", seq), Samples("waitbus tail -f", 0)),
        Target("redis-cli subscribe", Lines(cli, _redis_seq),
               lambda seq: publisher.publish(CHANNEL, str(seq).encode()),
               Samples("redis-cli subscribe (in memory)", 0)),
    ]
    for target in targets:
        target.lines.start()
    # redis-cli prints nothing on stderr when subscribed; a probe message says it is listening.
    probe = n * 100
    deadline = time.monotonic() + 10
    while probe not in targets[2].lines.arrived and time.monotonic() < deadline:
        publisher.publish(CHANNEL, str(probe).encode())
        targets[2].lines.wait_for([probe], 0.1)
    return targets, [watch, tail, cli, publisher]


def _emit(state_dir: Path, source: str, seq: int) -> None:
    emit(source, "tick", subject=str(seq), fields={"seq": seq}, state_dir=state_dir)


def run_round(target: Target, seqs: list[int], rate_hz: float) -> None:
    times = Schedule(rate_hz=rate_hz, n=len(seqs)).times_ns()
    for seq, intended in zip(seqs, times, strict=True):
        pace(intended)
        target.send(seq)
    target.lines.wait_for(seqs, 30)
    round_ = Samples(target.label, expected=len(seqs))
    for seq, intended in zip(seqs, times, strict=True):
        got = target.lines.arrived.get(seq)
        if got is not None:
            round_.add(intended, got)
    target.samples.extend(round_)


def run(n: int, rate_hz: float, rounds: int) -> list[Summary]:
    with tempfile.TemporaryDirectory(prefix="wbw-") as tmp:
        state_dir = Path(tmp) / "s"
        daemon = processes.start(processes.waitbus_argv(state_dir, "serve"), ready="serving",
                                 stream="stdout", env=child_env())
        redis = start_redis()
        targets, owned = open_targets(state_dir, redis, n)
        try:
            per_round = -(-n // rounds)
            for index in range(rounds):
                seqs = list(range(index * per_round, min(n, (index + 1) * per_round)))
                order = targets[index % len(targets):] + targets[:index % len(targets)]
                for target in order:
                    run_round(target, seqs, rate_hz)
        finally:
            for thing in owned:
                if isinstance(thing, subprocess.Popen):
                    processes.stop(thing)
                elif isinstance(thing, RedisClient):
                    thing.close()
            redis.stop()
            processes.stop(daemon)
    return [summarize(t.samples) for t in targets]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="events per target")
    parser.add_argument("--rate", type=float, default=100.0, help="emits per second")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rows = run(args.n, args.rate, args.rounds)
    print_table(f"emit -> line on a child's stdout, open loop at {args.rate:g}/s", rows)
    if args.json:
        write_json(args.json, {"host": host_info(), "rows": rows})
    print(json.dumps({row["label"]: {"p50": row["p50"], "p99": row["p99"], "n": row["n"]}
                      for row in rows}))


if __name__ == "__main__":
    main()
