"""A commit stuck behind the store's write lock holds up only itself: the daemon answers."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import DaemonProcess, run_cli, start_wait
from tests.lock_holder import holding_the_store_lock, release, waiting_on_the_lock
from tests.sources.webhook_client import (
    SECRET,
    Answer,
    deliver,
    fixture,
    listening_daemon,
    write_secret,
)
from waitbus import wire
from waitbus.consumers.status import status
from waitbus.demo import processes
from waitbus.match import AnyOf, Match
from waitbus.paths import StatePaths, resolve
from waitbus.secrets import GITHUB_WEBHOOK

BOUND_S = 30.0
# How long the replaced-store test keeps asking for status while the lock is held.
LOOK_S = 5.0


def ask_status(paths: StatePaths) -> int:
    """The daemon's head, asked over its socket; fails the test if it does not answer."""
    async def ask() -> int:
        async with asyncio.timeout(BOUND_S):
            return (await status(paths, reconnect_s=0)).head
    try:
        return asyncio.run(ask())
    except TimeoutError:
        pytest.fail(f"the daemon did not answer status within {BOUND_S:g} s while a commit "
                    "waited on the store's write lock")


def test_status_answers_while_a_webhook_commit_waits_on_the_store_lock(state_dir: Path) -> None:
    """The held delivery is answered only once stored, then fanned out to a waiting client."""
    write_secret(state_dir, GITHUB_WEBHOOK, SECRET)
    paths = resolve(state_dir)
    body = fixture("ping")
    with listening_daemon(state_dir) as (url, _daemon):
        late: subprocess.Popen[str] | None = None
        waiter = start_wait(state_dir, "--source", "github", "--match",
                            'delivery_id="github:d-held"', "--timeout", "60s", "--json")
        try:
            with holding_the_store_lock(paths) as holder:
                answers: queue.Queue[Answer] = queue.Queue()
                post = threading.Thread(target=lambda: answers.put(
                    deliver(url, "ping", "d-held", body, timeout_s=2 * BOUND_S)), daemon=True)
                post.start()
                # Each look at the kernel's lock table is paced by a status round trip: once
                # the loop is stuck in the lock (the bug), status is what stops answering.
                deadline = time.monotonic() + BOUND_S
                while not waiting_on_the_lock(paths):
                    assert answers.empty(), "the delivery was answered without its commit"
                    if time.monotonic() > deadline:
                        pytest.fail(f"the delivery's commit did not wait on the store's lock "
                                    f"within {BOUND_S:g} s")
                    ask_status(paths)
                try:
                    shown = run_cli(state_dir, "status", "--json", timeout_s=BOUND_S)
                except subprocess.TimeoutExpired:
                    pytest.fail(f"`waitbus status` did not answer within {BOUND_S:g} s while a "
                                "commit waited on the store's write lock")
                assert shown.returncode == 0, shown.stderr
                said = json.loads(shown.stdout)
                assert (said["head"], said["pending_commits"]) == (0, 1)
                assert said["oldest_pending_s"] > 0
                text = run_cli(state_dir, "status", timeout_s=BOUND_S).stdout
                assert "1 commit(s) not stored yet" in text, text
                # A subscriber connecting makes the daemon read the store on its loop (the
                # fan-out catching up) and replay in a thread: WAL readers wait on no writer.
                late = start_wait(state_dir, "--source", "github", "--since", "0",
                                  "--timeout", "60s", "--json")
                assert answers.empty(), "the delivery was answered before it was stored"
                assert waiter.poll() is None, "the wait ended before the event was stored"
                release(holder)
            answer = answers.get(timeout=BOUND_S)
            assert answer.status == 200, answer.body
            out, err = waiter.communicate(timeout=BOUND_S)
            late_out, late_err = late.communicate(timeout=BOUND_S)
        finally:
            processes.stop(waiter)
            if late is not None:
                processes.stop(late)
        assert waiter.returncode == 0, err
        assert json.loads(out)["delivery_id"] == "github:d-held"
        assert late.returncode == 0, late_err
        assert json.loads(late_out)["delivery_id"] == "github:d-held"
        assert ask_status(paths) == 1


def loop_thread_waits_on_a_lock(pid: int) -> bool:
    """Whether the daemon's main thread (its event loop) sleeps in the kernel's file-lock wait."""
    with open(f"/proc/{pid}/task/{pid}/wchan", encoding="ascii") as wchan:
        return "lock" in wchan.read()


def test_a_replacing_store_still_being_created_behind_a_held_lock_stops_no_one(
        state_dir: Path, daemon: DaemonProcess) -> None:
    """The daemon follows a new store once it has its schema; it never creates it on its loop."""
    paths = resolve(state_dir)
    aside = state_dir.parent / "aside"
    aside.mkdir()
    for name in ("events.db", "events.db-wal", "events.db-shm"):
        if (state_dir / name).exists():
            (state_dir / name).rename(aside / name)
    # What a writer creating the new store has made when it waits for the write lock.
    os.close(os.open(paths.store, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with holding_the_store_lock(paths), socket.socket(socket.AF_UNIX) as sub:
        # A subscriber makes the daemon look at the store's path, then replay it in a thread,
        # whose open of the schema-less file waits for the write lock: seen in /proc/locks.
        sub.connect(str(paths.socket))
        sub.sendall(wire.encode(wire.Subscribe(AnyOf((Match("ci", ()),)), None)))
        # Whether the replay's thread gets as far as the lock depends on when the daemon looks
        # at the new file; either way the loop must keep answering while the lock is held.
        deadline = time.monotonic() + LOOK_S
        while not waiting_on_the_lock(paths) and time.monotonic() < deadline:
            ask_status(paths)
        assert not loop_thread_waits_on_a_lock(daemon.pid)
        assert ask_status(paths) == 0
    assert run_cli(state_dir, "emit", "--source", "ci", "--type", "build").returncode == 0
    # Once it has its schema (and an event) the new store is followed and fanned out.
    found = run_cli(state_dir, "wait", "--source", "ci", "--since", "0", "--timeout", "30s",
                    "--json", timeout_s=BOUND_S)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["cursor"] == 1
