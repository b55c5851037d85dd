"""The store's schema and the pragmas every connection runs."""

from __future__ import annotations

VERSION = 1

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # NORMAL in WAL mode survives a process crash (kill -9) with every commit intact; a power
    # loss can roll back the last commits but never corrupts the file.
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
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
    payload     TEXT
);
CREATE INDEX IF NOT EXISTS events_received_at ON events(received_at);
CREATE INDEX IF NOT EXISTS events_source_subject ON events(source, subject, cursor);
"""

COLUMNS = "cursor, delivery_id, source, type, subject, conclusion, received_at, fields"
