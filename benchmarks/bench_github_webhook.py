"""Signed GitHub webhook POST -> subscriber wake, beside a 3 s poller (`gh run watch`'s period).

    uv run python -m benchmarks.bench_github_webhook --n 1000 --rate 100

Open loop: every delivery's send time is fixed before the run (`harness.Schedule`), and its
latency is the subscriber's receive time minus that intended time, so a delivery the daemon held
up also delays, and is charged for, the ones queued behind it. Each delivery is a real signed
HTTP/1.1 POST of a stored `workflow_run` payload on a fresh loopback connection (as a webhook
sender opens one per delivery) to a real `waitbus serve` process; the subscriber is a separate
process on the bus socket, so the sender's pacing never competes with it for the GIL. Bodies and
signatures, and the request bytes, are prepared before the run. Both processes read the same
monotonic clock.

For reference, the same schedule is then run through `waitbus.emit` (the event committed straight
to the store by the sending process, the same payload size), so the table shows what the HTTP
listener adds over the bus itself on this machine at this moment.

The polling baseline is SIMULATED, not run: a single poller re-checking every 3 s from a random
phase would see each event at its first tick after the event reached the subscriber. It excludes
the cost of the poll itself (an API round trip for `gh run watch`), so it flatters polling.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import queue
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from benchmarks.children import REPO, child_env
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

FIXTURES = REPO / "tests" / "fixtures" / "github-webhooks"
FIXTURE = FIXTURES / "workflow_run.completed.payload.json"
SECRET = b"benchmark secret"
POLL_S = 3.0


def _body(seq: int, template: dict[str, Any]) -> bytes:
    run = {**template["workflow_run"], "id": 10_000_000 + seq}
    return json.dumps({**template, "workflow_run": run}).encode()


def _deliveries(n: int) -> list[tuple[str, bytes, str]]:
    if not FIXTURE.is_file():
        sys.exit(f"the webhook fixture {FIXTURE} is missing; the benchmark posts it")
    template = json.loads(FIXTURE.read_bytes())
    out = []
    for seq in range(n):
        body = _body(seq, template)
        out.append((f"bench-{seq}", body, _signature(body)))
    return out


def _signature(body: bytes) -> str:
    """GitHub's X-Hub-Signature-256 of `body` under the benchmark's secret."""
    return "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()


def _with_secret(state: Path) -> Path:
    """Make `state` a private state directory holding the benchmark's webhook secret."""
    (state / "secrets").mkdir(mode=0o700, parents=True)
    state.chmod(0o700)
    secret = os.open(state / "secrets" / "github-webhook", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(secret, SECRET)
    os.close(secret)
    return state


def _request(delivery: str, body: bytes, sig: str, event: str = "workflow_run") -> bytes:
    """The whole HTTP/1.1 request, built before the run as a sender has it ready to go."""
    head = (f"POST /github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-GitHub-Event: {event}\r\nX-GitHub-Delivery: {delivery}\r\n"
            f"X-Hub-Signature-256: {sig}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n")
    return head.encode() + body


def _post(port: int, request: bytes) -> int:
    """Send on a fresh connection; the reply comes once the event is committed and fanned out."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else 0


def _lines(pipe: IO[str], into: queue.Queue[str]) -> None:
    for text in pipe:
        into.put(text)
    into.put("")


def _next_line(lines: queue.Queue[str], needle: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            text = lines.get(timeout=left)
        except queue.Empty:
            break
        if needle in text:
            return text
        if not text:
            break
    sys.exit(f"no {needle!r} line within {timeout_s:g} s")


def _start(argv: list[str]) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=child_env())
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    return proc, lines


def run(n: int, rate_hz: float, seed: int = 1) -> dict[str, Summary]:
    deliveries = _deliveries(n)
    with tempfile.TemporaryDirectory(prefix="wbb-") as tmp:
        state = _with_secret(Path(tmp) / "s")
        daemon, daemon_out = _start([sys.executable, "-m", "waitbus", "--state-dir", str(state),
                                     "serve", "--listen-port", "0"])
        sub, arrivals = _start([sys.executable, "-m", "benchmarks.bench_github_webhook",
                                "--subscriber", str(state), "--n", str(2 * n + 1)])
        try:
            port = int(_next_line(daemon_out, "webhook listener on", 30).rsplit(":", 1)[1])
            _post(port, _request("warm-up", deliveries[0][1], deliveries[0][2]))
            requests = [_request(*delivery) for delivery in deliveries]
            _next_line(arrivals, "github:warm-up", 30)
            intended = Schedule(rate_hz=rate_hz, n=n).times_ns()
            for at, request in zip(intended, requests, strict=True):
                pace(at)
                _post(port, request)
            received = _collect(arrivals, n, "github:bench-", timeout_s=30)
            emitted, via_emit = _emit_round(state, deliveries, rate_hz, arrivals)
        finally:
            for proc in (sub, daemon):
                proc.terminate()
                proc.wait(10)
    result = _summaries(intended, received, n, seed)
    reference = Samples("waitbus.emit -> subscriber (reference)", expected=n)
    for seq, at_ns in via_emit.items():
        reference.add(emitted[seq], at_ns)
    return {**result, "emit": summarize(reference)}


def _emit_round(state: Path, deliveries: list[tuple[str, bytes, str]], rate_hz: float,
                arrivals: queue.Queue[str]) -> tuple[list[int], dict[int, int]]:
    from waitbus import emit

    n = len(deliveries)
    intended = Schedule(rate_hz=rate_hz, n=n).times_ns()
    for seq, (at, (_, body, _sig)) in enumerate(zip(intended, deliveries, strict=True)):
        pace(at)
        emit("github", "workflow_run", subject="octo-org/octo-repo", payload=body.decode(),
             fields={"run_id": seq}, delivery_id=f"emit-{seq}", state_dir=state)
    return intended, _collect(arrivals, n, "emit-", timeout_s=30)


def _collect(arrivals: queue.Queue[str], n: int, prefix: str,
             timeout_s: float) -> dict[int, int]:
    received: dict[int, int] = {}
    deadline = time.monotonic() + timeout_s
    while len(received) < n and (left := deadline - time.monotonic()) > 0:
        try:
            text = arrivals.get(timeout=left)
        except queue.Empty:
            break
        if not text:
            break
        delivery, at_ns = text.split()
        if delivery.startswith(prefix):
            received[int(delivery.rsplit("-", 1)[1])] = int(at_ns)
    return received


def _summaries(intended: list[int], received: dict[int, int], n: int,
               seed: int) -> dict[str, Summary]:
    bus = Samples("waitbus (webhook -> subscriber)", expected=n)
    poll = Samples(f"poll every {POLL_S:g} s (simulated)", expected=n,
                   note="simulated over the same arrivals; excludes the poll's own API call")
    phase_ns = int(random.Random(seed).uniform(0, POLL_S) * 1e9)
    period_ns = int(POLL_S * 1e9)
    for seq, at_ns in received.items():
        bus.add(intended[seq], at_ns)
        ticks = -(-(at_ns - phase_ns) // period_ns)  # ceiling division: the first tick after
        poll.add(intended[seq], phase_ns + ticks * period_ns)
    return {"bus": summarize(bus), "poll": summarize(poll)}


def subscriber(state_dir: str, n: int) -> None:
    """Child process: print `delivery_id monotonic_ns` for each GitHub event, from cursor 0."""
    import asyncio

    from waitbus.consumers.feed import Feed
    from waitbus.match import AnyOf, Match
    from waitbus.paths import resolve

    async def follow() -> None:
        feed = Feed(resolve(state_dir), AnyOf((Match.of(source="github"),)), cursor=0,
                    reconnect_s=30)
        seen = 0
        async for event in feed.events():
            sys.stdout.write(f"{event.delivery_id} {time.monotonic_ns()}\n")
            sys.stdout.flush()
            seen += 1
            if seen >= n:
                return

    asyncio.run(follow())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="deliveries (one sample each)")
    parser.add_argument("--rate", type=float, default=100.0, help="deliveries per second")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--subscriber", metavar="STATE_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.subscriber:
        subscriber(args.subscriber, args.n)
        return
    result = run(args.n, args.rate)
    print_table("signed GitHub webhook POST -> subscriber wake",
                [result["bus"], result["poll"], result["emit"]])
    if args.json:
        write_json(args.json, {"host": host_info(), "scenarios": {"github_webhook": result}})


if __name__ == "__main__":
    main()
