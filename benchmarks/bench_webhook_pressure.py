"""A signed webhook's answer time while local processes hold hundreds of listener connections.

    uv run python -m benchmarks.bench_webhook_pressure --n 200 --rate 20 --idle 500

Open loop: each delivery's send time is fixed before its round (`harness.Schedule`), and its
latency is the arrival of the HTTP reply (sent once the event is committed and fanned out) minus
that intended time. Each delivery is a real signed POST of a stored `workflow_run` body on a
fresh loopback connection to a real `waitbus serve` process. Three rounds on one daemon, in one
run: nobody else connected (the reference), `--idle` connections held open without a byte by
another process, and the same number held by a process that opens each one again the moment
the listener closes it. A delivery that gets no 200 within 10 s counts as lost.
"""

from __future__ import annotations

import argparse
import contextlib
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_github_webhook import (
    _deliveries,
    _next_line,
    _post,
    _request,
    _start,
    _with_secret,
)
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


def run(n: int, rate_hz: float, idle: int) -> dict[str, Summary]:
    deliveries = _deliveries(3 * n + 1)
    requests = [_request(*delivery) for delivery in deliveries]
    with tempfile.TemporaryDirectory(prefix="wbp-") as tmp:
        state = _with_secret(Path(tmp) / "s")
        daemon, daemon_out = _start([sys.executable, "-m", "waitbus", "--state-dir", str(state),
                                     "serve", "--listen-port", "0"])
        try:
            port = int(_next_line(daemon_out, "webhook listener on", 30).rsplit(":", 1)[1])
            _post(port, requests[-1])  # warm-up
            out = {"alone": _round(port, requests[:n], rate_hz, "nobody else connected")}
            for key, reconnect, what in (("idle", False, f"{idle} idle connections held"),
                                         ("reconnecting", True,
                                          f"{idle} held, each reopened when closed")):
                holder = _holder(port, idle, reconnect=reconnect)
                try:
                    start = n if key == "idle" else 2 * n
                    out[key] = _round(port, requests[start:start + n], rate_hz, what)
                finally:
                    holder.terminate()
                    holder.wait(10)
        finally:
            daemon.terminate()
            daemon.wait(10)
    return out


def _round(port: int, requests: list[bytes], rate_hz: float, label: str) -> Summary:
    samples = Samples(f"signed POST -> 200 reply, {label}", expected=len(requests))
    for at, request in zip(Schedule(rate_hz=rate_hz, n=len(requests)).times_ns(), requests,
                           strict=True):
        pace(at)
        with contextlib.suppress(OSError):
            if _post(port, request) == 200:
                samples.add(at, time.monotonic_ns())
    return summarize(samples)


def _holder(port: int, count: int, *, reconnect: bool) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "benchmarks.bench_webhook_pressure", "--hold", str(port),
            "--idle", str(count)] + (["--reconnect"] if reconnect else [])
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=child_env())
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "holding":
        sys.exit("the connection holder did not start")
    return proc


def hold(port: int, count: int, *, reconnect: bool) -> None:
    """Child process: hold `count` silent connections (and reopen closed ones) until killed."""
    selector = selectors.DefaultSelector()
    for _ in range(count):
        selector.register(socket.create_connection(("127.0.0.1", port)), selectors.EVENT_READ)
    print("holding", flush=True)
    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            with contextlib.suppress(OSError):
                if sock.recv(1):
                    continue
            selector.unregister(sock)
            sock.close()
            if reconnect:
                with contextlib.suppress(OSError):
                    selector.register(socket.create_connection(("127.0.0.1", port)),
                                      selectors.EVENT_READ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="deliveries per round")
    parser.add_argument("--rate", type=float, default=20.0, help="deliveries per second")
    parser.add_argument("--idle", type=int, default=500, help="connections held open")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--hold", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--reconnect", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hold:
        hold(args.hold, args.idle, reconnect=args.reconnect)
        return
    result = run(args.n, args.rate, args.idle)
    print_table("signed webhook POST -> reply, with connections held open",
                [result["alone"], result["idle"], result["reconnecting"]])
    if args.json:
        write_json(args.json, {"host": host_info(), "scenarios": {"webhook_pressure": result}})


if __name__ == "__main__":
    main()
