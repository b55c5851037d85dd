"""The daemon's memory while subscribers that asked for payloads stop reading.

    uv run python -m benchmarks.bench_stalled_rss --subscribers 10 --events 3000 --kib 256

Two rounds on one real `waitbus serve` process. Live: `--subscribers` clients subscribe with
`payload: true` (a 4 KiB receive buffer, never read), then `--events` events of `--kib` KiB
payloads are committed in bursts; once the daemon's head has reached the last one, its resident
memory is read (VmRSS, and the peak VmHWM). Replay: as many clients subscribe from cursor 0 to
that backlog and stop reading; memory is read once every one has been sent what fits, and
again after they have all closed. The idle daemon's RSS before the first round is the reference.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_github_webhook import _next_line, _start
from benchmarks.harness import host_info, write_json
from waitbus import emit_many, wire
from waitbus.consumers.status import status
from waitbus.match import EVERYTHING
from waitbus.paths import resolve


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _memory(pid: int) -> dict[str, float]:
    return {"rss_mib": _kib(pid, "VmRSS") / 1024, "peak_mib": _kib(pid, "VmHWM") / 1024}


def _stalled(state: Path, count: int, since: int | None) -> list[socket.socket]:
    out = []
    request = wire.encode(wire.Subscribe(EVERYTHING, since, payload=True))
    for _ in range(count):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(os.fspath(resolve(state).socket))
        sock.sendall(request)
        out.append(sock)
    return out


def _head(state: Path) -> int:
    return asyncio.run(status(resolve(state), reconnect_s=5.0)).head


def _until(check: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            sys.exit("the daemon did not get there in time")
        time.sleep(0.05)  # polling the daemon's own status, bounded


def run(subscribers: int, events: int, kib: int) -> dict[str, Any]:
    payload = "p" * (kib * 1024)
    with tempfile.TemporaryDirectory(prefix="wbr-") as tmp:
        state = Path(tmp) / "s"
        daemon, out = _start([sys.executable, "-m", "waitbus", "--state-dir", str(state),
                              "serve", "--listen-port", "off"])
        try:
            _next_line(out, "serving", 30)
            idle = _memory(daemon.pid)
            live = _stalled(state, subscribers, None)
            _until(lambda: len(asyncio.run(status(resolve(state))).subscribers) == subscribers,
                   30)
            for start in range(0, events, 100):
                emit_many(({"source": "big", "type": "blob", "payload": payload}
                           for _ in range(start, min(start + 100, events))), state_dir=state)
            _until(lambda: _head(state) >= events, 300)
            after_live = _memory(daemon.pid)
            for sock in live:
                sock.close()
            replay = _stalled(state, subscribers, 0)
            _until(lambda: all(s.cursor > 0 for s in asyncio.run(
                status(resolve(state))).subscribers if not s.live), 60)
            during_replay = _memory(daemon.pid)
            for sock in replay:
                sock.close()
            _until(lambda: not asyncio.run(status(resolve(state))).subscribers, 60)
            after_close = _memory(daemon.pid)
        finally:
            daemon.terminate()
            daemon.wait(10)
    return {"subscribers": subscribers, "events": events, "payload_kib": kib, "idle": idle,
            "live_stalled": after_live, "replay_stalled": during_replay,
            "after_close": after_close}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--kib", type=int, default=256, help="payload size per event")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    result = run(args.subscribers, args.events, args.kib)
    for name in ("idle", "live_stalled", "replay_stalled", "after_close"):
        m = result[name]
        print(f"{name:<16} RSS {m['rss_mib']:8.1f} MiB   peak {m['peak_mib']:8.1f} MiB")
    if args.json:
        write_json(args.json, {"host": host_info(), "scenarios": {"stalled_rss": result}})


if __name__ == "__main__":
    main()
