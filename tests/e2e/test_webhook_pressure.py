"""Hundreds of idle local connections cannot lock a valid webhook delivery out of the listener."""

from __future__ import annotations

import contextlib
import json
import re
import selectors
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import run_cli
from tests.sources.webhook_client import SECRET, deliver, fixture, write_secret
from waitbus.demo import processes
from waitbus.secrets import GITHUB_WEBHOOK

IDLE = 500
# Well under the listener's 10 s request timeout: an answer that had to wait for a held
# connection to time out would miss it.
ANSWER_BOUND_S = 5.0


@contextmanager
def serving(state_dir: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A real `waitbus serve --listen-port 0`, its stdout and stderr piped; yields its URL."""
    write_secret(state_dir, GITHUB_WEBHOOK, SECRET)
    argv = processes.waitbus_argv(state_dir, "serve", "--listen-port", "0")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = processes.read_until(proc.stdout, "webhook listener on", 15)
        assert line is not None, "serve did not report its listener"
        found = re.search(r"http://[0-9.]+:\d+", line)
        assert found is not None
        yield found.group(), proc
    finally:
        processes.stop(proc)


def hold(port: int, count: int) -> list[socket.socket]:
    """Open `count` connections that never send a byte."""
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]


class Reconnecting:
    """`count` idle connections, each opened again the moment the listener closes it."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.selector = selectors.DefaultSelector()
        for sock in hold(port, count):
            self.selector.register(sock, selectors.EVENT_READ)
        self.stop = threading.Event()
        self.reopened = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.selector.select(0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                with contextlib.suppress(OSError):
                    if sock.recv(1) != b"":
                        continue
                self.selector.unregister(sock)
                sock.close()
                with contextlib.suppress(OSError):
                    fresh = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                    self.selector.register(fresh, selectors.EVENT_READ)
                    self.reopened += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self.selector.close()


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_500_idle_connections_do_not_keep_a_signed_delivery_from_an_answer(
        state_dir: Path) -> None:
    body = fixture("workflow_run.completed")
    with serving(state_dir) as (url, proc):
        held = hold(port_of(url), IDLE)
        try:
            answer = deliver(url, "workflow_run", "under-pressure-1", body, ANSWER_BOUND_S)
            assert proc.stderr is not None
            said = processes.read_until(proc.stderr, "under pressure", 10)
            status = json.loads(run_cli(state_dir, "status", "--json").stdout)
        finally:
            for sock in held:
                sock.close()
        over = processes.read_until(proc.stderr, "pressure over", 15)
        after = json.loads(run_cli(state_dir, "status", "--json").stdout)
    assert answer.status == 200, answer.body
    assert said is not None
    webhook = status["sources"]["webhook"]
    assert webhook["state"] == "degraded"
    assert "under pressure" in webhook["error"]
    assert over is not None
    assert after["sources"]["webhook"]["state"] == "running"


def test_holders_that_reconnect_at_once_cannot_lock_a_delivery_out(state_dir: Path) -> None:
    body = fixture("workflow_run.completed")
    with serving(state_dir) as (url, _proc):
        holders = Reconnecting(port_of(url), IDLE)
        try:
            answers = [deliver(url, "workflow_run", f"reconnect-{i}", body, ANSWER_BOUND_S)
                       for i in range(5)]
        finally:
            holders.close()
    assert [a.status for a in answers] == [200] * 5
    assert holders.reopened > 0  # the listener did close held connections to make room
