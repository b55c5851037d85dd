"""A store's generation, and what a Store does when its file is moved aside and created again."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.store.test_store import VERSION_1_SCHEMA
from waitbus.config import Retention
from waitbus.errors import StoreError
from waitbus.paths import StatePaths, resolve
from waitbus.sources import emitter
from waitbus.store import retention, schema
from waitbus.store.store import Store


def move_aside(paths: StatePaths, to: Path) -> None:
    to.mkdir()
    for name in ("events.db", "events.db-wal", "events.db-shm"):
        if (paths.root / name).exists():
            (paths.root / name).rename(to / name)


def test_each_new_store_draws_its_own_generation_and_keeps_it(state_dir: Path) -> None:
    paths = resolve(state_dir)
    with Store(paths) as store:
        first = store.generation
    with Store(paths, read_only=True) as reader:
        assert reader.generation == first
    move_aside(paths, state_dir.parent / "aside")
    with Store(paths) as store:
        assert len(store.generation) == 16
        int(store.generation, 16)
        assert store.generation != first


def test_a_store_from_before_generations_gains_one_when_first_opened(state_dir: Path) -> None:
    state_dir.mkdir(mode=0o700)
    db = sqlite3.connect(state_dir / "events.db")
    db.executescript(VERSION_1_SCHEMA)
    db.execute("INSERT INTO events (delivery_id, source, type, received_at, fields)"
               " VALUES ('old', 'ci', 'build', 1, '{}')")
    db.execute("PRAGMA user_version=4")  # the version before generations
    db.commit()
    assert schema.generation(db) == ""
    db.close()
    with Store(resolve(state_dir), read_only=True) as reader:
        drawn = reader.generation
        assert len(drawn) == 16
        assert [e.delivery_id for e in reader.read_after(0)] == ["old"]
    with Store(resolve(state_dir)) as store:
        assert store.generation == drawn
        with store.reading() as db:
            (version,) = db.execute("PRAGMA user_version").fetchone()
        assert version == schema.VERSION


def test_a_writer_appends_to_the_new_store_after_the_old_one_was_moved_aside(
        state_dir: Path) -> None:
    paths = resolve(state_dir)
    with Store(paths) as writer:
        writer.append(emitter.draft("ci", "before"))
        old_generation = writer.generation
        move_aside(paths, state_dir.parent / "aside")
        with Store(paths) as other:  # `waitbus init`, or another producer
            other.append(emitter.draft("ci", "other"))
            assert writer.replaced()
            event, new = writer.append(emitter.draft("ci", "after"))
            assert (event.cursor, new) == (2, True)
            assert not writer.replaced()
            assert writer.generation == other.generation != old_generation
        with Store(paths, read_only=True) as reader:
            assert [e.type for e in reader.read_after(0)] == ["other", "after"]


def test_a_writer_whose_store_was_deleted_creates_a_new_one(state_dir: Path) -> None:
    paths = resolve(state_dir)
    with Store(paths) as writer:
        writer.append(emitter.draft("ci", "before"))
        move_aside(paths, state_dir.parent / "aside")
        event, _ = writer.append(emitter.draft("ci", "after"))
        assert event.cursor == 1
    with Store(paths, read_only=True) as reader:
        assert [e.type for e in reader.read_after(0)] == ["after"]


def test_closing_the_old_connection_leaves_the_new_stores_files_alone(state_dir: Path) -> None:
    paths = resolve(state_dir)
    writer = Store(paths)
    writer.append(emitter.draft("ci", "before"))
    move_aside(paths, state_dir.parent / "aside")
    with Store(paths) as other:
        other.append(emitter.draft("ci", "kept"))  # in the new store's WAL, not yet copied
        writer.append(emitter.draft("ci", "after"))  # reopens, closing the old connection
        writer.close()
        assert (state_dir / "events.db-wal").exists()
        with Store(paths, read_only=True) as reader:
            assert [e.type for e in reader.read_after(0)] == ["kept", "after"]


def test_a_reader_reopens_on_the_new_store_when_asked(state_dir: Path) -> None:
    paths = resolve(state_dir)
    with Store(paths) as writer:
        writer.append(emitter.draft("ci", "before"))
    with Store(paths, read_only=True) as reader:
        assert not reader.reopen_if_replaced()
        move_aside(paths, state_dir.parent / "aside")
        with Store(paths) as writer:
            writer.append(emitter.draft("ci", "after"))
            assert reader.reopen_if_replaced()
            assert reader.generation == writer.generation
        assert [e.type for e in reader.read_after(0)] == ["after"]


def test_a_retention_pass_plans_on_the_store_now_at_the_path(state_dir: Path) -> None:
    paths = resolve(state_dir)
    with Store(paths) as writer:
        for _ in range(10):
            writer.append(emitter.draft("ci", "old"))
        pruner = retention.Pruner(writer)
        move_aside(paths, state_dir.parent / "aside")
        with Store(paths) as other:
            for _ in range(3):
                other.append(emitter.draft("ci", "new"))
        plan = pruner.plan(Retention(max_age_s=None, max_bytes=None, max_rows=1), time.time_ns())
        assert plan.through == 2  # of the new store's three, not the moved-aside store's ten


def test_no_store_is_made_beside_the_wal_of_one_moved_away_without_it(state_dir: Path) -> None:
    paths = resolve(state_dir)
    with Store(paths) as writer:
        writer.append(emitter.draft("ci", "before"))
        assert (state_dir / "events.db-wal").exists()
        (state_dir / "events.db").rename(state_dir.parent / "events.db")  # the -wal stays
        with pytest.raises(StoreError, match=r"events\.db-wal is left from a store"):
            Store(paths)  # `waitbus init`, or any producer
        with pytest.raises(StoreError, match=r"events\.db-wal is left from a store"):
            writer.append(emitter.draft("ci", "lost?"))  # refused, never paired with it
        assert not (state_dir / "events.db").exists()
        for name in ("events.db-wal", "events.db-shm"):
            (state_dir / name).rename(state_dir.parent / name)
        event, _ = writer.append(emitter.draft("ci", "after"))
        assert event.cursor == 1


def test_a_store_moved_away_while_it_opens_is_followed_at_the_next_write(
        state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = resolve(state_dir)
    with Store(paths) as first:
        first.append(emitter.draft("ci", "old"))
    opened = Store._opened

    def moved_while_opening(store: Store) -> None:
        # The race made certain: the file goes between the connect and the stat that notes it.
        move_aside(paths, state_dir.parent / "aside")
        opened(store)

    monkeypatch.setattr(Store, "_opened", moved_while_opening)
    writer = Store(paths)
    monkeypatch.undo()
    with writer:
        event, _ = writer.append(emitter.draft("ci", "new"))
        assert event.cursor == 1
    with Store(paths, read_only=True) as reader:
        assert [e.type for e in reader.read_after(0)] == ["new"]
