"""The fs source on Linux: real inotify, real file writes, a real daemon and `waitbus wait`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import run_cli, start_wait
from waitbus.demo import processes
from waitbus.event import Event
from waitbus.paths import resolve
from waitbus.store.store import Store

MAX_QUEUED = Path("/proc/sys/fs/inotify/max_queued_events")


@contextmanager
def watching(state_dir: Path, *paths: Path) -> Iterator[subprocess.Popen[str]]:
    """`waitbus -v serve --watch ...`, returned once its inotify watches are in place."""
    watch = [arg for p in paths for arg in ("--watch", str(p))]
    argv = processes.waitbus_argv(state_dir, "-v", "serve", "--listen-port", "off",
                                     *watch)
    proc = processes.start(argv, ready="fs: watching", stream="stderr")
    # Keep reading its log so a chatty daemon never blocks on a full pipe.
    threading.Thread(target=lambda: proc.stderr and proc.stderr.read(), daemon=True).start()
    try:
        yield proc
    finally:
        processes.stop(proc)


def fs_events(state_dir: Path) -> list[Event]:
    with Store(resolve(state_dir), read_only=True) as store:
        return [e for e in store.read_after(0) if e.source == "fs"]


def test_file_write_wakes_wait_with_path_name_kind_and_size(state_dir: Path,
                                                             tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    with watching(state_dir, tmp_path):
        waiter = start_wait(state_dir, "--source", "fs", "--match", 'fields.kind="close_write"',
                            "--timeout", "30s", "--json")
        target.write_bytes(b"x" * 123)
        out, _ = waiter.communicate(timeout=30)
    assert waiter.returncode == 0
    event = json.loads(out)
    assert event["type"] == "change"
    assert event["subject"] == str(target)
    assert event["fields"] == {"path": str(target), "name": "report.txt", "kind": "close_write",
                               "is_dir": False, "size": 123}


def test_create_move_and_delete_arrive_in_order_with_the_move_paired(
        state_dir: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    with watching(state_dir, tmp_path):
        waiter = start_wait(state_dir, "--source", "fs", "--match", 'fields.kind="delete"',
                            "--timeout", "30s")
        first.write_text("hello")
        first.rename(second)
        second.unlink()
        waiter.communicate(timeout=30)
    assert waiter.returncode == 0
    events = fs_events(state_dir)
    assert [e.fields["kind"] for e in events] == ["create", "close_write", "move", "delete"]
    move = events[2].fields
    assert (move["from"], move["to"], move["path"]) == (str(first), str(second), str(second))
    assert isinstance(move["cookie"], int)
    assert move["cookie"] > 0
    assert events[3].fields["path"] == str(second)


def test_move_out_of_the_watched_directory_keeps_its_known_end(state_dir: Path,
                                                               tmp_path: Path) -> None:
    watched, outside = tmp_path / "w", tmp_path / "elsewhere"
    watched.mkdir()
    (watched / "f").write_text("x")
    with watching(state_dir, watched):
        waiter = start_wait(state_dir, "--source", "fs", "--timeout", "30s", "--json")
        (watched / "f").rename(outside)
        out, _ = waiter.communicate(timeout=30)
    fields = json.loads(out)["fields"]
    assert (fields["kind"], fields["from"], fields["to"]) == ("move", str(watched / "f"), None)


def test_queue_overflow_in_the_daemon_becomes_a_failure_event(state_dir: Path,
                                                              tmp_path: Path) -> None:
    """A 64-event kernel queue, and a daemon stopped while 300 files appear."""
    if not os.access(MAX_QUEUED, os.W_OK):
        pytest.fail(f"this test lowers {MAX_QUEUED} for one inotify instance: run it as root")
    saved = MAX_QUEUED.read_text()
    try:
        # The kernel copies the limit into each instance at inotify_init1, so the low value
        # lives only until the daemon's watches are in place.
        MAX_QUEUED.write_text("64")
        daemon = watching(state_dir, tmp_path)
        proc = daemon.__enter__()
    finally:
        MAX_QUEUED.write_text(saved)
    try:
        waiter = start_wait(state_dir, "--source", "fs", "--match", 'type="overflow"',
                            "--timeout", "60s", "--json")
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            for i in range(300):
                (tmp_path / f"f{i}").write_bytes(b"")
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        out, _ = waiter.communicate(timeout=60)
    finally:
        daemon.__exit__(None, None, None)
    assert waiter.returncode == 1
    event = json.loads(out)
    assert event["conclusion"] == "failure"
    assert event["fields"]["paths"] == [str(tmp_path)]
    assert "rescan" in event["fields"]["message"]


def test_watching_a_missing_path_is_a_usage_error(state_dir: Path, tmp_path: Path) -> None:
    result = run_cli(state_dir, "serve", "--watch", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr
    assert "Traceback" not in result.stderr
