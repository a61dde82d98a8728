"""Provides the last-known snapshot: the overview's reads saved on disk, seeded back at start.

Opening an account over a slow link shows what it showed last time at once, marked as
cached, while the live refresh runs. The file, ``paths.cache_dir() / "snapshot-v1.json"``,
is msgspec JSON (never pickle) written 0600 and atomically:

    {"version": 1, "accounts": [
        {"endpoint": "https://acct.westus.batch.azure.com", "saved_at": "...",
         "pools": {"fetched_at": "...", "select": ["id", ...], "value": [{Pool}, ...]},
         "node_counts": {"fetched_at": "...", "value": [{PoolNodeCounts}, ...]},
         "jobs": {"fetched_at": "...", "select": ["id", ...], "value": [{Job}, ...]},
         "task_counts": [{"job_id": "j1", "fetched_at": "...", "value": {TaskCountsResult}}]}]}

Only a whitelist is kept (`SnapshotPlan`: the overview's pool and job lists with their
``$select``, node counts, and the task counts of at most N jobs), and each pool and job is cut
down to the selected fields of `SAFE_POOL_FIELDS` / `SAFE_JOB_FIELDS`, whatever the service
sent: no start task, user account, container registry, mount or auto-pool specification (where
passwords, SAS tokens and environment secrets live) reaches the file. Credentials are never in
the cache, so never in the file. A missing, corrupt, truncated, foreign-version or unreadable
file loads as nothing; the next save replaces it. The least recently saved accounts are
dropped past `MAX_ACCOUNTS`.

API: `load_snapshot(path, endpoint)`, `save_snapshot(path, snapshot)`, `capture(cache, plan,
saved_at)`, `seed_cache(cache, snapshot, plan)`, `default_path()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar

import msgspec

from batch_tui import paths
from batch_tui.batch.cache import BatchCache, CacheRecord, query_of
from batch_tui.batch.models import Job, Pool, PoolInformation, PoolNodeCounts, TaskCountsResult

FORMAT_VERSION: Final = 1
"""The file format's version; a file of any other version is ignored (and replaced)."""

SNAPSHOT_NAME: Final = "snapshot-v1.json"
"""The file's name in the cache directory (STYLE.md, "Cache")."""

MAX_ACCOUNTS: Final = 8
"""Accounts kept in the file: more than one user switches between, few enough to stay small."""

MAX_LIST_ITEMS: Final = 5_000
"""A pool or job list longer than this is not saved (a cut list would show wrong counts)."""

MAX_FILE_BYTES: Final = 64 * 1024 * 1024
"""A larger file is not read: no snapshot this module writes comes near it."""

SAFE_POOL_FIELDS: Final = frozenset(
    {
        "id", "displayName", "url", "eTag", "lastModified", "creationTime", "state",
        "stateTransitionTime", "allocationState", "allocationStateTransitionTime", "vmSize",
        "resizeTimeout", "resizeErrors", "currentDedicatedNodes", "currentLowPriorityNodes",
        "targetDedicatedNodes", "targetLowPriorityNodes", "enableAutoScale",
        "autoScaleEvaluationInterval", "enableInterNodeCommunication", "taskSlotsPerNode",
        "targetNodeCommunicationMode", "currentNodeCommunicationMode",
    }
)  # fmt: skip
"""Pool fields that may be saved: states and counts. Everything that can hold a secret
(start task, user accounts, VM and mount configuration, metadata, tags) is left out."""

SAFE_JOB_FIELDS: Final = frozenset(
    {
        "id", "displayName", "usesTaskDependencies", "url", "eTag", "lastModified",
        "creationTime", "state", "stateTransitionTime", "previousState",
        "previousStateTransitionTime", "priority", "allowTaskPreemption", "maxParallelTasks",
        "poolInfo", "onAllTasksComplete", "onTaskFailure", "executionInfo",
    }
)  # fmt: skip
"""Job fields that may be saved; ``poolInfo`` keeps only its pool id (an auto-pool
specification can hold a start task's secrets). Tasks' settings and metadata are left out."""

AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A timestamp with its zone: a naive one in a hand-edited file fails the load, not the app."""


class PoolsRead(msgspec.Struct, frozen=True, kw_only=True):
    """The pool list read with its ``$select``."""

    fetched_at: AwareTime
    select: tuple[str, ...]
    value: list[Pool]


class NodeCountsRead(msgspec.Struct, frozen=True, kw_only=True):
    """The account's node counts by pool."""

    fetched_at: AwareTime
    value: list[PoolNodeCounts]


class JobsRead(msgspec.Struct, frozen=True, kw_only=True):
    """The job list read with its ``$select``."""

    fetched_at: AwareTime
    select: tuple[str, ...]
    value: list[Job]


