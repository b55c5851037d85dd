"""The event store: one SQLite file in WAL mode, appended to by many writers."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from waitbus.errors import StoreError, UsageError
from waitbus.event import (
    LOCAL,
    Conclusion,
    Draft,
    Event,
    JSONObject,
    dump_json,
    load_json_object,
    make_event,
)
from waitbus.paths import StatePaths
from waitbus.record import record
from waitbus.store import schema
from waitbus.store.doorbell import Doorbell

# typing is left out at run time: every `waitbus emit` pays for each module it imports.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Self

    Row = tuple[Any, ...]
# sqlite3 binds None as NULL only after searching for an adapter (a tuple, a dict miss and
# two attribute lookups per None: a tenth of an emit_many row's instructions). A registered
# one that is a C function returning None for None makes that a dict hit; NULL either way.
sqlite3.register_adapter(type(None), {}.get)  # type: ignore[arg-type]  # get(None) is None
_INSERT = ("INSERT INTO events (delivery_id, source, type, subject, conclusion, received_at,"
           " fields, payload, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
           " ON CONFLICT(delivery_id) DO NOTHING")
_SEQUENCE = "SELECT seq FROM sqlite_sequence WHERE name = 'events'"
_READ_AFTER = f"SELECT {schema.COLUMNS} FROM events WHERE cursor > ? ORDER BY cursor LIMIT ?"  # noqa: S608
_READ_AFTER_PAYLOAD = (f"SELECT {schema.COLUMNS}, payload FROM events"  # noqa: S608
                       " WHERE cursor > ? ORDER BY cursor LIMIT ?")


class Store:
    """Commits events and reads them back in cursor order; a writer or a read-only reader.

    A writer (the default) creates the state directory and the store when they are missing and
    calls `on_commit` after each commit that added rows: by default it rings the doorbell so
    that the daemon fans them out; the daemon passes its own hook and fans out at once. A
    reader (`read_only=True`) opens an existing store read-only and refuses to write. Either
    brings the schema up to date only when it is behind (a store being created, or written by
    an older waitbus): an ordinary open runs no DDL and takes no write lock.

    `generation` names the store: drawn once when the store is created, it tells a store that
    was moved aside and created again from the one it replaced, whose cursors meant other
    events. A writer checks before each write that the file at the store's path is still the
    one it opened, and when it is not, reopens there, so nothing goes into a file moved aside.
    """

    def __init__(self, paths: StatePaths, *, read_only: bool = False,
                 on_commit: Callable[[], None] | None = None) -> None:
        self.paths = paths
        self.read_only = read_only
        self._doorbell = Doorbell(paths.doorbell)
        self._on_commit = on_commit or self._ring
        self._lock_fd = -1
        self._path = os.fspath(paths.store)
        self._identity: tuple[int, int] | None = None  # None until open: no check meanwhile
        if read_only:
            paths.check()  # a reader trusts nothing another user could have put there
        if read_only and not paths.store.exists():
            msg = f"no event store at {paths.store}; run `waitbus init` or emit an event first"
            raise StoreError(msg)
        if not read_only:
            with _translated(paths):
                _create_private(paths.ensure().store)
        self._db = self._connect()
        if not self._schema_is_current():
            self._upgrade()
        _narrow(paths)
        self._opened()

    def _opened(self) -> None:
        """Note which file is open and its generation (after the schema is current)."""
        with _translated(self.paths):
            self.generation = schema.generation(self._db)
            try:
                self._identity = _identity(self._path)
            except FileNotFoundError:
                self._identity = (-1, -1)  # moved away as it opened: the next write reopens

    def replaced(self) -> bool:
        """Whether the file at the store's path is no longer the one this Store has open (it
        was moved aside, deleted, or created again)."""
        try:
            return _identity(self._path) != self._identity
        except FileNotFoundError:
            return True

    def reopen_if_replaced(self) -> bool:
        """Reopen on the file now at the store's path if it was replaced; return whether it was.

        A writer creates the store when none is there, as opening one does.
        """
        if not self.replaced():
            return False
        if self.read_only:
            self._reopen(locked=False)
        else:
            with _translated(self.paths), self._write_lock():
                pass  # taking the lock checks, and reopens
        return True

    def _reopen(self, *, locked: bool) -> None:
        import logging  # only here: emit never loads it

        logging.getLogger(__name__).warning(
            "the event store %s was replaced (moved aside or created again); using the file "
            "now at that path", self._path)
        if self.read_only and not self.paths.store.exists():
            msg = (f"the event store {self.paths.store} was moved away; run `waitbus init` "
                   "or emit an event to create a new one")
            raise StoreError(msg)
        if not self.read_only:
            _create_private(self.paths.ensure().store)
        fresh = self._connect()
        # SQLite neither checkpoints nor deletes the -wal of a file that has moved when its
        # last connection closes, so closing the old connection cannot harm the new store.
        self._db.close()
        self._db = fresh
        if not self._schema_is_current():
            if locked:
                schema.upgrade(self._db)
            else:
                self._upgrade()
        _narrow(self.paths)
        self._opened()

    def _connect(self) -> sqlite3.Connection:
        with _translated(self.paths):
            if self.read_only:
                db = sqlite3.connect(store_uri(self.paths, "ro"), uri=True,
                                     isolation_level=None, check_same_thread=False)
                db.execute(schema.BUSY_TIMEOUT)
                return db
            new_file = os.stat(self.paths.store).st_size == 0
            db = sqlite3.connect(self.paths.store, isolation_level=None, check_same_thread=False)
            schema.configure(db, new_file=new_file)
            return db

    def _schema_is_current(self) -> bool:
        with _translated(self.paths):
            return schema.current(self._db)

    def _upgrade(self) -> None:
        # A reader can open the file in the instant between its creation and its schema, or
        # open a store an older waitbus wrote: a writer's connection upgrades it, under the lock.
        writer = self._db if not self.read_only else sqlite3.connect(
            self.paths.store, isolation_level=None)
        try:
            with _translated(self.paths), self._write_lock():
                if not schema.current(writer):
                    if writer is not self._db:
                        schema.configure(writer,
                                         new_file=os.stat(self.paths.store).st_size == 0)
                    schema.upgrade(writer)
        finally:
            if writer is not self._db:
                writer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {self.paths.store}{' read-only' if self.read_only else ''}>"

    def close(self) -> None:
        self._db.close()
        self._doorbell.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def append(self, draft: Draft) -> tuple[Event, bool]:
        """Commit `draft` (then `on_commit` if it is new); return the stored event and whether
        it is new.

        Appending a delivery_id that is already stored changes nothing and returns the stored
        event, so a redelivery is a no-op.
        """
        self._refuse_if_read_only()
        conclusion = None if draft.conclusion is None else str(draft.conclusion)
        origin = None if draft.origin == LOCAL else draft.origin
        # The lock and the translation written out, not as context managers: one emit's
        # Python time is about a third of its cost, and each generator-based `with` is ~1 us.
        try:
            self._lock()  # may reopen self._db on a replaced file
            try:
                # One statement is its own transaction: no BEGIN and COMMIT to run (a tenth of
                # an append's instructions). Holding our lock, no other writer waits in SQLite.
                done = self._db.execute(
                    _INSERT,
                    (draft.delivery_id, draft.source, draft.type, draft.subject, conclusion,
                     draft.received_at, draft.fields_json, draft.payload, origin))
                # One row changed: it went in, at last_insert_rowid. Cheaper than RETURNING,
                # whose result table cost a fifth of an append's instructions.
                cursor = done.lastrowid if done.rowcount == 1 else None
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        except (sqlite3.Error, OSError) as exc:
            raise _translation(self.paths, exc) from exc
        if cursor is None:
            existing = self.get_by_delivery(draft.delivery_id)
            assert existing is not None
            return existing, False
        self._on_commit()
        event = Event(cursor, draft.delivery_id, draft.source, draft.type, draft.subject,
                      draft.conclusion, draft.received_at, draft.fields, origin=draft.origin)
        return event, True

    def append_many(self, drafts: Sequence[Draft]) -> list[tuple[Event, bool]]:
        """Commit every draft in one transaction, then `on_commit` once if any is new; return
        (event, new) for each.

        The same rules as `append` hold per draft, in order: a delivery_id already stored, or
        given earlier in the same batch, is no new row and returns the stored event.
        """
        self._refuse_if_read_only()
        if not drafts:
            return []
        rows = [(d.delivery_id, d.source, d.type, d.subject,
                 None if d.conclusion is None else str(d.conclusion), d.received_at,
                 d.fields_json, d.payload, None if d.origin == LOCAL else d.origin)
                for d in drafts]
        with _translated(self.paths), self._write_lock():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                added = self._insert_many(rows)
                self._db.execute("COMMIT")
            except BaseException:
                rollback(self._db)
                raise
        if added:
            self._on_commit()
        return self._stored(drafts, added)

    def _insert_many(self, rows: list[Row]) -> dict[str, int]:
        """Insert inside the caller's transaction; return each new row's cursor by delivery_id.

        AUTOINCREMENT hands out the next numbers in order, and a skipped duplicate uses one up
        too: when every row went in, they took exactly the numbers after the sequence's old
        value, and nothing needs reading back.
        """
        (before,) = self._db.execute(_SEQUENCE).fetchone() or (0,)
        changes = self._db.total_changes
        self._db.executemany(_INSERT, rows)
        if self._db.total_changes - changes == len(rows):
            (after,) = self._db.execute(_SEQUENCE).fetchone()
            if after - before == len(rows):
                return {row[0]: before + 1 + n for n, row in enumerate(rows)}
        # Holding the write lock, every row above the old sequence value is one of ours.
        return dict(self._db.execute(
            "SELECT delivery_id, cursor FROM events WHERE cursor > ?", (before,)))

    def _ring(self) -> None:
        # After the commit, so whoever hears it can read the rows; a lost ring only delays them.
        self._doorbell.ring()

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            msg = f"this connection to {self.paths.store} is read-only; open a writer to write"
            raise StoreError(msg)

    def _stored(self, drafts: Sequence[Draft],
                added: dict[str, int]) -> list[tuple[Event, bool]]:
        out: list[tuple[Event, bool]] = []
        seen: dict[str, Event] = {}
        for d in drafts:
            known = seen.get(d.delivery_id)
            if known is not None:
                out.append((known, False))
                continue
            cursor = added.get(d.delivery_id)
            if cursor is None:
                existing = self.get_by_delivery(d.delivery_id)
                assert existing is not None
                seen[d.delivery_id] = existing
                out.append((existing, False))
                continue
            event = Event(cursor, d.delivery_id, d.source, d.type, d.subject, d.conclusion,
                          d.received_at, d.fields, None, d.origin)
            seen[d.delivery_id] = event
            out.append((event, True))
        return out

    def read_after(self, cursor: int, *, limit: int = 1000, payload: bool = False,
                   max_bytes: int | None = None) -> list[Event]:
        """Events with a cursor above `cursor`, oldest first, at most `limit`; with `max_bytes`,
        no more rows once their fields and payloads reach it (at least one row)."""
        query = _READ_AFTER_PAYLOAD if payload else _READ_AFTER
        # try/except rather than `with _translated(...)`: the fan-out reads at every wake, and
        # a generator context manager costs more than the query's own Python work.
        try:
            if max_bytes is None:
                rows = self._db.execute(query, (cursor, limit)).fetchall()
            else:
                rows = _up_to(self._db.execute(query, (cursor, limit)), max_bytes)
        except (sqlite3.Error, OSError) as exc:
            raise _translation(self.paths, exc) from exc
        return [_event(row) for row in rows]

    def read_before(self, cursor: int, *, limit: int = 1000) -> list[Event]:
        """Events with a cursor below `cursor`, newest first, at most `limit`."""
        with _translated(self.paths):
            rows = self._db.execute(
                f"SELECT {schema.COLUMNS} FROM events WHERE cursor < ?"  # noqa: S608
                " ORDER BY cursor DESC LIMIT ?",
                (cursor, limit),
            ).fetchall()
        return [_event(row) for row in rows]

    def latest(self, count: int, *, source: str | None = None,
               subject: str | None = None) -> list[Event]:
        """The newest `count` events (optionally of one source, and one subject), oldest first."""
        args: tuple[str, ...] = (source,) if source else ()
        where = "WHERE source = ?" if source else ""
        if source and subject is not None:
            where, args = "WHERE source = ? AND subject = ?", (source, subject)
        with _translated(self.paths):
            rows = self._db.execute(
                f"SELECT {schema.COLUMNS} FROM events {where} ORDER BY cursor DESC LIMIT ?",  # noqa: S608
                (*args, count),
            ).fetchall()
        return [_event(row) for row in reversed(rows)]

    def get(self, cursor: int, *, payload: bool = True) -> Event | None:
        cols = schema.COLUMNS + (", payload" if payload else "")
        with _translated(self.paths):
            row = self._db.execute(
                f"SELECT {cols} FROM events WHERE cursor = ?", (cursor,)  # noqa: S608
            ).fetchone()
        return None if row is None else _event(row)

    def get_by_delivery(self, delivery_id: str) -> Event | None:
        with _translated(self.paths):
            row = self._db.execute(
                f"SELECT {schema.COLUMNS} FROM events WHERE delivery_id = ?",  # noqa: S608
                (delivery_id,),
            ).fetchone()
        return None if row is None else _event(row)

    def has_source(self, source: str) -> bool:
        """Whether any stored event comes from `source` (one index probe)."""
        with _translated(self.paths):
            found = self._db.execute(
                "SELECT 1 FROM events WHERE source = ? LIMIT 1", (source,)).fetchone()
        return found is not None

    def head(self) -> int:
        """The newest committed cursor, or 0 for an empty store."""
        with _translated(self.paths):
            (value,) = self._db.execute("SELECT coalesce(max(cursor), 0) FROM events").fetchone()
        return int(value)

    def newest(self) -> int:
        """The newest cursor this store ever handed out, pruned or not (0 for a new store): a
        cursor above it comes from another store."""
        with _translated(self.paths):
            (value,) = self._db.execute(_SEQUENCE).fetchone() or (0,)
        return max(int(value), self.head())

    def cursor_before(self, received_at_ns: int) -> int:
        """The newest cursor received before `received_at_ns` (0 if none).

        When retention pruned only events received before that moment, the pruned cursors
        count as before it too, so a wait from "now" does not read as asking for pruned events.
        """
        with _translated(self.paths):
            (value,) = self._db.execute(
                "SELECT coalesce(max(cursor), 0) FROM events WHERE received_at < ?",
                (received_at_ns,),
            ).fetchone()
        pruned = self.pruned()
        if pruned.through and received_at_ns > pruned.received_at:
            return max(int(value), pruned.through)
        return int(value)

    def pruned(self) -> Pruned:
        """How far retention has deleted: every cursor at or below `through` is gone."""
        with _translated(self.paths):
            try:
                rows = dict(self._db.execute(
                    "SELECT key, value FROM meta WHERE key IN (?, ?)",
                    (_PRUNED_THROUGH, _PRUNED_RECEIVED_AT)).fetchall())
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
                rows = {}  # a store an older waitbus wrote, opened for reading: nothing pruned
        return Pruned(int(rows.get(_PRUNED_THROUGH, 0)), int(rows.get(_PRUNED_RECEIVED_AT, 0)))

    @contextmanager
    def maintenance(self) -> Iterator[sqlite3.Connection]:
        """The connection, inside the write lock, for the store package's own upkeep (retention).

        Writers queue behind the lock, so a holder keeps each use short.
        """
        self._refuse_if_read_only()
        with _translated(self.paths), self._write_lock():
            yield self._db

    def checkpoint(self) -> None:
        """Copy committed WAL frames into the store file (PASSIVE: waits on no one)."""
        self._refuse_if_read_only()
        with _translated(self.paths):
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for the store package's own read-only queries (sizes, plans)."""
        with _translated(self.paths):
            yield self._db

    def count(self) -> int:
        with _translated(self.paths):
            (value,) = self._db.execute("SELECT count(*) FROM events").fetchone()
        return int(value)

    def mark_bridge(self, name: str, *, exported: int | None = None,
                    state: JSONObject | None = None) -> None:
        """Record a bridge's export cursor (the newest its peer acknowledged) and/or its state."""
        self._refuse_if_read_only()
        text = None if state is None else dump_json(state)
        with _translated(self.paths), self._write_lock():
            # One statement, so one commit: the exporter records its cursor after every ack.
            self._db.execute(
                "INSERT INTO bridges (name, exported, state) VALUES (?, coalesce(?, 0),"
                " coalesce(?, '{}')) ON CONFLICT(name) DO UPDATE SET"
                " exported = coalesce(?, exported), state = coalesce(?, state)",
                (name, exported, text, exported, text))

    def bridges(self) -> dict[str, tuple[int, JSONObject]]:
        """Every bridge's export cursor and last reported state, by name."""
        with _translated(self.paths):
            rows = self._db.execute("SELECT name, exported, state FROM bridges").fetchall()
        return {name: (int(exported), load_json_object(state, "stored bridge state"))
                for name, exported, state in rows}

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        self._lock()
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _lock(self) -> None:
        """Take the write lock, on the store now at the path; the caller unlocks."""
        # One writer at a time, queued by the kernel: SQLite's own busy handler backs off by
        # sleeping up to 100 ms, which collapses throughput when many producers contend.
        if self._lock_fd < 0:
            self._lock_fd = os.open(self.paths.store_lock, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            # Checked under the lock, where a new store is created too: one stat() a write.
            if self._identity is not None and self.replaced():
                self._reopen(locked=True)
        except BaseException:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            raise


@record
class Pruned:
    """The newest cursor retention deleted, and the newest received_at among the deleted."""

    through: int
    received_at: int


_PRUNED_THROUGH = "pruned_through"
_PRUNED_RECEIVED_AT = "pruned_received_at"


def record_pruned(db: sqlite3.Connection, pruned: Pruned) -> None:
    """Store how far retention has deleted, inside the caller's transaction."""
    db.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
        ((_PRUNED_THROUGH, pruned.through), (_PRUNED_RECEIVED_AT, pruned.received_at)))


