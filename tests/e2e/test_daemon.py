"""The daemon under stress and attack: backlog, crashes, strangers, garbage, slow readers."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DaemonProcess, start_wait
from waitbus import emit, wire
from waitbus.consumers import wait as waiting
from waitbus.consumers.feed import Feed
from waitbus.event import Event
from waitbus.match import EVERYTHING
from waitbus.paths import resolve
from waitbus.sources import emitter
from waitbus.store.store import Store


def collect(state_dir: Path, count: int, *, since: int = 0, timeout_s: float = 60.0,
            reconnect_s: float = 5.0) -> list[Event]:
    """Subscribe through the real client and return the first `count` events."""

    async def run() -> list[Event]:
        feed = Feed(resolve(state_dir), EVERYTHING, cursor=since, reconnect_s=reconnect_s)
        got: list[Event] = []
        async with asyncio.timeout(timeout_s):
            async for event in feed.events():
                got.append(event)
                if len(got) == count:
                    return got
        return got

    return asyncio.run(run())


def raw_client(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(path))
    return sock


def read_replies(sock: socket.socket, until: type) -> list[wire.Reply]:
    decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
    replies: list[wire.Reply] = []
    while not any(isinstance(r, until) for r in replies):
        data = sock.recv(65536)
        if not data:
            break
        replies += [wire.parse_reply(obj) for obj in decoder.feed(data)]
    return replies


def test_late_subscriber_gets_a_100k_backlog_complete_and_in_order(state_dir: Path) -> None:
    with Store(resolve(state_dir)) as store:
        for i in range(100_000):
            store.append(emitter.draft("bulk", "n", delivery_id=f"b{i}", fields={"i": i}))
    running = DaemonProcess(state_dir).start()
    try:
        events = collect(state_dir, 100_000)
    finally:
        running.stop()
    assert [e.fields["i"] for e in events] == list(range(100_000))
    cursors = [e.cursor for e in events]
    assert cursors == sorted(set(cursors))


def test_emit_while_daemon_down_is_delivered_after_it_starts(state_dir: Path) -> None:
    waiter = subprocess.Popen(
        [sys.executable, "-m", "waitbus", "--state-dir", str(state_dir), "wait", "--source",
         "offline", "--timeout", "30s"],
        env={**os.environ, "WAITBUS_RECONNECT_S": "30"}, stderr=subprocess.PIPE, text=True)
    emit("offline", "queued", state_dir=state_dir)
    running = DaemonProcess(state_dir).start()
    try:
        _, err = waiter.communicate(timeout=30)
        assert waiter.returncode == 0, err
    finally:
        running.stop()


def test_wait_resumes_across_a_daemon_kill_and_restart(daemon: DaemonProcess) -> None:
    waiter = start_wait(daemon.state_dir, "--source", "after-restart", "--timeout", "30s")
    daemon.kill()
    emit("after-restart", "x", state_dir=daemon.state_dir)
    daemon.start()
    waiter.communicate(timeout=30)
    assert waiter.returncode == 0


PRODUCER = """
import sys
from waitbus import emit
name, count, state = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(count):
    emit("load", "tick", delivery_id=f"{name}-{i}", fields={"i": i}, state_dir=state)
