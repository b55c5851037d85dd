"""Read-only SQL over the store: a `mode=ro` connection, an authorizer, a row cap and a deadline."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from waitbus.errors import StoreError, UsageError
from waitbus.paths import StatePaths
from waitbus.store.store import store_uri

DEFAULT_MAX_ROWS = 1000
DEFAULT_TIMEOUT_S = 5.0
# The progress handler runs every this many SQLite VM instructions (about 0.1 ms of work).
_PROGRESS_STEPS = 1000
# Introspection pragmas that read and never change anything, with or without a table name.
_READING_PRAGMAS = frozenset({
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "page_count", "page_size", "freelist_count", "auto_vacuum",
    "journal_mode", "user_version", "schema_version", "compile_options", "database_list",
    "function_list", "pragma_list",
})
# Pragmas above whose argument is a table or index name, never a new value.
_NAMED_PRAGMAS = frozenset({
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list",
})
_READING_ACTIONS = frozenset({
    sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_RECURSIVE,
})
_ACTION_NAMES = {
    getattr(sqlite3, name): name.removeprefix("SQLITE_").replace("_", " ")
    for name in (
        "SQLITE_INSERT", "SQLITE_UPDATE", "SQLITE_DELETE", "SQLITE_ATTACH", "SQLITE_DETACH",
        "SQLITE_CREATE_TABLE", "SQLITE_CREATE_INDEX", "SQLITE_CREATE_VIEW",
        "SQLITE_CREATE_TRIGGER", "SQLITE_CREATE_TEMP_TABLE", "SQLITE_CREATE_TEMP_INDEX",
        "SQLITE_CREATE_TEMP_VIEW", "SQLITE_CREATE_TEMP_TRIGGER", "SQLITE_CREATE_VTABLE",
        "SQLITE_DROP_TABLE", "SQLITE_DROP_INDEX", "SQLITE_DROP_VIEW", "SQLITE_DROP_TRIGGER",
        "SQLITE_DROP_TEMP_TABLE", "SQLITE_DROP_TEMP_INDEX", "SQLITE_DROP_TEMP_VIEW",
        "SQLITE_DROP_TEMP_TRIGGER", "SQLITE_DROP_VTABLE", "SQLITE_ALTER_TABLE",
        "SQLITE_REINDEX", "SQLITE_ANALYZE", "SQLITE_TRANSACTION", "SQLITE_SAVEPOINT",
        "SQLITE_PRAGMA",
    )
}


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The columns and rows of one read-only query; `truncated` when the row cap cut it."""

    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    truncated: bool


def run(paths: StatePaths, sql: str, *, max_rows: int = DEFAULT_MAX_ROWS,
        timeout_s: float = DEFAULT_TIMEOUT_S) -> QueryResult:
    """Run one SELECT over the store and return at most `max_rows` rows.

    The connection opens the file read-only and sets `query_only`; an authorizer refuses
    every write, ATTACH, and any PRAGMA other than introspection; a progress handler stops
    the query after `timeout_s`.

    Raises:
        UsageError: the statement is refused, malformed, or runs out of time.
        StoreError: there is no store, or it cannot be read.
    """
    if max_rows < 1:
        msg = f"the row cap must be at least 1, got {max_rows}"
        raise UsageError(msg)
    if not paths.store.exists():
        msg = f"no event store at {paths.store}; run `waitbus init` or emit an event first"
        raise StoreError(msg)
    refused: list[str] = []
    db = _connect(paths, refused)
    deadline = time.monotonic() + timeout_s
    db.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
    try:
        cursor = db.execute(sql)
        rows = cursor.fetchmany(max_rows + 1)
        columns = tuple(d[0] for d in cursor.description or ())
    except sqlite3.Error as exc:
        raise _explained(exc, refused, timeout_s) from exc
    finally:
        db.close()
    return QueryResult(columns, tuple(tuple(r) for r in rows[:max_rows]), len(rows) > max_rows)


def _connect(paths: StatePaths, refused: list[str]) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(store_uri(paths, "ro"), uri=True, isolation_level=None)
        db.execute("PRAGMA query_only=ON")
    except sqlite3.Error as exc:
        msg = f"cannot open {paths.store} read-only: {exc}"
        raise StoreError(msg) from exc

    def authorize(action: int, arg1: str | None, arg2: str | None,
                  _db: str | None, _trigger: str | None) -> int:
        if action in _READING_ACTIONS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA and _reads_only(arg1, arg2):
            return sqlite3.SQLITE_OK
        what = _ACTION_NAMES.get(action, f"action {action}")
        if action == sqlite3.SQLITE_PRAGMA:
            what = f"PRAGMA {arg1}" + (f" = {arg2}" if arg2 is not None else "")
        refused.append(what)
        return sqlite3.SQLITE_DENY

    db.set_authorizer(authorize)
    return db


def _reads_only(name: str | None, argument: str | None) -> bool:
    pragma = (name or "").lower()
    if pragma not in _READING_PRAGMAS:
        return False
    return argument is None or pragma in _NAMED_PRAGMAS


def _explained(exc: sqlite3.Error, refused: list[str], timeout_s: float) -> UsageError:
    text = str(exc)
    if refused:
        what = ", ".join(dict.fromkeys(refused))
        msg = (f"events query is read-only: {what} refused; write one SELECT over the "
               "events table (PRAGMA only for introspection such as table_info)")
    elif "interrupted" in text:
        msg = (f"the query ran past its {timeout_s:g} s limit and was stopped; narrow it "
               "(WHERE cursor > N, a LIMIT) or raise --timeout")
    elif "readonly" in text or "read-only" in text:
        msg = f"events query is read-only: {text}"
    else:
        msg = f"the query failed: {text}"
    return UsageError(msg)
