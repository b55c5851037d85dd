"""Read-only SQL over a real store: reads pass, every way to change state is refused."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from waitbus.errors import StoreError, UsageError
from waitbus.paths import StatePaths
from waitbus.sources import emitter
from waitbus.store import query, schema
from waitbus.store.store import Store


@pytest.fixture
def paths(state_dir: Path) -> StatePaths:
    found = StatePaths(state_dir)
    with Store(found) as store:
        for n in range(5):
            store.append(emitter.draft("ci", "build", fields={"n": n}))
    return found


def _unchanged(paths: StatePaths) -> None:
    with Store(paths, read_only=True) as store:
        assert store.count() == 5


def test_select_reads_rows_and_json_fields(paths: StatePaths) -> None:
    result = query.run(paths, "SELECT cursor, json_extract(fields, '$.n') AS n FROM events"
                              " ORDER BY cursor")
    assert result.columns == ("cursor", "n")
    assert result.rows == ((1, 0), (2, 1), (3, 2), (4, 3), (5, 4))
    assert not result.truncated


def test_row_cap_stops_the_result_and_says_so(paths: StatePaths) -> None:
    result = query.run(paths, "SELECT cursor FROM events", max_rows=2)
    assert len(result.rows) == 2
    assert result.truncated


@pytest.mark.parametrize(("sql", "refused"), [
    ("INSERT INTO events (delivery_id, source, type, received_at, fields)"
     " VALUES ('x', 's', 't', 1, '{}')", "INSERT"),
    ("UPDATE events SET source = 'x'", "UPDATE"),
    ("DELETE FROM events", "DELETE"),
    ("DROP TABLE events", "DELETE"),  # SQLite asks first to delete its schema row
    ("CREATE TEMP TABLE t (x)", "INSERT"),
    ("ATTACH DATABASE '/tmp/waitbus-attach.db' AS other", "ATTACH"),
    ("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode = DELETE"),
    ("PRAGMA user_version = 9", "PRAGMA user_version = 9"),
    ("PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA wal_checkpoint"),
    ("VACUUM", "ATTACH"),
])
def test_statements_that_change_state_are_refused(paths: StatePaths, sql: str,
                                                  refused: str) -> None:
    with pytest.raises(UsageError, match="read-only") as caught:
        query.run(paths, sql)
    assert refused in str(caught.value)
    _unchanged(paths)
    assert not Path("/tmp/waitbus-attach.db").exists()


def test_introspection_pragmas_read(paths: StatePaths) -> None:
    names = {row[1] for row in query.run(paths, "PRAGMA table_info(events)").rows}
    assert {"cursor", "fields", "payload"} <= names
    assert query.run(paths, "PRAGMA user_version").rows == ((schema.VERSION,),)


def test_a_runaway_query_stops_at_its_time_limit(paths: StatePaths) -> None:
    endless = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
               " SELECT count(*) FROM c")
    with pytest.raises(UsageError, match=r"past its 0.2 s limit"):
        query.run(paths, endless, timeout_s=0.2)


def test_two_statements_are_refused(paths: StatePaths) -> None:
    with pytest.raises(UsageError, match="one statement"):
        query.run(paths, "SELECT 1; DELETE FROM events")
    _unchanged(paths)


def test_the_connection_itself_cannot_write_even_without_the_authorizer(
        paths: StatePaths) -> None:
    """mode=ro and query_only hold on their own: the file is opened without write access."""
    db = query._connect(paths, [])
    db.set_authorizer(None)
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|query_only"):
        db.execute("DELETE FROM events")
    db.close()
    _unchanged(paths)


def test_a_missing_store_is_a_store_error(state_dir: Path) -> None:
    with pytest.raises(StoreError, match="no event store"):
        query.run(StatePaths(state_dir), "SELECT 1")
    assert not os.path.exists(state_dir)
