"""Provides the read-through machinery under `BatchCache` (see `batch_tui.batch.cache`).

Entries are keyed by (account endpoint, resource path, query); identical reads in flight are
coalesced; entities revalidate with their ETag; a failed refresh serves the last data,
stale; entries can be seeded from a saved snapshot and exported for saving.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Generic, TypeVar

from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import BatchError, NotModified

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
        stale: True if the latest refresh failed and ``value`` is older data, or if
            ``value`` was seeded from an earlier run and not refreshed yet.
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
    seeded: bool = False


@dataclass(frozen=True)
class CacheRecord:
    """One cached read as `BatchCache.export` hands it out and `BatchCache.seed` takes it.

    Attributes:
        resource: The resource path (``pools``, ``jobs/j1/taskcounts``).
        query: The sorted query items of the read (``(("select", "id,state"),)``).
        value: The data, as the typed read returns it (``list[Pool]`` ...).
        fetched_at: When the service sent it.
    """

    resource: str
    query: tuple[tuple[str, str], ...]
    value: Any
    fetched_at: datetime


Loader = Callable[[_Entry | None], Awaitable[tuple[Any, str | None]]]


def query_of(**params: object) -> dict[str, str]:
    """Normalises query arguments into the strings a key is made of (None dropped).

    The typed reads build their keys with it; `peek` callers use it to name the same read.
    """
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


class ReadThroughCache:
    """The machinery of `BatchCache`: keys, TTLs, coalescing, ETags, stale data, seeding."""

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

    def seed(self, records: Iterable[CacheRecord]) -> int:
        """Fills empty keys with data from an earlier run; live entries are kept.

        Seeded entries are expired: the next read of each refreshes it, and falls back to the
        seeded data (stale, with the error) only if that fails. Returns how many were seeded.
        """
        count = 0
        for record in records:
            key = self.key(record.resource, dict(record.query))
            if key not in self._entries:
                entry = _Entry(record.value, record.fetched_at, _EXPIRED, seeded=True)
                self._entries[key] = entry
                count += 1
        return count

    def export(self, keep: Callable[[str, Mapping[str, str]], bool]) -> list[CacheRecord]:
        """Returns the entries for which ``keep(resource, query)`` holds, for saving.

        Fresh, expired, stale and seeded entries alike: each is the last data known.
        """
        return [
            CacheRecord(resource, query, entry.value, entry.fetched_at)
            for (_, resource, query), entry in self._entries.items()
            if keep(resource, dict(query))
        ]

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
        stale = entry.error is not None or entry.seeded
        return Cached(entry.value, entry.fetched_at, age, stale, entry.error)
