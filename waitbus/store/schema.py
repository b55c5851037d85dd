"""The store's schema and the pragmas every connection runs."""

from __future__ import annotations

import os
import sqlite3

VERSION = 5

BUSY_TIMEOUT = "PRAGMA busy_timeout=10000"
# Run on a new, empty file only, before PRAGMAS: it takes effect only there (and must come
# before the switch to WAL, which writes the header); an older store keeps its mode until
# `waitbus prune --vacuum`. On a store with tables it still commits a write of the header page,
# fully synced (before synchronous=NORMAL): a WAL frame, an fdatasync of the WAL and of the
# directory on every open, measured at 3-4 ms of each `waitbus emit` here.
NEW_FILE_PRAGMA = "PRAGMA auto_vacuum=INCREMENTAL"
# A writer's connection runs these; a reader's runs only BUSY_TIMEOUT.
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # NORMAL in WAL mode survives a process crash (kill -9) with every commit intact: a commit
    # is in the WAL before emit returns. The WAL is fsynced at each checkpoint, so a power loss
    # can roll back the commits since the last one, but never corrupts the file.
    "PRAGMA synchronous=NORMAL",
    # The daemon checkpoints every ~200 events, off its loop (bus/checkpoints.py); an emitter
    # only when the WAL reaches 10,000 pages (~40 MB), as when no daemon runs. At SQLite's
    # default of 1,000 pages, an emitter copied the WAL and fsynced inside its own commit,
    # holding the write lock every other producer was queued on.
    "PRAGMA wal_autocheckpoint=10000",
    BUSY_TIMEOUT,
    # After a checkpoint resets the WAL, it is cut back to this size instead of keeping its peak.
    "PRAGMA journal_size_limit=4194304",
)

CREATE = """
CREATE TABLE IF NOT EXISTS events (
    cursor      INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT    NOT NULL UNIQUE,
    source      TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    subject     TEXT,
    conclusion  TEXT,
    received_at INTEGER NOT NULL,
    fields      TEXT    NOT NULL,
    payload     TEXT,
    origin      TEXT
);
CREATE INDEX IF NOT EXISTS events_received_at ON events(received_at);
CREATE INDEX IF NOT EXISTS events_source_subject ON events(source, subject, cursor);
CREATE TABLE IF NOT EXISTS waits (
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER NOT NULL,
    client      TEXT    NOT NULL,
    sources     TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    event_at    INTEGER,
    woke_at     INTEGER
);
CREATE INDEX IF NOT EXISTS waits_started_at ON waits(started_at);
CREATE TABLE IF NOT EXISTS meta (
    key         TEXT    PRIMARY KEY,
    value       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bridges (
    name        TEXT    PRIMARY KEY,
    exported    INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL DEFAULT '{}'
);
"""

COLUMNS = "cursor, delivery_id, source, type, subject, conclusion, received_at, fields, origin"


def upgrade(db: sqlite3.Connection) -> None:
    """Bring a store written by an older waitbus up to VERSION; the caller holds the write lock.

    Version 2 added `origin` (NULL for a local event, else the host it was imported from) and
    the `bridges` table (a bridge's export cursor and the state it reports). Version 3 added
    `meta` (how far retention has pruned); new files get incremental auto-vacuum
    (NEW_FILE_PRAGMA).
    Version 4 added `waits` (each wait's start, end, outcome and wake, for `waitbus stats`).
    Version 5 added the store's generation to `meta`: a random number drawn once per store,
    so a store moved aside and created again is told apart from the one it replaced.
    """
    columns = {row[1] for row in db.execute("PRAGMA table_info(events)")}
    if columns and "origin" not in columns:
        db.execute("ALTER TABLE events ADD COLUMN origin TEXT")
    db.executescript(CREATE)
    # 63 random bits: `meta.value` is an INTEGER column, and SQLite's integers are signed.
    drawn = int.from_bytes(os.urandom(8), "big") >> 1
    db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
               (GENERATION_KEY, drawn))
    db.execute(f"PRAGMA user_version={VERSION}")


GENERATION_KEY = "generation"


def generation(db: sqlite3.Connection) -> str:
    """The store's generation as 16 hex digits ("" for a store older than version 5)."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (GENERATION_KEY,)).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        row = None
    return "" if row is None else f"{int(row[0]):016x}"


def configure(db: sqlite3.Connection, *, new_file: bool) -> None:
    """Run a writer connection's pragmas; `new_file`: the store file is still empty."""
    if new_file:
        db.execute(NEW_FILE_PRAGMA)
    for pragma in PRAGMAS:
        db.execute(pragma)


def current(db: sqlite3.Connection) -> bool:
    """True when the store already has this version's schema."""
    (version,) = db.execute("PRAGMA user_version").fetchone()
    return int(version) >= VERSION
