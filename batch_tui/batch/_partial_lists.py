"""Provides the big-list reads of `BatchClient`: a listing in parts at once, and what changed.

A job of 100,000 tasks pages sequentially, 100 round trips in a row; split by state into
parts that never overlap (`streams.state_parts`), the parts page side by side
(`streams.merge_pages`). Between full listings, a view refreshes only the items whose state
changed since a time of the service's clock (``stateTransitionTime``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from batch_tui.batch import odata
from batch_tui.batch._transport import FilterArg, Select
from batch_tui.batch.models import Node, PoolNodeCounts, Task
from batch_tui.batch.streams import listed_by_state

PARALLEL_STREAMS = 4
"""Streams that list one big collection at once: enough to overlap the round trips, few
enough to stay clear of the service's throttling."""

TASK_STATES = ("active", "preparing", "running", "completed")
"""The task states, each listed by a stream of its own in `iter_tasks_by_state`."""


class PartialListOperations:
    """Listing in parts and delta reads, on the client's own list methods."""

    if TYPE_CHECKING:  # provided by BatchClient

        def iter_tasks(
            self, job_id: str, *, select: Select = None, filter: FilterArg = None
        ) -> AsyncIterator[list[Task]]: ...

        def iter_nodes(
            self, pool_id: str, *, select: Select = None, filter: FilterArg = None
        ) -> AsyncIterator[list[Node]]: ...

        async def list_tasks(
            self, job_id: str, *, select: Select = None, filter: FilterArg = None
        ) -> list[Task]: ...

        async def list_nodes(
            self, pool_id: str, *, select: Select = None, filter: FilterArg = None
        ) -> list[Node]: ...

        async def list_node_counts(self, *, filter: FilterArg = None) -> list[PoolNodeCounts]: ...

    def iter_tasks_by_state(
        self,
        job_id: str,
        *,
        select: Select = None,
        filter: FilterArg = None,
        states: Sequence[str] = TASK_STATES,
        concurrency: int = PARALLEL_STREAMS,
    ) -> AsyncIterator[list[Task]]:
        """Yield a job's tasks page by page, each of ``states`` listed by a stream of its
        own and every other state by one more.

        Up to ``concurrency`` streams page at once, so a 100,000-task job takes a fraction
        of the round trips in a row that `iter_tasks` needs (`busy_states` picks the states
        worth it from the job's task counts; with none, this is `iter_tasks`). Pages of
        different states interleave. A task that changes state while the listing runs can
        be listed twice (keep the one with the later ``stateTransitionTime``) or not at all
        (list what changed since the listing began, as a delta refresh does).
        """

        def part(where: odata.Filter | None) -> AsyncIterator[list[Task]]:
            return self.iter_tasks(job_id, select=select, filter=where)

        return listed_by_state(part, states, filter, concurrency)

    def iter_nodes_by_state(
        self,
        pool_id: str,
        *,
        select: Select = None,
        states: Sequence[str] = (),
        concurrency: int = PARALLEL_STREAMS,
    ) -> AsyncIterator[list[Node]]:
        """Yield a pool's nodes page by page, as `iter_tasks_by_state` does a job's tasks
        (`busy_node_states` picks the states from the pool's node counts)."""

        def part(where: odata.Filter | None) -> AsyncIterator[list[Node]]:
            return self.iter_nodes(pool_id, select=select, filter=where)

        return listed_by_state(part, states, None, concurrency)

    async def get_pool_node_counts(self, pool_id: str) -> PoolNodeCounts | None:
        """Return one pool's node counts by state, or None if the service has none for it."""
        counts = await self.list_node_counts(filter=odata.eq("poolId", pool_id))
        return next((c for c in counts if c.pool_id.lower() == pool_id.lower()), None)

    async def list_tasks_changed(
        self, job_id: str, since: datetime, *, select: Select = None
    ) -> list[Task]:
        """Return the job's tasks whose state changed at or after ``since`` (the service's
        clock): a delta refresh of a big task list. Deleted tasks only show as missing from
        a full listing."""
        changed = odata.ge("stateTransitionTime", since)
        return await self.list_tasks(job_id, select=select, filter=changed)

    async def list_nodes_changed(
        self, pool_id: str, since: datetime, *, select: Select = None
    ) -> list[Node]:
        """Return the pool's nodes whose state changed at or after ``since`` (the service's
        clock): a delta refresh of a big node list. Counters that change without a state
        change (running tasks) and removed nodes only show in a full listing."""
        changed = odata.ge("stateTransitionTime", since)
        return await self.list_nodes(pool_id, select=select, filter=changed)
