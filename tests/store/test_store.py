"""The SQLite store: idempotent appends, cursor order, permissions, clear errors."""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from waitbus.errors import StoreError, UsageError
from waitbus.event import Conclusion
from waitbus.paths import resolve
from waitbus.sources import emitter
from waitbus.store import doorbell
from waitbus.store.store import Store


def test_append_assigns_increasing_cursors(state_dir: Path) -> None:
    with Store(resolve(state_dir)) as store:
        cursors = [store.append(emitter.draft("t", "x", fields={"i": i}))[0].cursor
                   for i in range(5)]
        assert cursors == sorted(cursors)
        assert len(set(cursors)) == 5
        assert store.head() == cursors[-1]
        assert [e.fields["i"] for e in store.read_after(cursors[1])] == [2, 3, 4]


def test_same_delivery_id_is_a_noop_returning_the_stored_event(state_dir: Path) -> None:
    with Store(resolve(state_dir)) as store:
        first, new = store.append(emitter.draft("t", "x", delivery_id="once", fields={"v": 1}))
        again, new_again = store.append(
            emitter.draft("t", "x", delivery_id="once", fields={"v": 2}))
        assert new
        assert not new_again
        assert again == first
        assert again.fields == {"v": 1}
        assert store.count() == 1


def test_payload_is_stored_but_read_only_on_request(state_dir: Path) -> None:
    with Store(resolve(state_dir)) as store:
        event, _ = store.append(emitter.draft("t", "x", payload='{"big": true}'))
        assert store.read_after(0)[0].payload is None
        assert store.read_after(0, payload=True)[0].payload == '{"big": true}'
        full = store.get(event.cursor)
        assert full is not None
        assert full.payload == '{"big": true}'


def test_state_directory_and_store_are_private(state_dir: Path) -> None:
    state_dir.mkdir(mode=0o755, parents=True)
    os.chmod(state_dir, 0o755)
    with Store(resolve(state_dir)):
        pass
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((state_dir / "events.db").stat().st_mode) == 0o600


def test_cursor_before_finds_the_last_event_received_earlier(state_dir: Path) -> None:
    with Store(resolve(state_dir)) as store:
        early = store.append(emitter.draft("t", "x", received_at=100))[0]
        store.append(emitter.draft("t", "x", received_at=200))
        assert store.cursor_before(150) == early.cursor
        assert store.cursor_before(50) == 0


def test_bad_conclusion_is_a_usage_error_listing_choices() -> None:
    with pytest.raises(UsageError, match="success, failure, cancelled, timed_out"):
        emitter.draft("t", "x", conclusion="passed")
    assert emitter.draft("t", "x", conclusion="failure").conclusion is Conclusion.FAILURE


def test_oversized_fields_are_refused_with_a_hint() -> None:
    with pytest.raises(UsageError, match="put the rest in the payload"):
        emitter.draft("t", "x", fields={"blob": "x" * 70_000})


def test_damaged_store_gives_a_store_error_saying_what_to_do(state_dir: Path) -> None:
    state_dir.mkdir(mode=0o700)
    (state_dir / "events.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="move it aside and run `waitbus init`"):
        Store(resolve(state_dir))


def test_a_failed_write_loses_nothing_already_stored_and_says_so(tmp_path: Path) -> None:
    """A write the kernel refuses part-way (RLIMIT_FSIZE: EFBIG, an I/O error to SQLite);
    tests/e2e/test_full_disk.py fills a real tmpfs."""
    import resource
    import subprocess
    import sys

    state = tmp_path / "s"
    with Store(resolve(state)) as store:
        store.append(emitter.draft("t", "x", delivery_id="kept"))
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({10_000}, {10_000}))\n"
        "from waitbus import emit, WaitbusError\n"
        "try:\n"
        f"    emit('t', 'x', payload='y' * 200_000, state_dir={str(state)!r})\n"
        "except WaitbusError as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    del resource
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 3, result.stderr
    assert "nothing was stored" in result.stdout
    with Store(resolve(state)) as store:
        assert [e.delivery_id for e in store.read_after(0)] == ["kept"]


def test_reader_opening_a_store_before_its_schema_exists_sees_it_empty(state_dir: Path) -> None:
    import sqlite3

    state_dir.mkdir(mode=0o700)
    sqlite3.connect(state_dir / "events.db").close()  # the file a starting daemon just made
    with Store(resolve(state_dir), read_only=True) as store:
        assert store.head() == 0
        assert store.read_after(0) == []


def test_origin_is_local_unless_the_draft_names_another_host(state_dir: Path) -> None:
    with Store(resolve(state_dir)) as store:
        mine, _ = store.append(emitter.draft("t", "x"))
        theirs, _ = store.append(replace(emitter.draft("t", "x"), origin="hostb"))
        assert (mine.origin, theirs.origin) == ("local", "hostb")
        assert [e.origin for e in store.read_after(0)] == ["local", "hostb"]
        stored = store.get(theirs.cursor)
        assert stored is not None
        assert stored.origin == "hostb"


