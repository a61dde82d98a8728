"""Provides the saved form of the store's entities: where each one lives, and its row.

Every entity is one row: its kind (`pool`, `node`, `job`, `task`, `schedule`,
`application`), its parent's key (a node's pool, a task's job; empty for the others), its own
key, its body (the entity as msgspec JSON: its wire data plus the bookkeeping of its `Record`)
and a CRC-32 of those four. SQLite checks its own pages' structure but not what is inside a
row: the CRC is what finds a byte changed in the middle of a saved task.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec

from batch_tui.emulator.state.store import Location, NodeRecord, Record, Store, TaskRecord


class Saved(msgspec.Struct, omit_defaults=True):
    """An entity as saved: its wire JSON plus the bookkeeping of its `Record`."""

    data: dict[str, Any]
    etag: str = ""
    modified: datetime | None = None
    internal: dict[str, Any] = {}
    users: dict[str, dict[str, Any]] = {}


Key = tuple[str, str, str]
"""A row's key: kind, parent key ("" for a top-level entity) and key."""

Row = tuple[str, str, str, bytes, int]
"""A row as written: kind, parent key, key, body, CRC-32."""

SMALL_KINDS = ("pool", "job", "schedule", "application")
"""Kinds whose bookkeeping may change without a touch (a schedule's job counter, a job's node
list); `Persistence` looks at them again before each background write."""

_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Saved)


def row_key(location: Location) -> Key:
    """Returns the row key of an entity's `Location` (`("pool", "p1")` -> `("pool", "", "p1")`)."""
    if len(location) == 3:
        return location[0], location[1], location[2]
    return location[0], "", location[1]


def encode(value: Record | dict[str, Any]) -> bytes:
    """Returns the body of a record (or of an application, a plain dict)."""
    if not isinstance(value, Record):
        return _ENCODER.encode(Saved(value))
    users = value.users if isinstance(value, NodeRecord) else {}
    return _ENCODER.encode(
        Saved(value.data, value.etag, value.last_modified, value.internal, users)
    )


def checksum(kind: str, parent: str, key: str, body: bytes) -> int:
    """Returns the CRC-32 of a row's key and body."""
    return zlib.crc32(body, zlib.crc32(f"{kind}\0{parent}\0{key}\0".encode()))


def row(key: Key, body: bytes) -> Row:
    """Returns the row of an entity's key and body."""
    return (*key, body, checksum(*key, body))


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


def small_entities(store: Store) -> Iterator[tuple[Location, Record | dict[str, Any]]]:
    """Yields the pools, jobs, schedules and applications (see `SMALL_KINDS`)."""
    tables: tuple[dict[str, Any], ...] = (
        store.pools,
        store.jobs,
        store.job_schedules,
        store.applications,
    )
    for kind, table in zip(SMALL_KINDS, tables, strict=True):
        for key, value in table.items():
            yield (kind, key), value


def entities(store: Store) -> Iterator[tuple[Location, Record | dict[str, Any]]]:
    """Yields every entity of the store with its location, parents before children."""
    yield from ((("pool", key), pool) for key, pool in store.pools.items())
    for pool_key, nodes in store.nodes.items():
        yield from ((("node", pool_key, key), node) for key, node in nodes.items())
    yield from ((("job", key), job) for key, job in store.jobs.items())
    for job_key, tasks in store.tasks.items():
        yield from ((("task", job_key, key), task) for key, task in tasks.items())
    yield from ((("schedule", key), value) for key, value in store.job_schedules.items())
    yield from ((("application", key), app) for key, app in store.applications.items())


def decode(body: bytes) -> Saved:
    """Returns the saved entity of a body.

    Raises:
        msgspec.DecodeError: When the body is not a saved entity.
    """
    return _DECODER.decode(body)


def put(store: Store, key: Key, saved: Saved) -> None:
    """Puts a saved entity back into the store.

    Raises:
        ValueError: When the kind is not one the store has.
    """
    kind, parent, name = key
    if kind == "node":
        node = NodeRecord(
            saved.data, saved.etag, saved.modified, saved.internal, parent, saved.users
        )
        store.pool_nodes(parent)[name] = node
    elif kind == "task":
        task = TaskRecord(saved.data, saved.etag, saved.modified, saved.internal, parent)
        store.job_tasks(parent)[name] = task
    elif kind == "application":
        store.applications[name] = saved.data
    elif kind in ("pool", "job", "schedule"):
        table = {"pool": store.pools, "job": store.jobs, "schedule": store.job_schedules}[kind]
        table[name] = Record(saved.data, saved.etag, saved.modified, saved.internal)
    else:
        raise ValueError(f"unknown entity kind {kind!r}")