def _up_to(found: sqlite3.Cursor, max_bytes: int) -> list[Row]:
    """Rows from `found` until their fields and payloads reach `max_bytes` (at least one)."""
    rows: list[Row] = []
    size = 0
    try:
        for row in found:
            rows.append(row)
            size += len(row[7]) + (len(row[9] or "") if len(row) > 9 else 0)
            if size >= max_bytes:
                break
    finally:
        found.close()
    return rows


def _event(row: Row) -> Event:
    try:
        # The fan-out reads every row this way: no enum call, no dataclass __init__.
        return make_event(row[0], row[1], row[2], row[3], row[4],
                          None if row[5] is None else _CONCLUSIONS[row[5]], row[6],
                          load_json_object(row[7], "stored fields"),
                          row[9] if len(row) > 9 else None, row[8] or LOCAL)
    except (UsageError, ValueError, TypeError, KeyError) as exc:
        msg = (f"the stored event at cursor {row[0]} is damaged ({exc}); if the store is "
               "damaged, move it aside and run `waitbus init` (move its -wal and -shm files "
               "with it)")
        raise StoreError(msg) from exc


_CONCLUSIONS = {c.value: c for c in Conclusion}


def rollback(db: sqlite3.Connection) -> None:
    """Roll back what is left of a failed transaction, keeping the error that failed it.

    SQLite rolls back by itself on some errors (a full disk); a second ROLLBACK would then
    raise "no transaction is active" and hide the real cause.
    """
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def store_uri(paths: StatePaths, mode: str) -> str:
    """The SQLite URI that opens the store in `mode` ("ro", or "rw": never creates it)."""
    from urllib.parse import quote  # readers and upkeep only: emit never pays for it

    return f"file:{quote(str(paths.store))}?mode={mode}"


