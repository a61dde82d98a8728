"""Provides the emulator's state files: their format, the journal, snapshots and loading them.

The state directory (`<data_dir>/state`) holds `snapshot.jsonl`, one or more
`journal-<generation>.jsonl` and a `lock` file. Both kinds of file are JSON lines of the same
entries: `put` (an entity's whole stored form at a `Location`), `del` (an entity or a table
removed) and `commit`, which ends every batch. A snapshot starts with a `snapshot` header naming
its generation; the state is that snapshot plus the journals of its generation and later ones,
replayed in order.

Entries are whole records, so replaying one twice, or an older snapshot entry followed by the
journal's newer one, gives the same result: that is what lets a snapshot be written while the
emulator keeps changing (a "fuzzy" snapshot, the journal started at the same instant covers
every change made while it is written). Everything after the last `commit` line of a file is an
unfinished batch (a crash mid-write): it was never acknowledged and is ignored and cut off.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from batch_tui.emulator.state.store import Location, NodeRecord, Record, Store, TaskRecord

FORMAT = 1
"""The version of the state file format, written in each snapshot header."""

SNAPSHOT = "snapshot.jsonl"


class StateError(Exception):
    """The state files cannot be used: corrupt, from another format, or in use elsewhere."""


class Saved(msgspec.Struct, omit_defaults=True):
    """An entity as stored: its wire JSON plus the bookkeeping of its `Record`."""

    data: dict[str, Any]
    etag: str = ""
    modified: datetime | None = None
    internal: dict[str, Any] = {}
    users: dict[str, dict[str, Any]] = {}


class Header(msgspec.Struct, tag="snapshot", tag_field="op"):
    gen: int
    format: int = FORMAT


class Put(msgspec.Struct, tag="put", tag_field="op"):
    kind: str
    key: list[str]
    rec: Saved


class Delete(msgspec.Struct, tag="del", tag_field="op"):
    kind: str
    key: list[str]


class Commit(msgspec.Struct, tag="commit", tag_field="op"):
    pass


Entry = Header | Put | Delete | Commit

_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Entry)
COMMIT_LINE = _ENCODER.encode(Commit()) + b"\n"


def journal_path(directory: Path, gen: int) -> Path:
    return directory / f"journal-{gen:08d}.jsonl"


def journals(directory: Path) -> list[tuple[int, Path]]:
    """Returns the journal files in the directory, oldest generation first."""
    found = []
    for path in directory.glob("journal-*.jsonl"):
        number = path.stem.removeprefix("journal-")
        if number.isdigit():
            found.append((int(number), path))
    return sorted(found)


# Records and entries


def saved(record: Record) -> Saved:
    """Returns the stored form of a record (sharing its dicts: encode it before they change)."""
    users = record.users if isinstance(record, NodeRecord) else {}
    return Saved(record.data, record.etag, record.last_modified, record.internal, users)


def locate(store: Store, record: Record) -> Location | None:
    """Returns where `record` is in the store, or None when it is not (anymore)."""
    key = record.id.lower()
    if isinstance(record, NodeRecord):
        node = store.nodes.get(record.pool_key, {}).get(key)
        return ("node", record.pool_key, key) if node is record else None
    if isinstance(record, TaskRecord):
        task = store.tasks.get(record.job_key, {}).get(key)
        return ("task", record.job_key, key) if task is record else None
    for kind, table in (("pool", store.pools), ("job", store.jobs)):
        if table.get(key) is record:
            return (kind, key)
    if store.job_schedules.get(key) is record:
        return ("schedule", key)
    return None


def put(location: Location, value: Record | dict[str, Any]) -> Put:
    rec = saved(value) if isinstance(value, Record) else Saved(value)
    return Put(location[0], list(location[1:]), rec)


def encode(entries: Iterable[Entry]) -> bytes:
    """Encodes entries as JSON lines."""
    return _ENCODER.encode_lines(list(entries))


def encode_saved(rec: Saved) -> bytes:
    return _ENCODER.encode(rec)


Listing = list[tuple[str, list[Any]]]
"""The store at one instant: per table, its kind and its values (`(key, app)` pairs for
applications). Taking it allocates a list per table, nothing per entity: with 100,000 tasks,
holding a tuple per entity makes the collector sweep the whole heap (most of a second)."""


def listing(store: Store) -> Listing:
    """Returns the store's tables as they are now, parents before children."""
    tables: Listing = [("pool", list(store.pools.values()))]
    tables += [("node", list(nodes.values())) for nodes in store.nodes.values()]
    tables.append(("job", list(store.jobs.values())))
    tables += [("task", list(tasks.values())) for tasks in store.tasks.values()]
    tables.append(("schedule", list(store.job_schedules.values())))
    tables.append(("application", list(store.applications.items())))
    return tables