def test_store_from_version_1_gains_origin_and_keeps_its_rows(state_dir: Path) -> None:
    state_dir.mkdir(mode=0o700)
    db = sqlite3.connect(state_dir / "events.db")
    db.executescript(VERSION_1_SCHEMA)
    db.execute("INSERT INTO events (delivery_id, source, type, received_at, fields)"
               " VALUES ('old', 'ci', 'build', 1, '{}')")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    with Store(resolve(state_dir), read_only=True) as reader:
        (old,) = reader.read_after(0)
        assert (old.delivery_id, old.origin) == ("old", "local")
    with Store(resolve(state_dir)) as store:
        new, _ = store.append(replace(emitter.draft("ci", "build"), origin="hostb"))
        assert [e.origin for e in store.read_after(0)] == ["local", "hostb"]
        assert new.cursor == old.cursor + 1


VERSION_1_SCHEMA = """
CREATE TABLE events (
    cursor      INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT    NOT NULL UNIQUE,
    source      TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    subject     TEXT,
    conclusion  TEXT,
    received_at INTEGER NOT NULL,
    fields      TEXT    NOT NULL,
    payload     TEXT
);
"""


def test_bridge_marks_keep_the_export_cursor_and_the_state_apart(state_dir: Path) -> None:
    with Store(resolve(state_dir)) as store:
        assert store.bridges() == {}
        store.mark_bridge("nats", exported=5)
        store.mark_bridge("nats", state={"connected": True})
        store.mark_bridge("nats", exported=9)
        assert store.bridges() == {"nats": (9, {"connected": True})}


def test_append_many_commits_a_burst_in_order_and_rings_once(state_dir: Path) -> None:
    paths = resolve(state_dir)
    with Store(paths) as store:
        bell = doorbell.bind(paths.doorbell)
        try:
            stored = store.append_many([emitter.draft("t", "x", fields={"i": i})
                                        for i in range(50)])
            assert doorbell.drain(bell) == 1
        finally:
            bell.close()
        assert [new for _event, new in stored] == [True] * 50
        assert [e.fields["i"] for e in store.read_after(0, limit=100)] == list(range(50))
        assert [e for e, _new in stored] == store.read_after(0, limit=100)


def test_append_many_returns_the_stored_event_for_a_known_or_repeated_id(
        state_dir: Path) -> None:
    with Store(resolve(state_dir)) as store:
        first, _ = store.append(emitter.draft("t", "x", delivery_id="old", fields={"v": 1}))
        stored = store.append_many([
            emitter.draft("t", "x", delivery_id="old", fields={"v": 2}),
            emitter.draft("t", "x", delivery_id="new", fields={"v": 3}),
            emitter.draft("t", "x", delivery_id="new", fields={"v": 4}),
        ])
        assert stored[0] == (first, False)
        assert stored[1][1] is True
        assert stored[2] == (stored[1][0], False)
        assert stored[2][0].fields == {"v": 3}
        assert store.count() == 2


def test_append_many_of_nothing_stores_and_rings_nothing(state_dir: Path) -> None:
    paths = resolve(state_dir)
    with Store(paths) as store:
        bell = doorbell.bind(paths.doorbell)
        try:
            assert store.append_many([]) == []
            assert doorbell.drain(bell) == 0
        finally:
            bell.close()
        assert store.count() == 0


def test_a_reader_refuses_to_append_and_needs_an_existing_store(state_dir: Path) -> None:
    with pytest.raises(StoreError, match="no event store"):
        Store(resolve(state_dir), read_only=True)
    with Store(resolve(state_dir)) as writer:
        writer.append(emitter.draft("t", "x"))
    with Store(resolve(state_dir), read_only=True) as reader:
        assert reader.head() == 1
        with pytest.raises(StoreError, match="read-only"):
            reader.append(emitter.draft("t", "x"))


def test_on_commit_runs_once_per_commit_that_adds_rows(state_dir: Path) -> None:
    commits: list[None] = []
    with Store(resolve(state_dir), on_commit=lambda: commits.append(None)) as store:
        store.append(emitter.draft("t", "x", delivery_id="a"))
        assert len(commits) == 1
        store.append(emitter.draft("t", "x", delivery_id="a"))
        assert len(commits) == 1
        store.append_many([emitter.draft("t", "x", delivery_id=d) for d in ("a", "b", "c")])
        assert len(commits) == 2
        store.append_many([emitter.draft("t", "x", delivery_id="b")])
        assert len(commits) == 2


def test_an_ordinary_open_takes_no_write_lock(state_dir: Path) -> None:
    import fcntl
    import threading

    paths = resolve(state_dir)
    with Store(paths):
        pass
    held = os.open(paths.store_lock, os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)  # as a writer in the middle of a commit
    try:
        opening = threading.Thread(target=lambda: Store(paths).close())
        opening.start()
        opening.join(10)
        assert not opening.is_alive(), "opening an up-to-date store waited for the write lock"
    finally:
        fcntl.flock(held, fcntl.LOCK_UN)
        os.close(held)
        opening.join(10)
