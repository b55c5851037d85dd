"""A store the daemon cannot read: the daemon says so and logs it, clients stop and report it."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import threading
from pathlib import Path

import pytest

from tests.conftest import DaemonProcess, run_cli
from waitbus import emit_many
from waitbus.cli.exits import Exit
from waitbus.consumers.feed import Feed
from waitbus.demo import processes
from waitbus.errors import ProtocolError, StoreError
from waitbus.match import EVERYTHING
from waitbus.paths import resolve


def damaged_under_a_running_daemon(state_dir: Path) -> DaemonProcess:
    """3,000 events, a daemon serving them, then garbage over pages in the middle of the file."""
    emit_many(({"source": "ci", "type": "build", "payload": "x" * 2000, "fields": {"i": i}}
               for i in range(3000)), state_dir=state_dir)
    with sqlite3.connect(state_dir / "events.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    running = DaemonProcess(state_dir).start()
    size = (state_dir / "events.db").stat().st_size
    with (state_dir / "events.db").open("r+b") as handle:
        for offset in range(size // 4, size // 2, 3 * 4096):
            handle.seek(offset)
            handle.write(os.urandom(4096))
    return running


def test_a_replay_error_ends_the_subscription_with_the_store_error_and_is_logged(
        state_dir: Path) -> None:
    running = damaged_under_a_running_daemon(state_dir)
    feed = Feed(resolve(state_dir), EVERYTHING, cursor=0, reconnect_s=5)

    async def follow() -> None:
        async with asyncio.timeout(20):
            async for _item in feed:
                pass

    assert running.proc is not None
    try:
        with pytest.raises(StoreError, match=r"could not read the store.*malformed"):
            asyncio.run(follow())
    finally:
        processes.stop(running.proc, keep_pipes=True)
        assert running.proc.stderr is not None
        logged = running.proc.stderr.read()
        processes.stop(running.proc)
    assert feed.connects == 1  # no reconnect storm
    assert "could not replay the store" in logged


def test_wait_over_a_damaged_store_exits_74_not_124(state_dir: Path) -> None:
    running = damaged_under_a_running_daemon(state_dir)
    try:
        done = run_cli(state_dir, "wait", "--source", "nope", "--since", "0", "--timeout", "10s")
    finally:
        running.stop()
    assert done.returncode == Exit.STORE, done.stderr
    assert "malformed" in done.stderr


def test_a_daemon_that_keeps_closing_is_backed_off_from_and_given_up_on(
        tmp_path: Path) -> None:
    paths = resolve(tmp_path / "s").ensure()
    # A stand-in for a daemon that cannot serve (the real one closes like this only for another
    # user's client, which the client itself already refuses).
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(os.fspath(paths.socket))
    server.listen(64)
    accepted = 0

    def close_each() -> None:
        nonlocal accepted
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted += 1
            conn.close()

    threading.Thread(target=close_each, daemon=True).start()
    feed = Feed(paths, EVERYTHING, cursor=0, reconnect_s=1.0)
    try:
        with pytest.raises(ProtocolError, match="without answering"):
            for _batch in feed.blocking_batches():
                pass
    finally:
        server.close()
    assert accepted < 15  # backed off: not thousands of reconnects a second
