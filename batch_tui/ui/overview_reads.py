"""Provides the overview's reads: what it lists, sent early, and kept in the last-known snapshot.

- `POOL_FIELDS`, `JOB_FIELDS`: the `$select` of the overview's pool and job lists;
- `read_pools(cache)`, `read_jobs(cache)`: those reads, through the account's cache;
- `prefetch(cache)`: sends them before the overview is even built (`BatchApp.open_account`);
- `SNAPSHOT_PLAN`: what the snapshot file keeps of them (`AccountSession.capture_snapshot`).

They live here, not on the overview screen, because the session and the app use them too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Final

from batch_tui.batch.cache import BatchCache, Cached
from batch_tui.batch.models import Job, Pool, PoolNodeCounts
from batch_tui.batch.snapshot import SnapshotPlan

POOL_FIELDS: Final = (
    "id",
    "state",
    "allocationState",
    "vmSize",
    "currentDedicatedNodes",
    "targetDedicatedNodes",
    "currentLowPriorityNodes",
    "targetLowPriorityNodes",
    "enableAutoScale",
    "resizeErrors",
)
"""The pool fields the overview shows ($select)."""

JOB_FIELDS: Final = ("id", "state", "poolInfo", "executionInfo", "priority")
"""The job fields the overview shows ($select)."""

MAX_COUNTED_JOBS: Final = 100
"""Jobs whose task counts the overview fetches (one request each): unfinished jobs first."""

SNAPSHOT_PLAN: Final = SnapshotPlan(
    pool_select=POOL_FIELDS, job_select=JOB_FIELDS, max_task_counts=MAX_COUNTED_JOBS
)
"""The reads the last-known snapshot keeps: exactly what the overview shows on opening."""


def read_pools(
    cache: BatchCache, force: bool = False
) -> Awaitable[tuple[Cached[list[Pool]], Cached[list[PoolNodeCounts]]]]:
    """Reads what the pool table shows: the pools and their node counts, at once."""
    return asyncio.gather(
        cache.list_pools(select=POOL_FIELDS, force=force), cache.list_node_counts(force=force)
    )


def read_jobs(cache: BatchCache, force: bool = False) -> Awaitable[Cached[list[Job]]]:
    """Reads the job list the job table shows (task counts come after, per job)."""
    return cache.list_jobs(select=JOB_FIELDS, force=force)


async def prefetch(cache: BatchCache) -> None:
    """Sends the overview's list requests before its screen is even composed.

    `BatchApp.open_account` runs this first, so the requests are in flight while Textual
    builds the screens; the screen's first refresh then finds the answers in the cache, or
    joins the requests still in flight (the cache coalesces them). Errors are left to that
    refresh, which reads again and shows them.
    """
    await asyncio.gather(read_pools(cache), read_jobs(cache), return_exceptions=True)
