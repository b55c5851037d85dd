"""The core scenarios, each runnable against waitbus or a peer: fan-out, wait exit, load."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from typing import Any

from benchmarks import procstat
from benchmarks.children import child_env, spawn, spawn_many, start_worker, worker
from benchmarks.harness import Samples, Schedule, pace
from benchmarks.targets import InotifyTarget, PeerTarget, Target, WaitbusTarget
from benchmarks.workers import READY
from waitbus.demo import processes

RESULT_TIMEOUT_S = 120.0


def _results(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=RESULT_TIMEOUT_S)
    if proc.returncode != 0:
        msg = f"worker {proc.args!r} exited {proc.returncode}: {err[-2000:]}"
        raise RuntimeError(msg)
    value: dict[str, Any] = json.loads(out)
    return value


def fan_out(target: Target, receivers: int, schedule: Schedule) -> tuple[Samples, Samples]:
    """Send on `schedule` to `receivers` subscriber processes.

    Returns one sample per arrival, and one per send at its last arrival (when every receiver
    has it; a send some receiver never got counts as lost there).
    """
    argv = worker("subscribe", target.name, *target.worker_args())
    subs = spawn_many([argv] * receivers, ready=READY[target.name])
    samples = Samples(target.name, expected=schedule.n * receivers)
    last_arrival = Samples(target.name, expected=schedule.n)
    try:
        times = schedule.times_ns()
        first = procstat.snapshot(target.pid())
        for seq, intended in enumerate(times):
            pace(intended)
            target.send(seq)
        target.stop_subscribers()
        cpu_s = 0.0
        arrivals: dict[int, list[int]] = {}
        for sub in subs:
            result = _results(sub)
            cpu_s += result["cpu_s"]
            for key, received_ns in result["received"].items():
                samples.add(times[int(key)], received_ns)
                arrivals.setdefault(int(key), []).append(received_ns)
        last = procstat.snapshot(target.pid())
        samples.server_cpu_ns = round((last.cpu_s - first.cpu_s) * 1e9)
        samples.client_cpu_ns = round(cpu_s * 1e9)
        for seq, got in arrivals.items():
            if len(got) == receivers:
                last_arrival.add(times[seq], max(got))
    finally:
        for sub in subs:
            processes.stop(sub)
    return samples, last_arrival


def _exit_time_ns(proc: subprocess.Popen[str], timeout_s: float) -> int | None:
    """The monotonic time at which `proc` exits, seen through a pidfd (no polling)."""
    fd = os.pidfd_open(proc.pid)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(int(timeout_s * 1000)):
            return None
        return time.monotonic_ns()
    finally:
        os.close(fd)


WaitTarget = WaitbusTarget | PeerTarget | InotifyTarget


def wait_exit(target: WaitTarget, n: int, settle_ms: float = 20.0,
              timeout_s: float = 30.0) -> Samples:
    """Per send: start a one-shot waiter; once it is subscribed, send `settle_ms` later.

    Latency runs from that intended send time to the waiter's process exit. Starting a
    process takes a varying few hundred ms here, so a fixed-rate schedule would charge the
    harness's own start-up to the system; instead each intended time is fixed when the waiter
    is ready, before anything is sent, and a late send is still counted against the system.
    """
    samples = Samples(target.name, expected=n)
    for seq in range(n):
        argv, ready = target.wait_argv(seq)
        proc = spawn(argv, ready=ready)
        try:
            intended = time.monotonic_ns() + round(settle_ms * 1e6)
            pace(intended)
            target.send(seq)
            exited = _exit_time_ns(proc, timeout_s)
            if exited is not None:
                samples.add(intended, exited)
        finally:
            processes.stop(proc)
    return samples


def _producers(target: Target, count: int, per_producer: int, rate: float,
               burst: int) -> list[subprocess.Popen[str]]:
    procs = []
    for tag in range(count):
        argv = worker("produce", target.name, *target.worker_args(), "--n", str(per_producer),
                      "--rate", str(rate), "--tag", str(tag), "--burst", str(burst))
        procs.append(subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=child_env()))
    for proc in procs:
        assert proc.stderr is not None
        if processes.read_until(proc.stderr, "ready", 60.0) is None:
            msg = f"producer {proc.pid} did not start: {proc.args!r}"
            raise RuntimeError(msg)
    return procs


def _go(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    return [_results(proc) for proc in procs]


def load(target: Target, producers: int, per_producer: int, rate: float = 0.0,
         burst: int = 1) -> dict[str, Any]:
    """`producers` processes send `per_producer` each (paced at `rate` Hz, or flat out).

    With `burst` > 1 a producer commits that many events per call (`emit_many`). A subscriber
    counts what arrives; the server's CPU is read before and after.
    """
    sub = start_worker(worker("subscribe", target.name, *target.worker_args()),
                       READY[target.name])
    before_count = target.count() if isinstance(target, WaitbusTarget) else 0
    try:
        procs = _producers(target, producers, per_producer, rate, burst)
        first = procstat.snapshot(target.pid())
        done = _go(procs)
        last = procstat.snapshot(target.pid())
        target.stop_subscribers()
        got = _results(sub)
        received = got["received"]
    finally:
        processes.stop(sub)
    sent = sum(r["sent"] for r in done)
    elapsed_s = (max(r["last_ns"] for r in done) - min(r["first_ns"] for r in done)) / 1e9
    out: dict[str, Any] = {
        "label": target.name, "producers": producers, "sent": sent,
        "received": len(received), "lost": sent - len(received),
        "elapsed_s": elapsed_s, "per_s": sent / elapsed_s,
        "server_cpu_percent": procstat.cpu_percent_between(first, last),
        "producers_cpu_s": sum(r["cpu_s"] for r in done),
        "subscriber_cpu_s": got["cpu_s"],
        "late_max_ms": max(r["late_max_ns"] for r in done) / 1e6,
    }
    if rate:
        out["rate_hz_each"] = rate
    if burst > 1:
        out["burst"] = burst
    if isinstance(target, WaitbusTarget):
        # One extra row is the "stop" marker the subscriber ends on.
        out["stored"] = target.count() - before_count - 1
        out["lost_in_store"] = sent - out["stored"]
    return out


def polling_baseline(label: str, interval_s: float, n: int = 100_000) -> dict[str, Any]:
    """A poller every `interval_s`: an event lands at a uniform phase, so quantile q is q*P."""
    ms = interval_s * 1e3
    return {"label": label, "n": n, "lost": 0, "p50": 0.5 * ms, "p90": 0.9 * ms,
            "p99": 0.99 * ms, "p99.9": 0.999 * ms, "max": ms,
            "note": "computed, not measured: uniform arrival phase against the poll interval"}