"""


def test_kill_9_under_20_producers_loses_and_repeats_nothing(daemon: DaemonProcess) -> None:
    per_producer = 300
    follower = subprocess.Popen(
        [sys.executable, "-m", "waitbus", "--state-dir", str(daemon.state_dir), "-v", "tail",
         "-n", "0", "--follow", "--json", "--source", "load"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "WAITBUS_RECONNECT_S": "30"})
    try:
        from waitbus.demo.processes import read_until

        assert follower.stderr is not None
        assert follower.stdout is not None
        assert read_until(follower.stderr, "live at cursor", 10)
        producers = [
            subprocess.Popen([sys.executable, "-c", PRODUCER, f"p{n}", str(per_producer),
                              str(daemon.state_dir)])
            for n in range(20)
        ]
        first = follower.stdout.readline()  # producers are running: the daemon is delivering
        assert first
        daemon.kill()
        daemon.start()
        assert all(p.wait(120) == 0 for p in producers)
        total = 20 * per_producer
        lines = [first] + [follower.stdout.readline() for _ in range(total - 1)]
    finally:
        follower.kill()
        follower.communicate()
    import json

    ids = [json.loads(line)["delivery_id"] for line in lines]
    assert len(ids) == len(set(ids)) == total
    with Store(resolve(daemon.state_dir)) as store:
        assert store.count() == total


def test_another_uid_is_refused_even_when_file_modes_allow_it(daemon: DaemonProcess) -> None:
    sock_path = resolve(daemon.state_dir).socket
    body = wire.encode(wire.Subscribe(EVERYTHING, 0))
    # Debian's python: the default interpreter lives under root's 0700 home, unreadable to nobody.
    client = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        f"    s.connect({str(sock_path)!r})\n"
        "except PermissionError:\n"
        "    print('EACCES'); sys.exit(0)\n"
        "s.settimeout(10)\n"
        "try:\n"
        f"    s.sendall({body!r})\n"
        "    print('CLOSED' if s.recv(4096) == b'' else 'DATA')\n"
        "except (BrokenPipeError, ConnectionResetError):\n"
        "    print('CLOSED')\n"
    )
    argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            "/usr/bin/python3", "-c", client]
    assert subprocess.run(argv, capture_output=True, text=True, timeout=20,
                          check=True).stdout.strip() == "EACCES"
    root = daemon.state_dir
    for opened in (root.parent, root):
        os.chmod(opened, 0o755)
    os.chmod(sock_path, 0o777)
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=True)
    finally:
        os.chmod(sock_path, 0o600)
        for opened in (root.parent, root):
            os.chmod(opened, 0o700)
    assert result.stdout.strip() == "CLOSED"


@pytest.fixture
def listener(daemon: DaemonProcess) -> Path:
    return resolve(daemon.state_dir).socket


@pytest.mark.parametrize(
    "garbage",
    [b"\x00\x00\x00\x05hello", struct.pack(">I", 1 << 30), b"\x00\x00\x00\x02[]",
     b"\x00\x00\x00\x0e{\"t\":\"nope\"}  "],
)
def test_garbage_closes_only_that_client(daemon: DaemonProcess, listener: Path,
                                         garbage: bytes) -> None:
    healthy = start_wait(daemon.state_dir, "--source", "still-served", "--timeout", "20s")
    bad = raw_client(listener)
    bad.sendall(garbage)
    replies = read_replies(bad, wire.ErrorFrame)
    assert isinstance(replies[-1], wire.ErrorFrame)
    assert bad.recv(4096) == b""
    bad.close()
    emit("still-served", "x", state_dir=daemon.state_dir)
    healthy.communicate(timeout=10)
    assert healthy.returncode == 0


def test_slow_subscriber_lags_without_delaying_a_fast_one(state_dir: Path) -> None:
    running = DaemonProcess(state_dir, extra_args=()).start()
    try:
        slow = raw_client(resolve(state_dir).socket)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(wire.encode(wire.Subscribe(EVERYTHING, None, payload=True)))
        assert any(isinstance(r, wire.Live) for r in read_replies(slow, wire.Live))
        count = 6000
        big = "x" * 2048
        for i in range(count):
            emit("flood", "x", fields={"i": i}, payload=big, state_dir=state_dir)
        # The fast subscriber gets everything while the slow one has not read a byte.
        fast = collect(state_dir, count, timeout_s=60)
        assert [e.fields["i"] for e in fast] == list(range(count))
        replies = read_all(slow, count)
        lagged = [r for r in replies if isinstance(r, wire.Lagged)]
        events = [r.event.fields["i"] for r in replies if isinstance(r, wire.EventFrame)]
        assert lagged, "the slow subscriber should have been told it lagged"
        assert events == list(range(count)), "after lagging it resumes with nothing lost"
        slow.close()
    finally:
        running.stop()


def read_all(sock: socket.socket, count: int) -> list[wire.Reply]:
    decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
    replies: list[wire.Reply] = []
    seen = 0
    while seen < count:
        data = sock.recv(1 << 20)
        assert data, "daemon closed a slow subscriber instead of resuming it"
        for obj in decoder.feed(data):
            reply = wire.parse_reply(obj)
            replies.append(reply)
            seen += isinstance(reply, wire.EventFrame)
    return replies


def test_status_reports_head_and_subscribers(daemon: DaemonProcess) -> None:
    from waitbus.consumers.status import status

    emit("s", "x", state_dir=daemon.state_dir)
    waiter = start_wait(daemon.state_dir, "--source", "none", "--timeout", "20s")
    info = asyncio.run(status(resolve(daemon.state_dir)))
    assert info.head == 1
    assert len(info.subscribers) == 1
    assert info.subscribers[0].live
    waiter.kill()
    waiter.communicate()


def test_second_daemon_on_the_same_state_dir_refuses(daemon: DaemonProcess) -> None:
    from tests.conftest import run_cli

    result = run_cli(daemon.state_dir, "serve", timeout_s=20)
    assert result.returncode == 2
    assert "already serves" in result.stderr


def test_wait_returns_an_event_committed_before_subscribe(daemon: DaemonProcess) -> None:
    paths = resolve(daemon.state_dir)
    with Store(paths) as store:
        start = store.head()
    emit("early", "x", state_dir=daemon.state_dir)
    wait = waiting.build(source="early", since=start, timeout_s=10)
    outcome = asyncio.run(waiting.run(wait, paths))
    assert outcome.events[0].source == "early"


def test_row_whose_ring_was_lost_goes_out_when_a_subscriber_connects(
        daemon: DaemonProcess) -> None:
    """A writer that dies between commit and ring delays its event; it is never lost."""
    waiting = start_wait(daemon.state_dir, "--source", "silent", "--timeout", "20s")
    with Store(resolve(daemon.state_dir), on_commit=lambda: None) as store:
        store.append(emitter.draft("silent", "x"))  # committed, never rung
    other = start_wait(daemon.state_dir, "--source", "anything", "--timeout", "20s")
    waiting.communicate(timeout=20)
    other.kill()
    other.communicate()
    assert waiting.returncode == 0