def fold_wal(paths: StatePaths) -> None:
    """Copy the write-ahead log into the store file and remove it, when nobody else has the
    store open (for a daemon that has closed its own connections).

    SQLite does this when the last connection closes, but only a writable one can: when the
    last to close was a reader, the log stays beside the store, counted in its size. Opened
    `mode=rw`, this never creates a store; with other connections still open it does nothing.
    """
    with contextlib.suppress(sqlite3.Error):
        db = sqlite3.connect(store_uri(paths, "rw"), uri=True, isolation_level=None)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            db.close()


def _create_private(path: Path) -> None:
    """Create the store file 0600 before SQLite first opens it (its -wal and -shm files get
    the database file's mode).

    O_EXCL: an existing file is never opened here. Closing any descriptor of a file drops
    every POSIX lock this process holds on it, SQLite's own included.

    Refused beside the -wal or -shm of a store that was moved away without them: SQLite would
    read them as the new file's own (the old store's pages, or a live wal-index of the old
    file). The -wal and -shm are looked for before the store, so a store created meanwhile,
    whose -wal can only come after it, is never mistaken for one moved away.
    """
    for suffix in ("-wal", "-shm"):
        left = path.with_name(path.name + suffix)
        if left.exists() and not path.exists():
            msg = (f"{left} is left from a store that was moved away without it (there is no "
                   f"{path}): move {path.name}-wal and {path.name}-shm to where the store "
                   "went (or delete them if that store is gone for good), then try again")
            raise StoreError(msg)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o600))