def puts(tables: Listing) -> Iterator[Put]:
    """Yields a `put` entry per entity of a listing, encoding nothing until asked."""
    for kind, values in tables:
        for value in values:
            if kind == "application":
                yield put((kind, value[0]), value[1])
            elif isinstance(value, NodeRecord):
                yield put((kind, value.pool_key, value.id.lower()), value)
            elif isinstance(value, TaskRecord):
                yield put((kind, value.job_key, value.id.lower()), value)
            else:
                yield put((kind, value.id.lower()), value)


def small_entities(store: Store) -> Iterator[tuple[Location, Record | dict[str, Any]]]:
    """Yields the pools, jobs, schedules and applications: the few entities whose bookkeeping
    changes without a new ETag (a schedule's job counter, a job's node list)."""
    for kind, table in (
        ("pool", store.pools),
        ("job", store.jobs),
        ("schedule", store.job_schedules),
        ("application", store.applications),
    ):
        for key, value in table.items():
            yield (kind, key), value


# Replay


def _record(rec: Saved) -> Record:
    return Record(rec.data, rec.etag, rec.modified, rec.internal)


def apply_put(store: Store, entry: Put) -> None:
    """Stores the entity of a `put` entry."""
    kind, key, rec = entry.kind, entry.key, entry.rec
    if kind == "node":
        node = NodeRecord(rec.data, rec.etag, rec.modified, rec.internal, key[0], rec.users)
        store.pool_nodes(key[0])[key[1]] = node
    elif kind == "task":
        task = TaskRecord(rec.data, rec.etag, rec.modified, rec.internal, key[0])
        store.job_tasks(key[0])[key[1]] = task
    elif kind == "application":
        store.applications[key[0]] = rec.data
    else:
        _table(store, kind)[key[0]] = _record(rec)


def apply_delete(store: Store, entry: Delete) -> None:
    """Removes what a `del` entry names (nothing if it is not there)."""
    kind, key = entry.kind, entry.key
    if kind == "node":
        store.nodes.get(key[0], {}).pop(key[1], None)
    elif kind == "task":
        store.tasks.get(key[0], {}).pop(key[1], None)
    else:
        _table(store, kind).pop(key[0], None)


def _table(store: Store, kind: str) -> dict[str, Any]:
    for name, table in store.tables():
        if name == kind:
            return table
    raise StateError(f"unknown entity kind {kind!r} in the state files")


def committed(content: bytes) -> bytes:
    """Returns the part of a file up to and including its last `commit` line."""
    end = (b"\n" + content).rfind(b"\n" + COMMIT_LINE)
    return content[: end + len(COMMIT_LINE)] if end >= 0 else b""


def _entries(path: Path, content: bytes) -> list[Entry]:
    try:
        return _DECODER.decode_lines(content)
    except msgspec.DecodeError as exc:
        # Only the tail after the last commit can be torn; a bad line before it is damage.
        raise StateError(f"{path}: a committed entry is corrupt: {exc}") from exc


def _replay(store: Store, entries: Iterable[Entry]) -> None:
    for entry in entries:
        if isinstance(entry, Put):
            apply_put(store, entry)
        elif isinstance(entry, Delete):
            apply_delete(store, entry)


@dataclass
class Loaded:
    """What loading found on disk."""

    snapshot_gen: int | None
    """The generation of the snapshot; None when there was none (a new data dir)."""
    snapshot_bytes: int = 0
    journal_valid: int = 0
    """The length of the newest journal up to its last commit; the rest is cut off on open."""
    journal_gen: int = 0
    """The generation of the journal to append to."""


def _read_snapshot(store: Store, path: Path) -> tuple[int, int]:
    content = path.read_bytes()
    entries = _entries(path, committed(content))
    header = entries[0] if entries else None
    if not isinstance(header, Header):
        raise StateError(f"{path}: not a complete emulator snapshot")
    if header.format != FORMAT:
        raise StateError(f"{path}: state format {header.format}, this emulator reads {FORMAT}")
    _replay(store, entries[1:])
    return header.gen, len(content)


def load(store: Store, directory: Path) -> Loaded:
    """Replays the saved state into an empty store.

    Without a snapshot the directory holds no state: no request can have been acknowledged
    before the first snapshot (the emulator writes one before it serves), so stray journals of
    such a start are ignored (and removed when the files are opened).

    Raises:
        StateError: When a snapshot or a committed journal entry is corrupt.
    """
    path = directory / SNAPSHOT
    if not path.is_file():
        return Loaded(None)
    gen, size = _read_snapshot(store, path)
    loaded = Loaded(gen, snapshot_bytes=size, journal_gen=gen)
    for number, journal in journals(directory):
        if number < gen:
            continue  # already folded into the snapshot (a compaction ended before its cleanup)
        content = committed(journal.read_bytes())
        _replay(store, _entries(journal, content))
        loaded.journal_gen, loaded.journal_valid = number, len(content)
    return loaded
