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

Screens call e.g. ``await cache.list_nodes(pool_id, select=NODE_FIELDS)`` and receive a
`Cached`; ``force=True`` skips the TTL (a manual refresh) but still coalesces.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any, Generic, TypeVar

from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import BatchError, NotModified
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

T = TypeVar("T")

DEFAULT_TTL = 5.0
"""Seconds data counts as fresh: long enough to absorb screen switches and bursts of
identical reads, short enough that a refresh timer still sees new states."""

Key = tuple[str, str, tuple[tuple[str, str], ...]]
"""(account, resource path, sorted query items)."""

_EXPIRED = datetime.min.replace(tzinfo=timezone.utc)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Cached(Generic[T]):
    """Data read through the cache, with how old and how trustworthy it is.

    Attributes:
        value: The data.
        fetched_at: When the service sent it.
        age: How old it was when returned.
        stale: True if the latest refresh failed and ``value`` is older data.
        error: The failure of that refresh, when ``stale``.
    """

    value: T
    fetched_at: datetime
    age: timedelta
    stale: bool = False
    error: BatchError | None = None


@dataclass
class _Entry:
    value: Any
    fetched_at: datetime
    expires_at: datetime
    etag: str | None = None
    error: BatchError | None = field(default=None)


Loader = Callable[[_Entry | None], Awaitable[tuple[Any, str | None]]]


def _query(**params: object) -> dict[str, str]:
    """Normalise query arguments into the strings a key is made of (None dropped)."""
    out: dict[str, str] = {}
    for name, value in params.items():
        if value is None or value == "" or value == ():
            continue
        if isinstance(value, Sequence) and not isinstance(value, str):
            out[name] = ",".join(str(v) for v in value)
        else:
            out[name] = str(value)
    return out


def _matches(resource: str, prefix: str) -> bool:
    return not prefix or resource == prefix or resource.startswith(prefix.rstrip("/") + "/")


