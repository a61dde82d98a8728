"""Provides persistence for `--data-dir`: a group-committed journal of changes, and snapshots.

The store tells `Persistence` of every touch and removal (`Store.changes`). Changed records
are only remembered, not written, until a flush: the flush encodes their state at that moment
(so a record changed ten times between flushes is written once) together with the removals,
appends the batch to the journal and fsyncs it in a worker thread. `commit()` is what the app
awaits after a mutating request and before it answers: it returns once a flush that started
after the request's changes has ended, so a 2xx is only ever sent for changes on disk. Requests
that finish while a flush is writing wait for the next one and share it (group commit), so
concurrent clients cost one fsync per batch, not one each.

Changes the engine makes on its own (state moves) are not acknowledged to anyone; a background
loop flushes them every `interval` seconds. That loop also looks for pools, jobs, schedules
and applications whose bookkeeping changed without a touch (a schedule's job counter, which the
service does not version), and compacts: when the journal has grown past the snapshot's size
(and `compact_bytes`), a new journal is started and a snapshot of the whole state is written
beside it, chunk by chunk so the event loop is never held for long, then renamed into place;
the old journals are deleted after that. See `statefiles` for why that snapshot is consistent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from batch_tui.emulator import statedisk, statefiles
from batch_tui.emulator.state.store import Location, Record, Store
from batch_tui.emulator.statedisk import DirLock, Journal, SnapshotWriter
from batch_tui.emulator.statefiles import Delete, Loaded

log = logging.getLogger("batch_tui.emulator.persistence")

T = TypeVar("T")

FLUSH_INTERVAL = 0.5
"""Seconds between writes of engine-driven changes: at most this much of the engine's own
progress is lost in a crash (never anything a client was told succeeded)."""

COMPACT_BYTES = 64 * 1024 * 1024
"""Journal size below which no compaction happens, whatever the snapshot's size: rewriting
the whole state costs about as much as this many journal bytes."""

SNAPSHOT_CHUNK = 2000
"""Entities encoded per step of a snapshot, between which requests are served."""


class Persistence:
    """Keeps one emulator's store on disk.

    Args:
        store: The store to keep; `load` fills it and hooks itself in as its change log.
        directory: The state directory (`<data_dir>/state`).
        compact_bytes: The journal size past which a compaction may run (see `COMPACT_BYTES`).
        interval: Seconds between background flushes (see `FLUSH_INTERVAL`).
        threaded: Whether writes run in a worker thread. Served over HTTP (`create_served_app`)
            they do: the loop keeps serving other clients during an fsync, and the requests
            that end meanwhile share the next one. In process (tests, `httpx.ASGITransport`)
            they do not: a commit then never lets the engine run between a request and the
            next, so the app behaves exactly as it does without a data dir.
    """

    def __init__(
        self,
        store: Store,
        directory: Path,
        *,
        compact_bytes: int = COMPACT_BYTES,
        interval: float = FLUSH_INTERVAL,
        threaded: bool = False,
    ) -> None:
        self.store = store
        self.directory = directory
        self.compact_bytes = compact_bytes
        self.interval = interval
        self.threaded = threaded
        self._dirty: dict[int, Record] = {}
        self._dirty_apps: set[str] = set()
        self._removed: list[Location] = []
        self._changes = 0
        self._durable = 0
        self._written: dict[Location, bytes] = {}
        self._lock = asyncio.Lock()
        self._dirlock = DirLock(directory / statedisk.LOCK)
        self._loaded = Loaded(None)
        self._journal: Journal | None = None
        self._loop: asyncio.Task[None] | None = None
        self._compaction: asyncio.Task[None] | None = None

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
        """Reads the saved state into the (empty) store and starts hearing of its changes.

        Returns:
            Whether there was a saved state (False for a new data dir).

        Raises:
            StateError: When the state files are corrupt or of another format.
        """
        self._loaded = statefiles.load(self.store, self.directory)
        self.store.changes = self
        return self._loaded.snapshot_gen is not None

    @property
    def has_snapshot(self) -> bool:
        """Whether a snapshot is on disk (the emulator writes one before it first serves)."""
        return self._loaded.snapshot_gen is not None

    async def open(self) -> None:
        """Locks the directory, opens the journal and starts the background loop; idempotent.

        Raises:
            StateError: When another emulator uses the directory.
        """
        if self._journal is None:
            self._journal = await self._io(self._open_files)
        if self._loop is None:
            self._loop = asyncio.create_task(self._run(), name="batch-emulator-persistence")

    def _open_files(self) -> Journal:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._dirlock.acquire()
        loaded = self._loaded
        try:
            if loaded.snapshot_gen is None:
                statedisk.remove_journals(self.directory, below=2**62)
                return Journal(statefiles.journal_path(self.directory, 0), valid=0)
            statedisk.remove_journals(self.directory, below=loaded.snapshot_gen)
            path = statefiles.journal_path(self.directory, loaded.journal_gen)
            return Journal(path, valid=loaded.journal_valid)
        except BaseException:
            self._dirlock.release()
            raise

    async def close(self) -> None:
        """Writes what is left, closes the journal and unlocks the directory."""
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        if self._compaction is not None:
            await asyncio.shield(self._compaction)
        journal = self._journal
        if journal is None:
            return
        self._scan()
        async with self._lock:
            await self._flush()
        self._journal = None
        self._loaded.journal_valid = journal.size
        await self._io(self._close_files, journal)

    def _close_files(self, journal: Journal) -> None:
        journal.close()
        self._dirlock.release()

    # Writing

    async def commit(self) -> None:
        """Returns once every change made before the call is durable.

        Raises:
            RuntimeError: When the state files are not open.
            OSError: When the journal cannot be written; the changes stay pending.
        """
        target = self._changes
        if self._durable >= target:
            return
        async with self._lock:
            if self._durable < target:
                await self._flush()

    async def _flush(self) -> None:
        """Writes every pending change as one batch (the caller holds `_lock`)."""
        journal = self._journal
        if journal is None:
            raise RuntimeError("the emulator's state files are not open")
        seq = self._changes
        dirty, apps, removed = self._dirty, self._dirty_apps, self._removed
        self._dirty, self._dirty_apps, self._removed = {}, set(), []
        payload = self._batch(dirty.values(), apps, removed)
        if payload:
            try:
                await self._io(journal.append, payload)
            except BaseException:
                self._dirty = {**dirty, **self._dirty}
                self._dirty_apps |= apps
                self._removed = removed + self._removed
                raise
        self._durable = max(self._durable, seq)

    def _batch(self, records: Iterable[Record], apps: set[str], removed: list[Location]) -> bytes:
        # Removals first: anything removed and added again since the last batch is in the
        # store now, and its put below comes after its removal.
        entries: list[statefiles.Entry] = [Delete(loc[0], list(loc[1:])) for loc in removed]
        for record in records:
            location = statefiles.locate(self.store, record)
            if location is not None:
                entries.append(statefiles.put(location, record))
        for key in apps:
            app = self.store.applications.get(key)
            if app is not None:
                entries.append(statefiles.put(("application", key), app))
        if not entries:
            return b""
        return statefiles.encode(entries) + statefiles.COMMIT_LINE

    def _scan(self) -> None:
        """Marks the pools, jobs, schedules and applications that changed since last seen,
        touched or not (their bookkeeping may change without a touch)."""
        seen: dict[Location, bytes] = {}
        for location, value in statefiles.small_entities(self.store):
            encoded = statefiles.encode_saved(statefiles.put(location, value).rec)
            seen[location] = encoded
            if self._written.get(location) == encoded:
                continue
            if isinstance(value, Record):
                self.touched(value)
            else:
                self._dirty_apps.add(location[1])
                self._changes += 1
        self._written = seen

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self._scan()
                await self.commit()
                if self._should_compact():
                    await self.checkpoint()
            except Exception:
                # A full disk must not stop the emulator; the changes stay pending and the
                # requests that need them answer 500 until they can be written.
                log.exception("emulator persistence: writing the state failed")

    # Compaction

    def _should_compact(self) -> bool:
        journal = self._journal
        if journal is None or self._compaction is not None:
            return False
        return journal.size > max(self.compact_bytes, self._loaded.snapshot_bytes)

    async def checkpoint(self) -> None:
        """Writes a snapshot of the whole state and drops the journals it replaces."""
        if not self.threaded:
            await self._compact()  # to the end, letting nothing run meanwhile (see `threaded`)
            return
        if self._compaction is None:
            self._compaction = asyncio.create_task(self._compact())
        await asyncio.shield(self._compaction)

    async def _compact(self) -> None:
        try:
            await self._compact_now()
        finally:
            self._compaction = None

    async def _compact_now(self) -> None:
        async with self._lock:
            await self._flush()
            # The new journal starts at this instant: with it, the snapshot below may be taken
            # while things change (see `statefiles`).
            gen = self._loaded.journal_gen + 1
            listed = statefiles.listing(self.store)
            new = await self._io(Journal, statefiles.journal_path(self.directory, gen))
            old, self._journal = self._journal, new
            self._loaded.journal_gen = gen
        if old is not None:
            await self._io(old.close)
        size = await self._write_snapshot(gen, listed)
        await self._io(statedisk.remove_journals, self.directory, gen)
        self._loaded.snapshot_gen = gen
        self._loaded.snapshot_bytes = size

    async def _write_snapshot(self, gen: int, listed: statefiles.Listing) -> int:
        writer = await self._io(SnapshotWriter, self.directory, gen)
        entries = statefiles.puts(listed)
        try:
            while chunk := list(itertools.islice(entries, SNAPSHOT_CHUNK)):
                payload = statefiles.encode(chunk)
                await self._io(writer.write, payload)  # threaded: requests get in between
            return await self._io(writer.finish)
        except BaseException:
            await self._io(writer.abort)
            raise
