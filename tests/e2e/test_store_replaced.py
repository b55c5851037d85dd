"""A store moved aside and re-created (`waitbus init`): producers and followers notice it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import DaemonProcess, run_cli, start_wait
from waitbus.demo import processes
from waitbus.demo.processes import read_until
from waitbus.paths import resolve
from waitbus.store.store import Store

# A long-lived producer: one emit per line read from stdin, its cursor printed after each.
PRODUCER = """
import sys
import waitbus
for line in sys.stdin:
    event = waitbus.emit("ci", "build", subject=line.strip(), state_dir=sys.argv[1])
    print(event.cursor, flush=True)
"""


def move_store_aside(state_dir: Path) -> Path:
    """What the damaged-store advice says: move the store (with its -wal and -shm) aside."""
    aside = state_dir.parent / "aside"
    aside.mkdir()
    for name in ("events.db", "events.db-wal", "events.db-shm"):
        if (state_dir / name).exists():
            (state_dir / name).rename(aside / name)
    return aside


def emit_through(producer: subprocess.Popen[str], subject: str) -> int:
    assert producer.stdin is not None
    assert producer.stdout is not None
    producer.stdin.write(subject + "\n")
    producer.stdin.flush()
    line = read_until(producer.stdout, "", 30)
    assert line is not None, "the producer died"
    return int(line)


def test_a_long_lived_producer_writes_into_the_new_store_after_a_reset(state_dir: Path) -> None:
    assert run_cli(state_dir, "init").returncode == 0
    producer = subprocess.Popen([sys.executable, "-c", PRODUCER, str(state_dir)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert emit_through(producer, "before") == 1
        assert emit_through(producer, "before") == 2
        aside = move_store_aside(state_dir)
        assert run_cli(state_dir, "init").returncode == 0
        assert emit_through(producer, "after") == 1
    finally:
        assert producer.stdin is not None
        producer.stdin.close()
        assert producer.wait(30) == 0
        processes.stop(producer)
    with Store(resolve(state_dir), read_only=True) as store:
        assert [e.subject for e in store.read_after(0)] == ["after"]
    # Nothing written after the reset went to the file that was moved aside.
    old = sqlite3.connect(f"file:{aside / 'events.db'}?mode=ro", uri=True)
    try:
        assert [s for (s,) in old.execute("SELECT subject FROM events")] == ["before", "before"]
    finally:
        old.close()


def test_tail_follow_says_the_store_was_replaced_and_shows_the_new_events(
        daemon: DaemonProcess) -> None:
    state_dir = daemon.state_dir
    before = json.loads(run_cli(state_dir, "status", "--json").stdout)["generation"]
    for n in range(3):
        assert run_cli(state_dir, "emit", "--source", "ci", "--type", f"old{n}").returncode == 0
    follower = processes.start(
        processes.waitbus_argv(state_dir, "-v", "tail", "-n", "0", "--follow", "--json"),
        ready="live at cursor 3", stream="stderr")
    try:
        assert follower.stdout is not None
        assert follower.stderr is not None
        move_store_aside(state_dir)
        assert run_cli(state_dir, "init").returncode == 0
        assert run_cli(state_dir, "emit", "--source", "ci", "--type", "new").returncode == 0
        said = read_until(follower.stderr, "replaced", 30)
        assert said is not None, "tail -f did not say that the store was replaced"
        line = read_until(follower.stdout, "", 30)
        assert line is not None, "tail -f did not show the new store's event"
        shown = json.loads(line)
        assert (shown["type"], shown["cursor"]) == ("new", 1)
        now = json.loads(run_cli(state_dir, "status", "--json").stdout)["generation"]
        with Store(resolve(state_dir), read_only=True) as store:
            assert now == store.generation != before
    finally:
        processes.stop(follower)


def test_wait_from_a_cursor_of_the_replaced_store_says_so_and_counts_the_new_one(
        state_dir: Path) -> None:
    for kind in ("old", "old", "old"):
        assert run_cli(state_dir, "emit", "--source", "ci", "--type", kind).returncode == 0
    move_store_aside(state_dir)
    assert run_cli(state_dir, "emit", "--source", "ci", "--type", "new").returncode == 0
    done = run_cli(state_dir, "wait", "--source", "ci", "--since", "3", "--timeout", "0",
                   "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["type"] == "new"
    assert "cursor 3 is beyond the newest cursor of this store, 1" in done.stderr


def test_a_running_wait_matches_in_the_new_store_and_says_the_store_was_replaced(
        daemon: DaemonProcess) -> None:
    state_dir = daemon.state_dir
    assert run_cli(state_dir, "emit", "--source", "ci", "--type", "build").returncode == 0
    waiting = start_wait(state_dir, "--source", "ci", "--match", 'type="deploy"', "--json",
                         "--timeout", "30s")
    try:
        move_store_aside(state_dir)
        assert run_cli(state_dir, "emit", "--source", "ci", "--type", "deploy").returncode == 0
        out, err = waiting.communicate(timeout=30)
    finally:
        processes.stop(waiting)
    assert waiting.returncode == 0, err
    assert (json.loads(out)["type"], json.loads(out)["cursor"]) == ("deploy", 1)
    assert "the event store was replaced" in err


def test_init_refuses_to_pair_a_new_store_with_the_wal_left_behind(
        daemon: DaemonProcess) -> None:
    state_dir = daemon.state_dir
    assert run_cli(state_dir, "emit", "--source", "ci", "--type", "old").returncode == 0
    aside = state_dir.parent / "aside"
    aside.mkdir()
    (state_dir / "events.db").rename(aside / "events.db")  # its -wal and -shm stay behind
    refused = run_cli(state_dir, "init")
    assert refused.returncode == 74, refused.stderr
    assert "events.db-wal is left from a store that was moved away" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (state_dir / "events.db").exists()
    for name in ("events.db-wal", "events.db-shm"):
        (state_dir / name).rename(aside / name)
    assert run_cli(state_dir, "init").returncode == 0
    assert run_cli(state_dir, "emit", "--source", "ci", "--type", "new").returncode == 0
    with Store(resolve(state_dir), read_only=True) as store:
        assert [e.type for e in store.read_after(0)] == ["new"]
