"""Provides EntityRef: which pool, node, job, task or job schedule a screen has under its cursor.

What `y` (the entity's JSON) and `c` (copy its id) act on. `fetch_json` asks the client for the
entity's body as the service returns it now; the UI never builds its URL or parses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from batch_tui.batch.client import BatchClient

EntityKind = Literal["pool", "node", "job", "task", "schedule"]

JSON_INDENT: Final = 2
"""Spaces per level of the JSON view (and of a saved file)."""

_NOUNS: Final[dict[EntityKind, str]] = {
    "pool": "pool",
    "node": "node",
    "job": "job",
    "task": "task",
    "schedule": "job schedule",
}


@dataclass(frozen=True)
class EntityRef:
    """One entity of the account, by its ids.

    Attributes:
        kind: What it is.
        ids: Its parent's id then its own: (pool,), (pool, node), (job,), (job, task),
            (schedule,).
    """

    kind: EntityKind
    ids: tuple[str, ...]

    @classmethod
    def pool(cls, pool_id: str) -> EntityRef:
        return cls("pool", (pool_id,))

    @classmethod
    def node(cls, pool_id: str, node_id: str) -> EntityRef:
        return cls("node", (pool_id, node_id))

    @classmethod
    def job(cls, job_id: str) -> EntityRef:
        return cls("job", (job_id,))

    @classmethod
    def task(cls, job_id: str, task_id: str) -> EntityRef:
        return cls("task", (job_id, task_id))

    @classmethod
    def schedule(cls, schedule_id: str) -> EntityRef:
        return cls("schedule", (schedule_id,))

    @property
    def id(self) -> str:
        """The entity's own id (a node's, not its pool's)."""
        return self.ids[-1]

    @property
    def noun(self) -> str:
        """What it is, in words: "task", "job schedule"."""
        return _NOUNS[self.kind]

    @property
    def description(self) -> str:
        """Names it with its parent: "task t0 of job job-1" (not sanitized)."""
        if self.kind == "node":
            return f"node {self.ids[1]} of pool {self.ids[0]}"
        if self.kind == "task":
            return f"task {self.ids[1]} of job {self.ids[0]}"
        return f"{self.noun} {self.id}"

    @property
    def crumbs(self) -> tuple[str, ...]:
        """Where it is, as the breadcrumbs of its detail screen say it."""
        if self.kind in ("pool", "node"):
            return ("pools", self.ids[0]) + (("nodes", self.ids[1]) if self.kind == "node" else ())
        if self.kind in ("job", "task"):
            return ("jobs", self.ids[0]) + ((f"task {self.ids[1]}",) if self.kind == "task" else ())
        return ("schedules", self.id)


async def fetch_json(client: BatchClient, ref: EntityRef) -> str:
    """The entity's JSON as the service returns it now, indented for reading.

    Raises:
        BatchError: The read failed (`NotFound` if the entity is gone).
    """
    indent = JSON_INDENT
    if ref.kind == "pool":
        return await client.get_pool_json(ref.ids[0], indent=indent)
    if ref.kind == "node":
        return await client.get_node_json(ref.ids[0], ref.ids[1], indent=indent)
    if ref.kind == "job":
        return await client.get_job_json(ref.ids[0], indent=indent)
    if ref.kind == "task":
        return await client.get_task_json(ref.ids[0], ref.ids[1], indent=indent)
    return await client.get_job_schedule_json(ref.ids[0], indent=indent)