class BatchCache:
    """An in-memory read-through cache over one `BatchClient`. Never imports Textual."""

    def __init__(
        self,
        client: BatchClient,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """Args:
        client: The client of the account.
        ttl: The default freshness in seconds.
        clock: Returns the current aware datetime; tests inject a fake one.
        """
        self.client = client
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[Key, _Entry] = {}
        self._inflight: dict[Key, asyncio.Future[Cached[Any]]] = {}
        self._dirty: set[Key] = set()

    def key(self, resource: str, query: Mapping[str, str] | None = None) -> Key:
        """Return the cache key of a resource path and query."""
        return (self.client.endpoint, resource, tuple(sorted((query or {}).items())))

    async def fetch(
        self,
        resource: str,
        query: Mapping[str, str] | None,
        load: Callable[[], Awaitable[T]],
        *,
        ttl: float | None = None,
        force: bool = False,
    ) -> Cached[T]:
        """Return cached data for (resource, query), calling ``load`` when it is not fresh."""

        async def loader(_: _Entry | None) -> tuple[Any, str | None]:
            return await load(), None

        return await self._get(self.key(resource, query), loader, ttl, force)

    async def fetch_entity(
        self,
        resource: str,
        query: Mapping[str, str] | None,
        load: Callable[..., Awaitable[T]],
        *,
        ttl: float | None = None,
        force: bool = False,
    ) -> Cached[T]:
        """Like `fetch` for one entity, revalidated with its ETag.

        ``load(if_none_match=etag)`` fetches it and may raise `NotModified` to keep the copy.

        The ETag is the entity's ``e_tag`` field, so a ``$select`` without ``eTag`` simply
        refetches in full each time.
        """

        async def loader(old: _Entry | None) -> tuple[Any, str | None]:
            etag = old.etag if old else None
            try:
                value = await load(if_none_match=etag)
            except NotModified:
                if old is None:
                    raise
                return old.value, old.etag
            return value, getattr(value, "e_tag", None)

        return await self._get(self.key(resource, query), loader, ttl, force)

    def peek(self, resource: str, query: Mapping[str, str] | None = None) -> Cached[Any] | None:
        """Return what is cached for (resource, query), fresh or not, without fetching."""
        entry = self._entries.get(self.key(resource, query))
        return None if entry is None else self._snapshot(entry)

    def invalidate(self, prefix: str = "") -> int:
        """Expire every entry whose resource is ``prefix`` or below it; "" expires all.

        Expired entries are refetched on their next read but still serve as stale data if
        that fails. Returns how many entries and in-flight requests were affected.
        """
        count = 0
        for key, entry in self._entries.items():
            if _matches(key[1], prefix):
                entry.expires_at = _EXPIRED
                count += 1
        for key in self._inflight:
            if _matches(key[1], prefix):
                self._dirty.add(key)
                count += 1
        return count

    def clear(self) -> None:
        """Drop all entries and cancel requests in flight (when the account is closed)."""
        for future in self._inflight.values():
            future.cancel()
        self._entries.clear()
        self._inflight.clear()
        self._dirty.clear()

    async def _get(self, key: Key, load: Loader, ttl: float | None, force: bool) -> Cached[Any]:
        entry = self._entries.get(key)
        if entry is not None and not force and entry.expires_at > self._clock():
            return self._snapshot(entry)
        future = self._inflight.get(key)
        if future is None:
            future = asyncio.ensure_future(self._refresh(key, load, ttl))
            self._inflight[key] = future
            future.add_done_callback(lambda done: self._finished(key, done))
        # shield: one caller giving up must not cancel the request the others wait on.
        return await asyncio.shield(future)

    def _finished(self, key: Key, future: asyncio.Future[Cached[Any]]) -> None:
        if self._inflight.get(key) is future:
            del self._inflight[key]
        if not future.cancelled():
            future.exception()  # retrieved here so an unawaited failure is not logged

    async def _refresh(self, key: Key, load: Loader, ttl: float | None) -> Cached[Any]:
        self._dirty.discard(key)
        old = self._entries.get(key)
        try:
            value, etag = await load(old)
        except BatchError as exc:
            if old is None:
                raise
            old.error = exc
            return self._snapshot(old)
        now = self._clock()
        lifetime = timedelta(seconds=self.ttl if ttl is None else ttl)
        expires = _EXPIRED if key in self._dirty else now + lifetime
        self._dirty.discard(key)
        entry = self._entries[key] = _Entry(value, now, expires, etag)
        return self._snapshot(entry)

    def _snapshot(self, entry: _Entry) -> Cached[Any]:
        age = max(timedelta(0), self._clock() - entry.fetched_at)
        stale = entry.error is not None
        return Cached(entry.value, entry.fetched_at, age, stale, entry.error)

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
        q = _query(select=select, filter=filter, expand=expand)
        load = partial(self.client.list_pools, select=select, filter=filter, expand=expand)
        return await self.fetch("pools", q, load, force=force)

    async def get_pool(
        self, pool_id: str, *, select: Sequence[str] | None = None, force: bool = False
    ) -> Cached[Pool]:
        """One pool, revalidated by ETag."""
        load = partial(self.client.get_pool, pool_id, select=select)
        return await self.fetch_entity(f"pools/{pool_id}", _query(select=select), load, force=force)

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
        q = _query(select=select, filter=filter)
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
        return await self.fetch(resource, _query(select=select), load, force=force)

    async def list_jobs(
        self,
        *,
        select: Sequence[str] | None = None,
        filter: Filter | str | None = None,
        force: bool = False,
    ) -> Cached[list[Job]]:
        """The account's jobs."""
        q = _query(select=select, filter=filter)
        load = partial(self.client.list_jobs, select=select, filter=filter)
        return await self.fetch("jobs", q, load, force=force)

    async def get_job(
        self, job_id: str, *, select: Sequence[str] | None = None, force: bool = False
    ) -> Cached[Job]:
        """One job, revalidated by ETag."""
        load = partial(self.client.get_job, job_id, select=select)
        return await self.fetch_entity(f"jobs/{job_id}", _query(select=select), load, force=force)

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
        q = _query(select=select, filter=filter)
        load = partial(self.client.list_tasks, job_id, select=select, filter=filter)
        return await self.fetch(f"jobs/{job_id}/tasks", q, load, force=force)

    async def get_task(
        self, job_id: str, task_id: str, *, select: Sequence[str] | None = None, force: bool = False
    ) -> Cached[Task]:
        """One task, revalidated by ETag."""
        load = partial(self.client.get_task, job_id, task_id, select=select)
        resource = f"jobs/{job_id}/tasks/{task_id}"
        return await self.fetch_entity(resource, _query(select=select), load, force=force)

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

    async def list_job_schedules(self, *, force: bool = False) -> Cached[list[JobSchedule]]:
        """The account's job schedules."""
        return await self.fetch("jobschedules", None, self.client.list_job_schedules, force=force)

    async def get_job_schedule(
        self, job_schedule_id: str, *, force: bool = False
    ) -> Cached[JobSchedule]:
        """One job schedule, revalidated by ETag."""
        load = partial(self.client.get_job_schedule, job_schedule_id)
        return await self.fetch_entity(f"jobschedules/{job_schedule_id}", None, load, force=force)

    async def list_task_files(
        self, job_id: str, task_id: str, *, recursive: bool = False, force: bool = False
    ) -> Cached[list[NodeFile]]:
        """The files of a task's directory."""
        load = partial(self.client.list_task_files, job_id, task_id, recursive)
        resource = f"jobs/{job_id}/tasks/{task_id}/files"
        return await self.fetch(resource, _query(recursive=recursive), load, force=force)

    async def list_node_files(
        self, pool_id: str, node_id: str, *, recursive: bool = False, force: bool = False
    ) -> Cached[list[NodeFile]]:
        """The files under a node's root directory."""
        load = partial(self.client.list_node_files, pool_id, node_id, recursive)
        resource = f"pools/{pool_id}/nodes/{node_id}/files"
        return await self.fetch(resource, _query(recursive=recursive), load, force=force)
