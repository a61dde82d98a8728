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
from typing import Any

from batch_tui.emulator.clock import Clock


def iso(dt: datetime) -> str:
    """Formats a timestamp the way the service does: 7 fractional digits and a `Z`."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


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

    def add(self, table: dict[str, Any], record: Record) -> None:
        """Adds `record` to `table` under its lower-cased id and stamps it."""
        self.touch(record)
        table[record.id.lower()] = record

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
