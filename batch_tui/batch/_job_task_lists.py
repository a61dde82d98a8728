"""Provides `BatchClient.list_job_tasks`: every task of a job, listed as ranges of ids at once.

The listing itself is `id_range_listing.list_in_id_ranges`; this wires it to the client's
task list and task counts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Final

from batch_tui.batch._transport import FilterArg, Select, Transport
from batch_tui.batch.id_range_listing import ListingStats, list_in_id_ranges
from batch_tui.batch.id_ranges import IdRange
from batch_tui.batch.models import Task, TaskCountsResult

PARALLEL_RANGES: Final = 16
"""Ranges of ids that page at once: at 150 ms a request, 16 overlapping round trips list
100,000 tasks in a few seconds; a 429 lowers it."""


class JobTaskListOperations:
    """Listing all of a job's tasks in ranges of ids that page side by side."""

    if TYPE_CHECKING:  # provided by BatchClient
        _t: Transport

        def iter_tasks(
            self,
            job_id: str,
            *,
            select: Select = None,
            filter: FilterArg = None,
            maxresults: int = ...,
        ) -> AsyncIterator[list[Task]]: ...

        async def get_task_counts(self, job_id: str) -> TaskCountsResult: ...

    async def iter_job_tasks(
        self,
        job_id: str,
        *,
        select: Select = None,
        concurrency: int = PARALLEL_RANGES,
        page_size: int = 1000,
        stats: ListingStats | None = None,
    ) -> AsyncIterator[list[Task]]:
        """Yield every task of a job page by page, the first page first, then ranges of
        ids paging side by side (see `id_range_listing`).

        A task comes at most twice (a page listed again after a range was cut differently);
        the later copy is the newer. `list_job_tasks` keeps only that one.

        Args:
            job_id: The job.
            select: ``$select`` properties (``id`` is added: the ranges are cut on it).
            concurrency: The most ranges paging at once.
            page_size: ``maxresults`` per page.
            stats: Filled in with what the listing did (requests, ranges, splits ...).
        """
        fields = None if not select else list(dict.fromkeys(["id", *select]))

        async def total() -> int:
            counts = (await self.get_task_counts(job_id)).task_counts
            return counts.active + counts.running + counts.completed

        def pages_of(part: IdRange) -> AsyncIterator[list[Task]]:
            where = part.filter()
            return self.iter_tasks(job_id, select=fields, filter=where, maxresults=page_size)

        async for page in list_in_id_ranges(
            pages_of,
            total(),
            page_size=page_size,
            concurrency=concurrency,
            throttles=lambda: self._t.throttled,
            stats=stats,
        ):
            yield page

    async def list_job_tasks(
        self,
        job_id: str,
        *,
        select: Select = None,
        page_size: int = 1000,
        stats: ListingStats | None = None,
    ) -> list[Task]:
        """Return every task of a job, each once, listed as `iter_job_tasks` does: the same
        tasks as `list_tasks`, in several times less time for a big job."""
        by_id: dict[str, Task] = {}
        pages = self.iter_job_tasks(job_id, select=select, page_size=page_size, stats=stats)
        async for page in pages:
            for task in page:
                by_id.pop(task.id, None)  # the later copy, at the end like a fresh one
                by_id[task.id] = task
        return list(by_id.values())
