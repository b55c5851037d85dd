"""A store moved aside and re-created (`waitbus init`): producers and followers notice it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_cli
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

