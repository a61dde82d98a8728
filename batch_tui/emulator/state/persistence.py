"""Provides `Persistence`: the store kept in its SQLite database, one transaction per group commit.

The store stays the working state; the database is its durable copy. The store tells
`Persistence` of every touch and removal (`Store.changes`). Changed records are only remembered
until a flush, which encodes them as they are then (a record changed ten times between flushes
is written once) and writes them, with the removals, as one transaction. `commit()` is what the
app awaits after a mutating request and before it answers: it returns once a flush that
started after the request's changes has committed, so a 2xx is only ever sent for changes in
the database. Requests that finish while a flush is writing wait for the next one and share it
(group commit): concurrent clients cost one transaction per batch, not one each.

Changes the engine makes on its own (state moves) are acknowledged to no one; a background
loop writes them every `interval` seconds. It also looks for pools, jobs, schedules and
applications whose bookkeeping changed without a touch (a schedule's job counter, which the
service does not version).

The database is created by the first flush, in one transaction with what it writes (the seed,
or a state migrated from the journal format), so no database exists without the state the
emulator served from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from batch_tui.emulator.state import database, legacy
from batch_tui.emulator.state.database import Batch, Database, Loaded
from batch_tui.emulator.state.errors import SaveFailed, StateError, damaged
from batch_tui.emulator.state.files import (
    DATABASE,
    LOCK,
    STATUS,
    DirLock,
    Fingerprint,
    Status,
    check_files,
    fingerprint,
    write_status,
)
from batch_tui.emulator.state.records import (
    SMALL_KINDS,
    Key,
    encode,
    entities,
    locate,
    row_key,
    small_entities,
)
from batch_tui.emulator.state.store import Location, Record, Store

log = logging.getLogger("batch_tui.emulator.state")

T = TypeVar("T")

FLUSH_INTERVAL = 0.5
"""Seconds between writes of engine-driven changes: at most this much of the engine's own
progress is lost in a crash (never anything a client was told succeeded)."""


class Persistence:
    """Keeps one emulator's store in its database.

    Args:
        store: The store to keep; `load` fills it and hooks itself in as its change log.
        directory: The state folder (`<data_dir>/state`).
        interval: Seconds between background flushes (see `FLUSH_INTERVAL`).
        threaded: Whether writes run in a worker thread. Served over HTTP (`create_served_app`)
            they do: the loop keeps serving other clients during a commit, and the requests
            that end meanwhile share the next one. In process (tests, `httpx.ASGITransport`)
            they do not: a commit then never lets the engine run between a request and the
            next, so the app behaves exactly as it does without a data dir.
    """

    def __init__(
        self,
        store: Store,
        directory: Path,
        *,
        interval: float = FLUSH_INTERVAL,
        threaded: bool = False,
    ) -> None:
        self.store = store
        self.directory = directory
        self.interval = interval
        self.threaded = threaded
        self._dirty: dict[int, Record] = {}
        self._dirty_apps: set[str] = set()
        self._removed: list[Location] = []
        self._changes = 0
        self._durable = 0
        self._written: dict[Location, bytes] = {}
        self._lock = asyncio.Lock()
        self._dirlock = DirLock(directory / LOCK)
        self._loaded: Loaded | None = None
        self._seen: Fingerprint = (None, None)
        """The database's `fingerprint` when it was read: it must be the same when opened."""
        self._migrating = False
        self._db: Database | None = None
        self._opened = False
        self._failing = False
        self._loop: asyncio.Task[None] | None = None

    @property
    def path(self) -> Path:
        """The database file."""
        return self.directory / DATABASE

    async def _io(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs blocking file work: in a worker thread when `threaded`, else right here."""
        if self.threaded:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    # The store's change log

    def touched(self, record: Record) -> None:
        self._dirty[id(record)] = record
        self._changes += 1

    def removed(self, location: Location) -> None:
        self._removed.append(location)
        self._changes += 1

    # Lifecycle

    def load(self) -> bool:
        """Checks the saved state, reads it into the (empty) store and starts hearing of its
        changes. A state folder of the journal format is read, to be migrated when opened.

        Returns:
            Whether there was a saved state (False for a new data dir).

        Raises:
            StateError: When the state is damaged, of a newer format, or in use.
        """
        found = False
        if self.directory.is_dir():
            self._dirlock.acquire()
            try:
                found = self._read()
                self._seen = fingerprint(self.directory)
            finally:
                self._dirlock.release()
        self.store.changes = self
        return found

    def _read(self) -> bool:
        status = check_files(self.directory)
        old = legacy.files(self.directory)
        if not self.path.exists():
            # Even a folder of the journal format that held no state (its emulator was killed
            # before it first served) is "migrated", so its files are moved out of the way.
            self._migrating = bool(old)
            found = bool(old) and legacy.load(self.store, self.directory)
            for location, value in entities(self.store):
                self._mark(location, value)
            return found
        self._loaded = database.read(self.path, self.store)
        self._written = {location: encode(value) for location, value in small_entities(self.store)}
        if status is not None and status.id != self._loaded.id:
            raise damaged(
                self.path,
                f"is not the database {STATUS} names (id {self._loaded.id}, not {status.id})",
                self.directory,
            )
        if old and not self._loaded.migrated:
            raise StateError(
                f"{self.directory}: holds both {DATABASE} and {old[0].name} (the journal "
                "format); nothing was changed: move the one you do not want out of the folder"
            )
        return True

    def _mark(self, location: Location, value: Record | dict[str, Any]) -> None:
        if isinstance(value, Record):
            self.touched(value)
        else:
            self._dirty_apps.add(location[1])
            self._changes += 1

    async def open(self) -> None:
        """Locks the folder and opens the database, if there is one; idempotent. The
        background writes start at the first `checkpoint`.

        Raises:
            StateError: When another emulator uses the folder, or changed it since `load`.
        """
        if not self._opened:
            await self._io(self._open_files)
            self._opened = True

    def _open_files(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._dirlock.acquire()
        try:
            if fingerprint(self.directory) != self._seen:
                raise StateError(
                    f"{self.path}: changed by another emulator since this one read it; nothing "
                    "was changed: start this one again"
                )
            if self._loaded is None:
                return
            self._db = Database.open(self.path)
            self._set_status(is_open=True)
            if self._loaded.migrated and legacy.files(self.directory):
                legacy.move_aside(self.directory)  # a migration that stopped before this
        except BaseException:
            self._close_files()
            raise

    async def close(self) -> None:
        """Writes what is left, checkpoints, closes the database and unlocks the folder."""
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        if not self._opened:
            return
        self._scan()
        async with self._lock:
            try:
                await self._flush()
                clean = self._db is not None and await self._io(self._db.checkpoint)
            except SaveFailed as exc:
                log.error("emulator: the last changes could not be saved: %s", exc)
                clean = False
            self._opened = False
            await self._io(self._close_files, clean)

    def _close_files(self, clean: bool = False) -> None:
        db, self._db = self._db, None
        try:
            if db is not None and clean:
                self._set_status(is_open=False)
        finally:
            if db is not None:
                db.close()
            self._dirlock.release()

    def _set_status(self, *, is_open: bool) -> None:
        """Writes `status.json`. A failure (a full disk) only weakens the check for a lost
        WAL file at the next start, so it is logged, not raised."""
        assert self._loaded is not None
        try:
            write_status(self.directory, Status(DATABASE, self._loaded.id, open=is_open))
        except OSError as exc:
            log.error("emulator: %s could not be written: %s", self.directory / STATUS, exc)

    # Writing

    async def commit(self) -> None:
        """Returns once every change made before the call is in the database.

        Raises:
            RuntimeError: When the database is not open.
            SaveFailed: When the changes could not be written; they stay pending.
        """
        target = self._changes
        if self._durable >= target:
            return
        async with self._lock:
            if self._durable < target:
                await self._flush()

    async def checkpoint(self) -> None:
        """Writes what is pending (the first time, creating the database with it) and folds
        the WAL into the database file; then the background writes start. The emulator calls
        it once started, before it serves. A write that fails is logged and stays pending."""
        try:
            async with self._lock:
                await self._flush()
                if self._db is not None:
                    await self._io(self._db.checkpoint)
        except SaveFailed as exc:
            log.error("emulator: the state could not be saved (it stays pending): %s", exc)
        if self._loop is None:
            self._loop = asyncio.create_task(self._run(), name="batch-emulator-persistence")

    async def _flush(self) -> None:
        """Writes every pending change as one transaction (the caller holds `_lock`)."""
        if not self._opened:
            raise RuntimeError("the emulator's database is not open")
        seq = self._changes
        dirty, apps, removed = self._dirty, self._dirty_apps, self._removed
        self._dirty, self._dirty_apps, self._removed = {}, set(), []
        batch = self._batch(dirty.values(), apps, removed)
        if batch or self._db is None:
            try:
                await self._io(self._write, batch)
            except BaseException:
                self._dirty = {**dirty, **self._dirty}
                self._dirty_apps |= apps
                self._removed = removed + self._removed
                raise
        self._durable = max(self._durable, seq)

    def _write(self, batch: Batch) -> None:
        if self._db is not None:
            self._db.write(batch)
            return
        self._db = Database.create(self.path, batch, legacy.NAME if self._migrating else None)
        self._loaded = Loaded(str(self._db.meta("id")), self._migrating)
        self._set_status(is_open=True)
        if self._migrating:
            moved = legacy.move_aside(self.directory)
            log.warning(
                "emulator: migrated %s to %s; the old files are in %s (delete them "
                "when you no longer need them)",
                self.directory,
                DATABASE,
                moved,
            )
            self._migrating = False

    def _batch(self, records: Iterable[Record], apps: set[str], removed: list[Location]) -> Batch:
        batch = Batch()
        for location in removed:
            if location[0] in ("nodes", "tasks"):
                batch.emptied.append((location[0][:-1], location[1]))
            else:
                batch.removed.append(row_key(location))
        for record in records:
            where = locate(self.store, record)
            if where is not None:
                batch.entries.append(self._entry(where, record))
        for key in apps:
            app = self.store.applications.get(key)
            if app is not None:
                batch.entries.append(self._entry(("application", key), app))
        return batch

    def _entry(self, location: Location, value: Record | dict[str, Any]) -> tuple[Key, bytes]:
        body = encode(value)
        if location[0] in SMALL_KINDS:
            self._written[location] = body  # `_scan` need not write it again
        return row_key(location), body

    def _scan(self) -> None:
        """Marks the pools, jobs, schedules and applications that changed since last seen,
        touched or not (their bookkeeping may change without a touch)."""
        seen: dict[Location, bytes] = {}
        for location, value in small_entities(self.store):
            body = seen[location] = encode(value)
            if self._written.get(location) != body:
                self._mark(location, value)
        self._written = seen

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self._scan()
                await self.commit()
            except SaveFailed as exc:
                if not self._failing:
                    # Once per outage: a full disk must not flood the log twice a second.
                    log.error(
                        "emulator: cannot save the state; changes stay pending and requests "
                        "that change something answer 500: %s",
                        exc,
                    )
                self._failing = True
                continue
            except Exception:
                log.exception("emulator: writing the state failed")  # a bug: say it, go on
                continue
            if self._failing:
                log.warning("emulator: the state is saved again")
                self._failing = False