class TaskCountsRead(msgspec.Struct, frozen=True, kw_only=True):
    """One job's task counts."""

    job_id: str
    fetched_at: AwareTime
    value: TaskCountsResult


class AccountSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The last-known overview data of one account."""

    endpoint: str
    saved_at: AwareTime
    pools: PoolsRead | None = None
    node_counts: NodeCountsRead | None = None
    jobs: JobsRead | None = None
    task_counts: tuple[TaskCountsRead, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether it holds no read at all."""
        return not (self.pools or self.node_counts or self.jobs or self.task_counts)


class SnapshotFile(msgspec.Struct, frozen=True, kw_only=True):
    """The whole file: its version and one snapshot per account, most recent first."""

    version: int = FORMAT_VERSION
    accounts: tuple[AccountSnapshot, ...] = ()


class _Version(msgspec.Struct):
    version: int


@dataclass(frozen=True)
class SnapshotPlan:
    """Which reads are saved: those of the screen that shows the account first (the UI passes
    its own plan; the API layer does not know the screens).

    Attributes:
        pool_select: The ``$select`` of the pool list read.
        job_select: The ``$select`` of the job list read.
        max_task_counts: Jobs whose task counts are kept, unfinished jobs first.
    """

    pool_select: tuple[str, ...]
    job_select: tuple[str, ...]
    max_task_counts: int = 100


_VERSION_DECODER = msgspec.json.Decoder(_Version)
_FILE_DECODER = msgspec.json.Decoder(SnapshotFile)
_ENCODER = msgspec.json.Encoder()

S = TypeVar("S", bound=msgspec.Struct)


def default_path() -> Path:
    """Returns where the snapshot lives: ``paths.cache_dir() / "snapshot-v1.json"``."""
    return paths.cache_dir() / SNAPSHOT_NAME


