"""Provides the emulator's SQLite database: its schema, its checks on reading, and its writes.

One table holds every entity, a row each (see `records`); `meta` holds the schema version and
the database's id. `PRAGMA application_id` marks the file as the emulator's and
`PRAGMA user_version` repeats the schema version, so that a tool that knows nothing of `meta`
can tell too. Rows keep the order they were first written in (an update is
an upsert, which keeps the rowid): the order of a job's tasks and a pool's nodes, which lists
return, survives a restart.

Writes run in WAL mode with `synchronous=FULL`: a write is durable when its `COMMIT` returns.
Checkpoints are ours, with `TRUNCATE` (automatic ones are off): see `wal` for why.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import struct
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from batch_tui.emulator.state.errors import SaveFailed, StateError, damaged, one_line
from batch_tui.emulator.state.files import fsync_dir, wal_path
from batch_tui.emulator.state.records import Key, checksum, decode, put, row
from batch_tui.emulator.state.store import Store

APPLICATION_ID = 0x42545549
"""`PRAGMA application_id` of an emulator database: "BTUI"."""

SCHEMA_VERSION = 1
"""The version of the tables below; a database of a newer one is refused, not guessed at."""

INTEGRITY_CHECK = "integrity_check"
"""SQLite's structural check, run on every start: the full one, which also checks that the
index matches the table. It costs little: 0.12-0.15 s on the large scenario's 133 MB
database (`quick_check` 0.06 s), whose reading and decoding take 2 s in all."""

PAGE_SIZE = 16384
"""Bytes per page. Entities are 1-3 KB: with 16 KiB pages a group commit of a few hundred
writes fewer WAL frames (68 ms of SQLite's time per 10,000 rows in commits of 200, against
78 ms with the default 4 KiB) and the large scenario takes 133 MB, not 170 MB; a commit of one
entity costs a little more (0.31 ms against 0.24 ms)."""

CACHE_KIB = 65536
"""SQLite's page cache. A transaction bigger than this spills pages to the WAL before its
commit; a group commit stays far below (see `wal`)."""

CHECKPOINT_BYTES = 16 * 1024 * 1024
"""WAL size after which a write also checkpoints: the WAL a restart reads (and checks) stays
about this small."""

WRITE_TIMEOUT = 2.0
"""Seconds a write waits for a reader that holds up a checkpoint (`sqlite3` opened on the
database while the emulator runs)."""

SCHEMA = (
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value NOT NULL)",
    "CREATE TABLE entity (kind TEXT NOT NULL, parent TEXT NOT NULL, key TEXT NOT NULL, "
    "body BLOB NOT NULL, crc INTEGER NOT NULL, UNIQUE (kind, parent, key))",
)
_UPSERT = (
    "INSERT INTO entity (kind, parent, key, body, crc) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (kind, parent, key) DO UPDATE SET body = excluded.body, crc = excluded.crc"
)
_DELETE = "DELETE FROM entity WHERE kind = ? AND parent = ? AND key = ?"
_DELETE_CHILDREN = "DELETE FROM entity WHERE kind = ? AND parent = ?"
SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Loaded:
    """What reading a database found besides its entities."""

    id: str
    migrated: bool
    """Whether it was made from state files of the journal format."""


@dataclass
class Batch:
    """The changes of one flush, encoded: one transaction."""

    removed: list[Key] = field(default_factory=list)
    """Entities removed."""
    emptied: list[tuple[str, str]] = field(default_factory=list)
    """The (kind, parent key) of children removed with their parent."""
    entries: list[tuple[Key, bytes]] = field(default_factory=list)
    """Entities added or changed, with their bodies; written after the removals (an id
    removed and added again is a new row, at the end, as in the store's dicts)."""

    def __bool__(self) -> bool:
        return bool(self.removed or self.emptied or self.entries)


def read(path: Path, store: Store) -> Loaded:
    """Checks a database and reads its entities into an empty store, without writing to it.

    Args:
        path: The database (it exists; `files.check_files` has checked its WAL).
        store: The store to fill.

    Raises:
        StateError: When it is damaged, not an emulator database, or of a newer schema.
    """
    state_dir = path.parent
    wal = wal_path(path)
    has_log = wal.exists() and wal.stat().st_size > 0
    _check_header(path, at_rest=not has_log)
    # Without a log, `immutable` reads the file alone and creates no -wal or -shm beside it.
    uri = f"{path.resolve().as_uri()}?mode=ro" + ("" if has_log else "&immutable=1")
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise damaged(path, f"cannot be opened ({exc})", state_dir) from None
    try:
        loaded = _check(conn, path)
        _read_rows(conn, path, store)
        return loaded
    except sqlite3.Error as exc:
        raise damaged(path, f"cannot be read ({exc})", state_dir) from None
    finally:
        conn.close()


def _check_header(path: Path, at_rest: bool) -> None:
    """Checks the file's first bytes, which SQLite would otherwise take for a new database,
    and, with no WAL to complete it (`at_rest`), its length against the size its header gives.
    """
    state_dir = path.parent
    try:
        with path.open("rb") as f:
            header = f.read(100)
            length = f.seek(0, 2)
    except OSError as exc:
        raise StateError(f"{path}: cannot be read ({one_line(str(exc))})") from None
    if len(header) < 100:
        raise damaged(
            path, f"is cut short ({len(header)} bytes: less than a database header)", state_dir
        )
    if not header.startswith(SQLITE_MAGIC):
        raise damaged(path, "is not a SQLite database (its header is wrong)", state_dir)
    page_size, changes, pages, valid_for = struct.unpack(">H6xI I60xI", header[16:96])
    page_size = 65536 if page_size == 1 else page_size
    # The header's size holds when it was written with the current change counter.
    if at_rest and changes == valid_for and length < pages * page_size:
        raise damaged(
            path,
            f"is cut short ({length:,} bytes, but its header says {pages:,} pages of "
            f"{page_size:,} bytes)",
            state_dir,
        )


def _check(conn: sqlite3.Connection, path: Path) -> Loaded:
    state_dir = path.parent
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if app_id != APPLICATION_ID:
        raise damaged(path, f"is not an emulator database (application id {app_id:#x})", state_dir)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StateError(
            f"{path}: schema version {version}, but this batch-tui reads version "
            f"{SCHEMA_VERSION}; nothing was changed: use the batch-tui that wrote it"
        )
    problems = [row[0] for row in conn.execute(f"PRAGMA {INTEGRITY_CHECK}")]
    if problems != ["ok"]:
        raise damaged(path, f"SQLite's {INTEGRITY_CHECK} fails: {problems[0]}", state_dir)
    meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
    if meta.get("schema") != version or not isinstance(meta.get("id"), str):
        raise damaged(path, f"its meta table does not match schema version {version}", state_dir)
    return Loaded(meta["id"], "migrated_from" in meta)


def _read_rows(conn: sqlite3.Connection, path: Path, store: Store) -> None:
    rows = conn.execute("SELECT kind, parent, key, body, crc FROM entity ORDER BY rowid")
    for kind, parent, key, body, crc in rows:
        try:
            if checksum(kind, parent, key, body) != crc:
                raise ValueError("does not match its checksum")
            put(store, (kind, parent, key), decode(body))
        except (TypeError, ValueError, msgspec.DecodeError) as exc:
            what = f"the saved {kind} {key!r}" if isinstance(kind, str) else "a row"
            raise damaged(path, f"{what} is damaged ({exc})", path.parent) from None


class Database:
    """An emulator database open for writing; one write at a time (`Persistence` sees to it).

    Use `create` or `open`. Its methods may run in a worker thread.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn

    @classmethod
    def _connect(cls, path: Path, new: bool = False) -> Database:
        conn = sqlite3.connect(
            path, timeout=WRITE_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            if new:
                conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before anything is written
            if conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] != "wal":
                raise StateError(f"{path}: SQLite cannot use a write-ahead log there")
            for pragma in ("synchronous=FULL", "wal_autocheckpoint=0", f"cache_size=-{CACHE_KIB}"):
                conn.execute(f"PRAGMA {pragma}")
        except BaseException:
            conn.close()
            raise
        return cls(path, conn)

    @classmethod
    def create(
        cls,
        path: Path,
        first: Batch,
        migrated_from: str | None = None,
    ) -> Database:
        """Creates the database with its first batch, in one transaction: no database exists
        without the state it was made for.

        Args:
            path: Where; nothing may be there.
            first: The first batch of changes.
            migrated_from: What it is made from, when it is not a new account.

        Raises:
            SaveFailed: When it could not be written; nothing is left behind.
        """
        meta = {
            "schema": SCHEMA_VERSION,
            "id": uuid.uuid4().hex,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        if migrated_from:
            meta["migrated_from"] = migrated_from
        db: Database | None = None
        created = False
        try:
            # Only its owner may read it (node users' settings are in it); SQLite gives its
            # -wal and -shm files the database file's mode.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            created = True
            db = cls._connect(path, new=True)
            db._conn.execute("BEGIN IMMEDIATE")
            for statement in SCHEMA:
                db._conn.execute(statement)
            db._conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            db._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db._conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            db._apply(first)
            db._conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            if db is not None:
                db._roll_back()
                db.close()
            for leftover in (path, wal_path(path), path.with_name(path.name + "-shm")):
                if created:
                    leftover.unlink(missing_ok=True)  # made just now, and holding nothing
            raise SaveFailed(f"{path}: {one_line(str(exc))}") from exc
        db.checkpoint()
        fsync_dir(path.parent)
        return db

    @classmethod
    def open(cls, path: Path) -> Database:
        """Opens an existing database (checked by `read` beforehand)."""
        return cls._connect(path)

    def meta(self, name: str) -> object:
        """Returns a value of the `meta` table (None when it has none)."""
        found = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if found is None else found[0]

    def write(self, batch: Batch) -> None:
        """Writes one batch of changes as one transaction; durable when it returns.

        Raises:
            SaveFailed: When the transaction could not commit (nothing of it was written).
        """
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._apply(batch)
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._roll_back()
            raise SaveFailed(f"{self.path}: {one_line(str(exc))}") from exc
        with contextlib.suppress(OSError):
            if wal_path(self.path).stat().st_size > CHECKPOINT_BYTES:
                self.checkpoint()

    def _apply(self, batch: Batch) -> None:
        conn = self._conn
        conn.executemany(_DELETE, batch.removed)
        conn.executemany(_DELETE_CHILDREN, batch.emptied)
        # The CRCs are computed here, in the writer's thread when there is one: off the
        # event loop, which serves requests meanwhile.
        conn.executemany(_UPSERT, (row(key, body) for key, body in batch.entries))

    def _roll_back(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite already rolled it back (it does for a full disk)

    def checkpoint(self) -> bool:
        """Copies the WAL into the database file and empties it; returns whether it could.

        A failure (a full disk) leaves the WAL as it was: it stays the record.
        """
        try:
            busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error:
            return False
        return not busy

    def close(self) -> None:
        self._conn.close()
