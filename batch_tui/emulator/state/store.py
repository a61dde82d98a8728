"""Provides the emulator's state: every entity as the JSON the service returns, plus bookkeeping.

The wire form *is* the state: a record's `data` dict holds the entity exactly as a GET returns it
(camelCase keys, ISO timestamps and durations as strings), minus `url`, `eTag` and
`lastModified`, which the wire layer adds from the record. Routes create and patch `data`; the
engine moves states inside it. Keeping one representation means there is no mapping layer to get
wrong, and persistence is a JSON dump.

Keys of the dicts below are lower-cased ids, because the service treats ids case-insensitively
(a pool "P1" makes "p1" a duplicate) while keeping the case the caller gave in `data["id"]`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from batch_tui.emulator.base.clock import Clock


@dataclass(eq=False)
class Record:
    """One entity: its wire JSON plus the concurrency metadata the service keeps."""

    data: dict[str, Any]
    """The entity as a GET returns it, without `url`, `eTag` and `lastModified`."""
    etag: str = ""
    last_modified: datetime | None = None
    internal: dict[str, Any] = field(default_factory=dict)
    """The engine's private bookkeeping (JSON-able, so it can be persisted)."""

    @property
    def id(self) -> str:
        return str(self.data["id"])


@dataclass(eq=False)
class NodeRecord(Record):
    """A compute node; `users` maps a lower-cased user name to its record (name, isAdmin, ...)."""

    pool_key: str = ""
    users: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(eq=False)
class TaskRecord(Record):
    """A task of a job."""

    job_key: str = ""


Location = tuple[str, ...]
"""Where an entity lives: `("pool", key)`, `("node", pool key, key)`, `("job", key)`,
`("task", job key, key)`, `("schedule", key)`, `("application", key)`; or a whole table of a
parent: `("nodes", pool key)`, `("tasks", job key)`."""


class ChangeLog(Protocol):
    """Hears of every change to the store, so that it can be written down (persistence)."""

    def touched(self, record: Record) -> None:
        """`record` changed (or was added); its new state is read later, when it is written."""

    def removed(self, location: Location) -> None:
        """The entity (or table) at `location` was removed."""


class Store:
    """All entities of one emulated Batch account.

    Args:
        clock: The clock used for `lastModified` and new ETags.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.pools: dict[str, Record] = {}
        self.nodes: dict[str, dict[str, NodeRecord]] = {}
        """Pool key -> node id (lower) -> node, in allocation order."""
        self.jobs: dict[str, Record] = {}
        self.tasks: dict[str, dict[str, TaskRecord]] = {}
        """Job key -> task key -> task, in the order they were added."""
        self.job_schedules: dict[str, Record] = {}
        self.applications: dict[str, dict[str, Any]] = {}
        self.version = 0
        """Bumped on every change, so watchers can tell that something moved."""
        self.changes: ChangeLog | None = None
        """Told of every touch and removal when the state is persisted (`--data-dir`)."""
        self._etag_counter = itertools.count(1)

    def touch(self, record: Record) -> None:
        """Marks `record` changed: a new ETag and `lastModified`, as every service mutation does."""
        now = self.clock.now()
        # The service's ETags look like 0x8DBAED6F7336C7A: a hex timestamp. A counter in the low
        # bits keeps two changes in the same tick distinct.
        ticks = int(now.timestamp() * 10_000_000) + 621_355_968_000_000_000
        record.etag = f"0x{(ticks << 4) + next(self._etag_counter) % 16:X}"
        record.last_modified = now
        self.version += 1
        if self.changes is not None:
            self.changes.touched(record)

    def add(self, table: dict[str, Any], record: Record) -> None:
        """Adds `record` to `table` under its lower-cased id and stamps it."""
        self.touch(record)
        table[record.id.lower()] = record

    def remove(self, table: dict[str, Any], key: str) -> Any:
        """Removes `key` from `table` and says so to the change log; every deletion goes here.

        Args:
            table: One of the store's tables (`pools`, `jobs`, `job_schedules`,
                `applications`, `nodes`, `tasks`) or one pool's nodes or one job's tasks.
            key: The lower-cased id (a pool or job key for `nodes` and `tasks`).

        Returns:
            What was removed, or None when `key` was not there.
        """
        value = table.pop(key, None)
        if value is not None:
            self.version += 1
            if self.changes is not None:
                self.changes.removed(self._location(table, key, value))
        return value

    def _location(self, table: dict[str, Any], key: str, value: Any) -> Location:
        if isinstance(value, NodeRecord):
            return ("node", value.pool_key, key)
        if isinstance(value, TaskRecord):
            return ("task", value.job_key, key)
        for kind, known in self.tables():
            if table is known:
                return (kind, key)
        raise ValueError("remove() was given a table that is not one of this store's")

    def tables(self) -> tuple[tuple[str, dict[str, Any]], ...]:
        """Returns the top-level tables by the kind their `Location`s name."""
        return (
            ("pool", self.pools),
            ("nodes", self.nodes),
            ("job", self.jobs),
            ("tasks", self.tasks),
            ("schedule", self.job_schedules),
            ("application", self.applications),
        )

    def pool_nodes(self, pool_key: str) -> dict[str, NodeRecord]:
        """Returns the nodes of a pool (an empty dict for a pool with none)."""
        return self.nodes.setdefault(pool_key, {})

    def job_tasks(self, job_key: str) -> dict[str, TaskRecord]:
        """Returns the tasks of a job (an empty dict for a job with none)."""
        return self.tasks.setdefault(job_key, {})

    def find_node(self, node_id: str) -> NodeRecord | None:
        """Finds a node by id in any pool (node ids are unique across the account)."""
        key = node_id.lower()
        for nodes in self.nodes.values():
            if key in nodes:
                return nodes[key]
        return None