def read_file(path: Path) -> SnapshotFile | None:
    """Reads the whole file; None if it is missing, unreadable, corrupt or of another version."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
        if _VERSION_DECODER.decode(data).version != FORMAT_VERSION:
            return None
        return _FILE_DECODER.decode(data)
    except (OSError, ValueError, RecursionError):  # DecodeError is a ValueError; deep nesting
        return None


def load_snapshot(path: Path, endpoint: str) -> AccountSnapshot | None:
    """Returns the saved snapshot of one account, or None (no file, a bad file, not saved).

    Args:
        path: The snapshot file (`default_path()` outside tests).
        endpoint: The account endpoint (`BatchClient.endpoint`).
    """
    saved = read_file(path)
    if saved is None:
        return None
    return next((item for item in saved.accounts if item.endpoint == endpoint), None)


def save_snapshot(
    path: Path, snapshot: AccountSnapshot, *, max_accounts: int = MAX_ACCOUNTS
) -> bool:
    """Stores one account's snapshot beside the others' (atomically, 0600).

    An empty snapshot leaves the file alone, so an account opened and closed before its first
    answer keeps its older data. A bad file is replaced.

    Args:
        path: The snapshot file.
        snapshot: The account's snapshot (`capture`).
        max_accounts: Accounts kept; the least recently saved go first.

    Returns:
        Whether the file was written (False: nothing to save, or the disk refused; the
        app runs on either way, so an `OSError` is not raised).
    """
    if snapshot.empty:
        return False
    saved = read_file(path) or SnapshotFile()
    others = [item for item in saved.accounts if item.endpoint != snapshot.endpoint]
    others.sort(key=lambda item: item.saved_at, reverse=True)
    accounts = (snapshot, *others[: max(0, max_accounts - 1)])
    try:
        paths.replace_private(path, _ENCODER.encode(SnapshotFile(accounts=accounts)))
    except OSError:
        return False
    return True


def capture(cache: BatchCache, plan: SnapshotPlan, saved_at: datetime) -> AccountSnapshot:
    """Takes the plan's reads out of a cache, cut down to their safe fields.

    Args:
        cache: The open account's cache.
        plan: Which reads to keep.
        saved_at: Now; the least recently saved accounts are dropped first.
    """
    records = {(r.resource, r.query): r for r in cache.export(_wanted)}
    pools = records.get(("pools", _query(plan.pool_select)))
    counts = records.get(("nodecounts", ()))
    jobs = records.get(("jobs", _query(plan.job_select)))
    return AccountSnapshot(
        endpoint=cache.client.endpoint,
        saved_at=saved_at,
        pools=_pools_read(pools, plan.pool_select),
        node_counts=_node_counts_read(counts),
        jobs=_jobs_read(jobs, plan.job_select),
        task_counts=tuple(_task_counts(records, jobs, plan.max_task_counts)),
    )


def seed_cache(cache: BatchCache, snapshot: AccountSnapshot, plan: SnapshotPlan) -> int:
    """Seeds a cache with a snapshot's reads that the plan still makes.

    A list saved with another ``$select`` than the plan's (an older version of the app) is
    skipped: its rows could lack a column now shown.

    Returns:
        How many reads were seeded (0 for another account's snapshot).
    """
    if snapshot.endpoint != cache.client.endpoint:
        return 0
    return cache.seed(_records(snapshot, plan))


def _records(snapshot: AccountSnapshot, plan: SnapshotPlan) -> Iterator[CacheRecord]:
    if snapshot.pools and tuple(snapshot.pools.select) == tuple(plan.pool_select):
        pools = snapshot.pools
        yield CacheRecord("pools", _query(pools.select), pools.value, pools.fetched_at)
    if snapshot.node_counts:
        counts = snapshot.node_counts
        yield CacheRecord("nodecounts", (), counts.value, counts.fetched_at)
    if snapshot.jobs and tuple(snapshot.jobs.select) == tuple(plan.job_select):
        jobs = snapshot.jobs
        yield CacheRecord("jobs", _query(jobs.select), jobs.value, jobs.fetched_at)
    for item in snapshot.task_counts[: plan.max_task_counts]:
        resource = f"jobs/{item.job_id}/taskcounts"
        yield CacheRecord(resource, (), item.value, item.fetched_at)


def _query(select: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The cache's query items of a list read with this ``$select``."""
    return tuple(sorted(query_of(select=tuple(select)).items()))


def _wanted(resource: str, query: Mapping[str, str]) -> bool:
    """Whether a cache entry may be one of a plan's reads (the plan picks among them)."""
    if resource in ("pools", "jobs"):
        return set(query) == {"select"}
    if resource == "nodecounts":
        return not query
    parts = resource.split("/")
    return len(parts) == 3 and parts[0] == "jobs" and parts[2] == "taskcounts" and not query


def _pools_read(record: CacheRecord | None, select: tuple[str, ...]) -> PoolsRead | None:
    if record is None or not _is_list_of(record.value, Pool):
        return None
    keep = SAFE_POOL_FIELDS.intersection(select)
    value = [_only(pool, keep) for pool in record.value]
    return PoolsRead(fetched_at=record.fetched_at, select=select, value=value)


def _jobs_read(record: CacheRecord | None, select: tuple[str, ...]) -> JobsRead | None:
    if record is None or not _is_list_of(record.value, Job):
        return None
    keep = SAFE_JOB_FIELDS.intersection(select)
    value = [_safe_job(job, keep) for job in record.value]
    return JobsRead(fetched_at=record.fetched_at, select=select, value=value)


def _node_counts_read(record: CacheRecord | None) -> NodeCountsRead | None:
    if record is None or not _is_list_of(record.value, PoolNodeCounts):
        return None
    return NodeCountsRead(fetched_at=record.fetched_at, value=list(record.value))


def _task_counts(
    records: Mapping[tuple[str, tuple[tuple[str, str], ...]], CacheRecord],
    jobs: CacheRecord | None,
    limit: int,
) -> Iterator[TaskCountsRead]:
    """The saved jobs' task counts, unfinished jobs first as the overview counts them."""
    if jobs is None or not _is_list_of(jobs.value, Job):
        return
    ordered = sorted(jobs.value, key=lambda job: job.state == "completed")
    found = 0
    for job in ordered:
        record = records.get((f"jobs/{job.id}/taskcounts", ()))
        if found == limit:
            return
        if record is not None and isinstance(record.value, TaskCountsResult):
            found += 1
            yield TaskCountsRead(job_id=job.id, fetched_at=record.fetched_at, value=record.value)


def _is_list_of(value: Any, item_type: type[Any]) -> bool:
    return (
        isinstance(value, list)
        and len(value) <= MAX_LIST_ITEMS
        and all(isinstance(item, item_type) for item in value)
    )


def _only(item: S, wire_names: frozenset[str]) -> S:
    """A copy of a model with only the fields named (by their camelCase wire names)."""
    kept = {
        field.name: getattr(item, field.name)
        for field in msgspec.structs.fields(item)
        if field.encode_name in wire_names
    }
    return type(item)(**kept)


def _safe_job(job: Job, wire_names: frozenset[str]) -> Job:
    trimmed = _only(job, wire_names)
    if trimmed.pool_info is None:
        return trimmed
    pool_info = PoolInformation(pool_id=trimmed.pool_info.pool_id)
    return msgspec.structs.replace(trimmed, pool_info=pool_info)
