"""Subscribers that ask for payloads and stop reading cost the daemon a bounded amount of memory,
and lose nothing once they read again."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from tests.conftest import DaemonProcess
from waitbus import emit_many, wire
from waitbus.event import Event
from waitbus.match import EVERYTHING
from waitbus.paths import resolve

STALLED = 10
EVENTS = 600
PAYLOAD = "p" * (256 * 1024)  # 150 MiB of payloads in all
# docs/ARCHITECTURE.md's budget for this: well under what the payloads alone would take.
BUDGET_MIB = 100


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # the peak, so a spike between readings counts too
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def stalled_subscriber(state_dir: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(os.fspath(resolve(state_dir).socket))
    sock.sendall(wire.encode(wire.Subscribe(EVERYTHING, None, payload=True)))
    return sock


def read_events(sock: socket.socket, count: int) -> list[Event]:
    decoder = wire.FrameDecoder(wire.MAX_REPLY_BYTES)
    events: list[Event] = []
    sock.settimeout(60)
    while len(events) < count:
        data = sock.recv(1 << 20)
        assert data, f"closed after {len(events)} events"
        for obj in decoder.feed(data):
            reply = wire.parse_reply(obj)
            if isinstance(reply, wire.EventFrame):
                events.append(reply.event)
    return events


def test_ten_stalled_payload_subscribers_stay_within_the_budget_and_lose_nothing(
        daemon: DaemonProcess) -> None:
    subs = [stalled_subscriber(daemon.state_dir) for _ in range(STALLED)]
    try:
        for sock in subs:  # each is live before anything is emitted: its `live` frame arrived
            sock.settimeout(10)
            assert wire.FrameDecoder(wire.MAX_REPLY_BYTES).feed(sock.recv(4096))
        before = rss_mib(daemon.pid)
        for start in range(0, EVENTS, 50):
            emit_many(({"source": "big", "type": "blob", "payload": PAYLOAD,
                        "fields": {"i": i}} for i in range(start, start + 50)),
                      state_dir=daemon.state_dir)
        got = read_events(subs[0], EVENTS)
        grown = rss_mib(daemon.pid) - before
    finally:
        for sock in subs:
            sock.close()
    assert [e.fields["i"] for e in got] == list(range(EVENTS))
    assert all(e.payload == PAYLOAD for e in got)
    assert grown < BUDGET_MIB, f"the daemon grew {grown:.0f} MiB"
