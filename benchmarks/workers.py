"""Child processes of the benchmarks: subscribers, one-shot waiters and paced producers.

Run as `python -m benchmarks.workers ROLE TARGET ...`; each prints a ready line on stderr
once subscribed, and its results as one JSON object on stdout when done.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from benchmarks import peers
from benchmarks.harness import pace

SUBJECT = b"bench"
STOP = b"stop"
READY = {"waitbus": "live at cursor", "redis": "ready", "nats": "ready"}


def _waitbus_stream(state_dir: Path) -> Iterator[bytes]:
    import waitbus

    # The Feed logs "live at cursor" once subscribed and caught up: that is our ready line.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    for event in waitbus.subscribe(source="bench", state_dir=state_dir):
        if event.type == "stop":
            yield STOP
        elif "p" in event.fields:
            yield f"{event.fields['p']}-{event.fields.get('seq')}".encode()
        else:
            yield str(event.fields.get("seq")).encode()


def _peer_stream(target: str, port: int) -> Iterator[bytes]:
    client = peers.RedisClient(port) if target == "redis" else peers.NatsClient(port)
    client.subscribe(SUBJECT)
    print("ready", file=sys.stderr, flush=True)
    while True:
        yield client.message()


def stream(args: argparse.Namespace) -> Iterator[bytes]:
    if args.target == "waitbus":
        return _waitbus_stream(Path(args.state_dir))
    return _peer_stream(args.target, args.port)


def subscribe(args: argparse.Namespace) -> int:
    """Record the arrival time of every message until `stop`; print {seq: ns} as JSON."""
    received: dict[str, int] = {}
    first_cpu_s = 0.0
    for data in stream(args):
        now = time.monotonic_ns()
        if data == STOP:
            break
        if not received:
            first_cpu_s = time.process_time()  # start-up and subscribing are not per message
        received[data.decode()] = now
    json.dump({"received": received, "cpu_s": time.process_time() - first_cpu_s}, sys.stdout)
    return 0


def wait_once(args: argparse.Namespace) -> int:
    """Exit 0 on the first message: the peers' counterpart of `waitbus wait`."""
    for _data in stream(args):
        return 0
    return 1


def _sender(args: argparse.Namespace) -> Callable[[int], None]:
    if args.target == "waitbus":
        import waitbus

        state_dir = Path(args.state_dir)
        if args.burst > 1:
            # One call per burst: this send commits events seq .. seq + burst - 1.
            def emit_many(seq: int) -> None:
                waitbus.emit_many([{"source": "bench", "type": "load",
                                    "fields": {"p": args.tag, "seq": s}}
                                   for s in range(seq, min(seq + args.burst, args.n))],
                                  state_dir=state_dir)

            return emit_many

        def emit(seq: int) -> None:
            waitbus.emit("bench", "load", fields={"p": args.tag, "seq": seq}, state_dir=state_dir)

        return emit
    if args.burst > 1:
        msg = "--burst is for waitbus (emit_many); the peers publish one message per send"
        raise SystemExit(msg)
    client = peers.RedisClient(args.port) if args.target == "redis" else peers.NatsClient(
        args.port)
    return lambda seq: client.publish(SUBJECT, b"%d-%d" % (args.tag, seq))


def produce(args: argparse.Namespace) -> int:
    """Send `n` messages from `start_ns` on, at `rate` per second (0: as fast as possible)."""
    send = _sender(args)
    print("ready", file=sys.stderr, flush=True)
    step = 0 if args.rate <= 0 else round(1e9 / args.rate)
    late_max = 0
    if args.start_ns == 0:
        sys.stdin.readline()  # "go": every producer starts at once
        args.start_ns = time.monotonic_ns()
    pace(args.start_ns, spin_ns=0)
    first = time.monotonic_ns()
    for seq in range(0, args.n, args.burst):
        if step:
            late_max = max(late_max, pace(args.start_ns + seq * step, spin_ns=0))
        send(seq)
    last = time.monotonic_ns()
    json.dump({"sent": args.n, "first_ns": first, "last_ns": last, "late_max_ns": late_max,
               "cpu_s": time.process_time()}, sys.stdout)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workers")
    parser.add_argument("role", choices=("subscribe", "wait", "produce"))
    parser.add_argument("target", choices=tuple(READY))
    parser.add_argument("--state-dir")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--start-ns", type=int, default=0)
    parser.add_argument("--tag", type=int, default=0)
    parser.add_argument("--burst", type=int, default=1,
                        help="events per send (waitbus: one emit_many call)")
    args = parser.parse_args(argv)
    roles = {"subscribe": subscribe, "wait": wait_once, "produce": produce}
    return roles[args.role](args)


if __name__ == "__main__":
    sys.exit(main())
