"""Provides `BatchCache`, the read-through cache that screens read Batch data through.

- Entries are keyed by account (the client's endpoint), resource path (``pools/p1/nodes``)
  and query (``$select``, ``$filter`` ...), and are fresh for a TTL.
- Identical requests in flight at the same time are coalesced: every caller awaits the
  one request, and a caller that is cancelled does not cancel it for the others.
- Single entities with an ETag (pools, jobs, tasks, job schedules) revalidate with
  ``If-None-Match``; a 304 keeps the cached object and restarts its TTL.
- When a refresh fails, the last data stays available: the result is marked ``stale``
  and carries the error and the data's age. With no earlier data the error is raised.
- `BatchCache.invalidate` expires a subtree after an action (``invalidate("pools/p1")``),
  including a request already in flight, whose result was read before the action.
- `BatchCache.seed` fills it with data saved by an earlier run (`batch_tui.batch.snapshot`):
  seeded entries are expired, so any read refreshes them, but `peek` shows them as stale
  and a failed refresh falls back to them; `BatchCache.export` hands entries out for saving.

Screens call e.g. ``await cache.list_nodes(pool_id, select=NODE_FIELDS)`` and receive a
`Cached`; ``force=True`` skips the TTL (a manual refresh) but still coalesces.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from batch_tui.batch.models import (
    Job,
    JobPrepReleaseStatus,
    JobSchedule,
    Node,
    NodeFile,
    Pool,
    PoolNodeCounts,
    Subtask,
    Task,
    TaskCountsResult,
)
from batch_tui.batch.odata import Filter
from batch_tui.batch.read_cache import (
    DEFAULT_TTL,
    Cached,
    CacheRecord,
    ReadThroughCache,
    query_of,
)

__all__ = ["DEFAULT_TTL", "BatchCache", "CacheRecord", "Cached", "query_of"]


class BatchCache(ReadThroughCache):
    """An in-memory read-through cache over one `BatchClient`. Never imports Textual."""

    # Typed reads for the screens; each mirrors the BatchClient method of the same name.

    async def list_pools(
        self,
        *,
        select: Sequence[str] | None = None,
        filter: Filter | str | None = None,
        expand: str | None = None,
        force: bool = False,
    ) -> Cached[list[Pool]]:
        """The account's pools."""
        q = query_of(select=select, filter=filter, expand=expand)
        load = partial(self.client.list_pools, select=select, filter=filter, expand=expand)
        return await self.fetch("pools", q, load, force=force)

    async def get_pool(
        self, pool_id: str, *, select: Sequence[str] | None = None, force: bool = False
    ) -> Cached[Pool]:
        """One pool, revalidated by ETag."""
        load = partial(self.client.get_pool, pool_id, select=select)
        return await self.fetch_entity(
            f"pools/{pool_id}", query_of(select=select), load, force=force
        )

    async def list_node_counts(self, *, force: bool = False) -> Cached[list[PoolNodeCounts]]:
        """Node counts by state for every pool."""
        return await self.fetch("nodecounts", None, self.client.list_node_counts, force=force)

    async def list_nodes(
        self,
        pool_id: str,
        *,
        select: Sequence[str] | None = None,
        filter: Filter | str | None = None,
        force: bool = False,
    ) -> Cached[list[Node]]:
        """A pool's nodes."""
        q = query_of(select=select, filter=filter)
        load = partial(self.client.list_nodes, pool_id, select=select, filter=filter)
        return await self.fetch(f"pools/{pool_id}/nodes", q, load, force=force)

    async def get_node(
        self,
        pool_id: str,
        node_id: str,
        *,
        select: Sequence[str] | None = None,
        force: bool = False,
    ) -> Cached[Node]:
        """One node (nodes have no ETag, so it is refetched when it expires)."""
        load = partial(self.client.get_node, pool_id, node_id, select=select)
        resource = f"pools/{pool_id}/nodes/{node_id}"
        return await self.fetch(resource, query_of(select=select), load, force=force)

    async def list_jobs(
        self,
        *,
        select: Sequence[str] | None = None,
        filter: Filter | str | None = None,
        force: bool = False,
    ) -> Cached[list[Job]]:
        """The account's jobs."""
        q = query_of(select=select, filter=filter)
        load = partial(self.client.list_jobs, select=select, filter=filter)
        return await self.fetch("jobs", q, load, force=force)

    async def get_job(
        self, job_id: str, *, select: Sequence[str] | None = None, force: bool = False
    ) -> Cached[Job]:
        """One job, revalidated by ETag."""
        load = partial(self.client.get_job, job_id, select=select)
        return await self.fetch_entity(f"jobs/{job_id}", query_of(select=select), load, force=force)

    async def get_task_counts(
        self, job_id: str, *, force: bool = False
    ) -> Cached[TaskCountsResult]:
        """A job's task counts by state."""
        load = partial(self.client.get_task_counts, job_id)
        return await self.fetch(f"jobs/{job_id}/taskcounts", None, load, force=force)

    async def list_tasks(
        self,
        job_id: str,
        *,
        select: Sequence[str] | None = None,
        filter: Filter | str | None = None,
        force: bool = False,
    ) -> Cached[list[Task]]:
        """A job's tasks (for 100,000-task views, stream `BatchClient.iter_tasks` instead)."""
        q = query_of(select=select, filter=filter)
        load = partial(self.client.list_tasks, job_id, select=select, filter=filter)
        return await self.fetch(f"jobs/{job_id}/tasks", q, load, force=force)

    async def get_task(
        self, job_id: str, task_id: str, *, select: Sequence[str] | None = None, force: bool = False
    ) -> Cached[Task]:
        """One task, revalidated by ETag."""
        load = partial(self.client.get_task, job_id, task_id, select=select)
        resource = f"jobs/{job_id}/tasks/{task_id}"
        return await self.fetch_entity(resource, query_of(select=select), load, force=force)

    async def list_subtasks(
        self, job_id: str, task_id: str, *, force: bool = False
    ) -> Cached[list[Subtask]]:
        """A multi-instance task's subtasks."""
        load = partial(self.client.list_subtasks, job_id, task_id)
        return await self.fetch(f"jobs/{job_id}/tasks/{task_id}/subtasks", None, load, force=force)

    async def list_job_prep_release_status(
        self, job_id: str, *, force: bool = False
    ) -> Cached[list[JobPrepReleaseStatus]]:
        """A job's preparation/release task status per node."""
        load = partial(self.client.list_job_prep_release_status, job_id)
        return await self.fetch(f"jobs/{job_id}/preprelease", None, load, force=force)

    async def list_job_schedules(
        self, *, select: Sequence[str] | None = None, force: bool = False
    ) -> Cached[list[JobSchedule]]:
        """The account's job schedules."""
        load = partial(self.client.list_job_schedules, select=select)
        return await self.fetch("jobschedules", query_of(select=select), load, force=force)

    async def get_job_schedule(
        self, job_schedule_id: str, *, expand: str | None = None, force: bool = False
    ) -> Cached[JobSchedule]:
        """One job schedule, revalidated by ETag; with ``expand="stats"`` its statistics too,
        then fetched in full each time (they change while the ETag does not)."""
        resource = f"jobschedules/{job_schedule_id}"
        if expand:
            load = partial(self.client.get_job_schedule, job_schedule_id, expand=expand)
            return await self.fetch(resource, query_of(expand=expand), load, force=force)
        load = partial(self.client.get_job_schedule, job_schedule_id)
        return await self.fetch_entity(resource, None, load, force=force)

    async def list_schedule_jobs(
        self,
        job_schedule_id: str,
        *,
        select: Sequence[str] | None = None,
        force: bool = False,
    ) -> Cached[list[Job]]:
        """The jobs a job schedule has made that still exist."""
        load = partial(self.client.list_jobs, select=select, job_schedule_id=job_schedule_id)
        resource = f"jobschedules/{job_schedule_id}/jobs"
        return await self.fetch(resource, query_of(select=select), load, force=force)

    async def list_task_files(
        self, job_id: str, task_id: str, *, recursive: bool = False, force: bool = False
    ) -> Cached[list[NodeFile]]:
        """The files of a task's directory."""
        load = partial(self.client.list_task_files, job_id, task_id, recursive)
        resource = f"jobs/{job_id}/tasks/{task_id}/files"
        return await self.fetch(resource, query_of(recursive=recursive), load, force=force)

    async def list_node_files(
        self, pool_id: str, node_id: str, *, recursive: bool = False, force: bool = False
    ) -> Cached[list[NodeFile]]:
        """The files under a node's root directory."""
        load = partial(self.client.list_node_files, pool_id, node_id, recursive)
        resource = f"pools/{pool_id}/nodes/{node_id}/files"
        return await self.fetch(resource, query_of(recursive=recursive), load, force=force)