def _identity(path: str) -> tuple[int, int]:
    """Which file is at `path`: its device and inode (stable while any process holds it open)."""
    found = os.stat(path)
    return found.st_dev, found.st_ino


def _narrow(paths: StatePaths) -> None:
    """Make the store and its -wal and -shm files 0600 (older versions left them 0644)."""
    for path in (paths.store, paths.store.with_name(paths.store.name + "-wal"),
                 paths.store.with_name(paths.store.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(os.stat(path).st_mode) != 0o600:
                os.chmod(path, 0o600)


@contextmanager
def _translated(paths: StatePaths) -> Iterator[None]:
    """Turn sqlite3 and OS errors into StoreErrors that say what to do."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise _translation(paths, exc) from exc


def _translation(paths: StatePaths, exc: sqlite3.Error | OSError) -> StoreError:
    """The StoreError that says what an sqlite3 or OS error means and what to do."""
    if isinstance(exc, OSError):
        return StoreError(f"cannot use the state directory {paths.root}: {exc.strerror or exc}")
    text = str(exc)
    if "disk is full" in text:
        msg = (f"the disk holding {paths.store} is full ({text}); nothing was stored: free "
               "space (or prune old events with `waitbus prune`) and emit again")
    elif "disk I/O" in text:
        msg = (f"the disk holding {paths.store} failed a read or write ({text}); nothing was "
               "stored: check the disk (dmesg), then emit again")
    elif "locked" in text or "busy" in text:
        msg = f"the event store {paths.store} stayed locked ({text}); try again"
    else:
        msg = (
            f"event store {paths.store} failed: {text}; "
            "if the file is damaged, move it aside and run `waitbus init` (move its -wal "
            "and -shm files with it)"
        )
    return StoreError(msg)
