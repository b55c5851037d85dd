"""`waitbus status` latency while another process holds the store's write lock.

    uv run python -m benchmarks.bench_stalled_writer --before dd9d50c

Each round starts a real `waitbus serve` with its webhook listener, has another process take
the store's write lock (its `flock` and an open write transaction, as an emitter stuck in its
commit), posts one signed GitHub delivery so that the daemon's commit waits on that lock (seen
in /proc/locks), then sends `--n` status requests on an open-loop schedule at `--rate` per
second, each on its own connection, all due while the lock is held. The lock is released
`--hold-s` after the first status is due, or once every status has been answered, whichever
comes first. A status's latency is its answer time minus its intended send time, so a status
stuck behind the lock is charged the whole wait. Then, with the lock free, `--deliveries`
signed deliveries at `--delivery-rate`, each on a fresh connection, are measured to their 200
answer (sent once the event is stored and fanned out): what handing commits to a thread costs
when nothing stalls. With `--before REV`, that commit (exported with `git archive`) is measured
too, its rounds interleaved with this checkout's; the tables give the ratio this/that. Last, in
this process, `--commits` commits one after another through the daemon's writer thread and
straight through Store.append, interleaved: the hand-off's cost per commit, in time and CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.bench_github_webhook import (
    _lines,
    _next_line,
    _post,
    _request,
    _signature,
    _with_secret,
)
from benchmarks.children import REPO
from benchmarks.harness import (
    Samples,
    Schedule,
    host_info,
    print_table,
    ratios,
    summarize,
    write_json,
)
from waitbus import wire
from waitbus.paths import resolve

FIXTURE = REPO / "tests" / "fixtures" / "github-webhooks" / "ping.payload.json"
SCENARIOS = {
    "stalled": "status, store lock held up to {hold_s:g} s, a webhook commit waiting",
    "free": "signed webhook POST -> 200 answer, store lock free (what the writer thread costs)",
}
HANDOFF = ("one commit after another in this process (closed loop: a cost per commit, not a "
           "latency under load)")
BOUND_S = 30.0
# A stalled writer as the issue saw it: takes the store's flock and SQLite's write lock (an
# open write transaction), says so, and keeps both until a line or the end of stdin (the tests'
# lock holder runs the same script).
HOLDER = """
import fcntl, os, sqlite3, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
db = sqlite3.connect(sys.argv[2], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("holding", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
"""


def _ping(delivery: str) -> bytes:
    """A whole signed GitHub ping delivery."""
    body = FIXTURE.read_bytes()
    return _request(delivery, body, _signature(body), event="ping")


def _export(rev: str, into: Path) -> Path:
    """The package at `rev`, exported with `git archive` (no work tree edits)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "waitbus"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _waiting_on_the_lock(lock: Path) -> bool:
    inode = str(os.stat(lock).st_ino)
    with open("/proc/locks", encoding="ascii") as table:
        return any(len(w) > 6 and w[1] == "->" and w[6].rsplit(":", 1)[-1] == inode
                   for w in (line.split() for line in table))


async def _status_at(socket_path: str, intended_ns: int) -> int:
    """Send one status request at `intended_ns`; return when its answer arrived."""
    await asyncio.sleep(max(0, intended_ns - time.monotonic_ns()) / 1e9)  # the schedule
    reader, writer = await asyncio.open_unix_connection(socket_path)
    try:
        writer.write(wire.encode(wire.StatusRequest()))
        await writer.drain()
        decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
        while not decoder.feed(await reader.read(65536)):
            pass
        return time.monotonic_ns()
    finally:
        writer.close()


async def _statuses(socket_path: str, times_ns: list[int], release: threading.Event,
                    hold_s: float) -> list[int]:
    tasks = [asyncio.ensure_future(_status_at(socket_path, t)) for t in times_ns]
    answered = asyncio.ensure_future(asyncio.gather(*tasks))
    release_at = (times_ns[0] - time.monotonic_ns()) / 1e9 + hold_s
    await asyncio.wait({answered}, timeout=max(0.0, release_at))
    release.set()  # every status answered, or the hold is over: let the commit through
    async with asyncio.timeout(BOUND_S):
        return await answered


async def _post_at(port: int, request: bytes, intended_ns: int) -> tuple[int, int]:
    """Send one delivery at `intended_ns` on a fresh connection; (status, answer time)."""
    await asyncio.sleep(max(0, intended_ns - time.monotonic_ns()) / 1e9)  # the schedule
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n")
        return int(head.split(b" ", 2)[1]), time.monotonic_ns()
    finally:
        writer.close()


async def _deliveries(port: int, label: str, times_ns: list[int]) -> list[int]:
    requests = [_ping(f"free-{label}-{seq}") for seq in range(len(times_ns))]
    async with asyncio.timeout(BOUND_S + len(times_ns)):
        answers = await asyncio.gather(*(_post_at(port, r, t)
                                         for r, t in zip(requests, times_ns, strict=True)))
    if any(status != 200 for status, _at in answers):
        sys.exit(f"a delivery was refused: {sorted({s for s, _at in answers})}")
    return [at for _status, at in answers]


@contextmanager
def _serving(pythonpath: str) -> Iterator[tuple[Path, int]]:
    """A `waitbus serve` of the waitbus on `pythonpath`, with its listener; (state, port)."""
    with tempfile.TemporaryDirectory(prefix="wbsw-") as tmp:
        state = _with_secret(Path(tmp) / "s")
        env = {**os.environ, "PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}
        # `-m` puts the working directory first on sys.path: not the repository's, so that
        # PYTHONPATH chooses which waitbus runs.
        daemon = subprocess.Popen([sys.executable, "-m", "waitbus", "--state-dir", str(state),
                                   "serve", "--listen-port", "0"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_lines, args=(daemon.stdout, lines), daemon=True).start()
        try:
            found = _next_line(lines, "webhook listener on", BOUND_S)
            yield state, int(found.strip().rsplit(":", 1)[1])
        finally:
            daemon.terminate()
            daemon.wait(BOUND_S)
            if daemon.stdout is not None:
                daemon.stdout.close()


def _stalled(state: Path, port: int, label: str, schedule: Schedule, hold_s: float,
             samples: Samples) -> None:
    """Status requests while a webhook commit waits on a lock another process holds."""
    paths = resolve(state)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(paths.store_lock),
                               str(paths.store)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        if "holding" not in holder.stdout.readline():
            sys.exit("the lock holder did not take the store's write lock")
        posted: list[int] = []
        post = threading.Thread(target=lambda: posted.append(
            _post(port, _ping(f"held-{label}"))), daemon=True)
        post.start()
        deadline = time.monotonic() + BOUND_S
        while not _waiting_on_the_lock(paths.store_lock):
            if time.monotonic() > deadline:
                sys.exit("the daemon's commit never waited on the store lock")
            time.sleep(0.001)  # polling the kernel's lock table, bounded
        release = threading.Event()
        threading.Thread(target=_release, args=(holder, release), daemon=True).start()
        times = schedule.times_ns()
        answers = asyncio.run(_statuses(str(paths.socket), times, release, hold_s))
        for intended, answered in zip(times, answers, strict=True):
            samples.add(intended, answered)
        post.join(BOUND_S)
        if posted != [200]:
            sys.exit(f"the held delivery was answered {posted}, not 200")
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def _round(label: str, pythonpath: str, args: argparse.Namespace,
           merged: dict[str, dict[str, Samples]]) -> None:
    with _serving(pythonpath) as (state, port):
        stalled = Samples(label, expected=args.n)
        _stalled(state, port, label, Schedule(rate_hz=args.rate, n=args.n), args.hold_s,
                 stalled)
        merged["stalled"][label].extend(stalled)
        free = Samples(label, expected=args.deliveries)
        times = Schedule(rate_hz=args.delivery_rate, n=args.deliveries).times_ns()
        for intended, answered in zip(times, asyncio.run(_deliveries(port, label, times)),
                                      strict=True):
            free.add(intended, answered)
        merged["free"][label].extend(free)


def _release(holder: subprocess.Popen[str], release: threading.Event) -> None:
    release.wait()
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(BOUND_S)


def _handoff(count: int, rounds: int) -> list[Samples]:
    """This checkout's commit through the daemon's writer thread against Store.append on the
    calling thread, interleaved, over one store."""
    from waitbus.bus.writer import Writer  # this checkout's: an older commit may lack it
    from waitbus.sources import emitter
    from waitbus.store.store import Store

    writer = Samples("Writer.commit", expected=0)
    inline = Samples("Store.append", expected=0)
    with tempfile.TemporaryDirectory(prefix="wbsw-") as tmp:
        paths = resolve(Path(tmp) / "s")
        for r in range(rounds):
            drafts = [emitter.draft("bench", "x", delivery_id=f"{r}-{n}", fields={"n": n})
                      for n in range(2 * count)]
            with Store(paths, on_commit=lambda: None) as store:
                round_ = Samples("Store.append", expected=count)
                cpu = time.process_time_ns()
                for draft in drafts[:count]:
                    started = time.monotonic_ns()
                    store.append(draft)
                    round_.add(started, time.monotonic_ns())
                round_.server_cpu_ns = time.process_time_ns() - cpu
            inline.extend(round_)
            writer.extend(asyncio.run(_through_writer(Writer(paths, lambda: None),
                                                      drafts[count:])))
    return [writer, inline]


async def _through_writer(writer: Any, drafts: list[Any]) -> Samples:
    samples = Samples("Writer.commit", expected=len(drafts))
    await writer.start()
    try:
        cpu = time.process_time_ns()
        for draft in drafts:
            started = time.monotonic_ns()
            await writer.commit(draft)
            samples.add(started, time.monotonic_ns())
        samples.server_cpu_ns = time.process_time_ns() - cpu
    finally:
        await writer.close()
    return samples


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.n / args.rate >= args.hold_s:
        sys.exit("--n status requests at --rate must all be due within --hold-s")
    with tempfile.TemporaryDirectory(prefix="wbsw-src-") as tmp:
        targets = [("this checkout", str(REPO))]
        if args.before is not None:
            targets.append((f"before {args.before}", str(_export(args.before, Path(tmp)))))
        merged = {scenario: {label: Samples(label, expected=0) for label, _path in targets}
                  for scenario in SCENARIOS}
        for _ in range(args.rounds):
            for label, path in targets:  # interleaved: each round runs every target once
                _round(label, path, args, merged)
    doc: dict[str, Any] = {"host": host_info(), "args": {k: v for k, v in vars(args).items()
                                                          if k != "out"}, "scenarios": {}}
    for scenario, title in SCENARIOS.items():
        rows = [summarize(s) for s in merged[scenario].values()]
        print_table(title.format(hold_s=args.hold_s), rows, subject="this checkout")
        doc["scenarios"][scenario] = {"rows": rows, "ratios": ratios(rows, "this checkout")}
    if args.commits:
        rows = [summarize(s) for s in _handoff(args.commits, args.rounds)]
        print_table(HANDOFF, rows, subject="Writer.commit")
        for row in rows:
            print(f"{row['label']}: {row['server_cpu_us']:.1f} us of this process's CPU per commit")
        doc["scenarios"]["handoff"] = {"rows": rows, "ratios": ratios(rows, "Writer.commit")}
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="a commit to measure too (e.g. dd9d50c)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=20, help="status requests per round")
    parser.add_argument("--rate", type=float, default=10.0, help="status requests per second")
    parser.add_argument("--hold-s", type=float, default=3.0,
                        help="the longest the lock is held after the first status is due "
                        "(every status is due before then)")
    parser.add_argument("--deliveries", type=int, default=200,
                        help="deliveries per round with the lock free")
    parser.add_argument("--delivery-rate", type=float, default=50.0,
                        help="deliveries per second with the lock free")
    parser.add_argument("--commits", type=int, default=2000,
                        help="commits per round for the cost of the hand-off (0: skip it)")
    parser.add_argument("--out", type=Path, help="write the JSON here")
    args = parser.parse_args()
    doc = run(args)
    if args.out is not None:
        print(f"wrote {write_json(args.out, doc)}")


if __name__ == "__main__":
    main()
