"""Tests BatchCache: coalescing, TTL, ETag revalidation, staleness and invalidation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from batch_tui.batch.cache import BatchCache
from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import NotFound, ServiceError
from batch_tui.batch.odata import eq
from batch_tui.batch.retry import RetryPolicy

HOST = "https://acct.westus.batch.azure.com"
KEY = "ZW11bGF0b3ItdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="
START = datetime(2024, 10, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Service:
    """A scripted service: counts requests, can hold them, fail them or answer 304."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.gate: asyncio.Event | None = None
        self.status = 200
        self.etag = "0x1"
        self.pool_state = "active"

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.gate is not None:
            await self.gate.wait()
        if self.status != 200:
            return httpx.Response(self.status, json={"code": "InternalError"})
        if request.url.path == "/pools":
            return httpx.Response(200, json={"value": [{"id": "p1", "state": self.pool_state}]})
        if request.headers.get("If-None-Match") == self.etag:
            return httpx.Response(304)
        body = {"id": "p1", "eTag": self.etag, "state": self.pool_state}
        return httpx.Response(200, json=body, headers={"ETag": self.etag})


@pytest.fixture
async def setup() -> AsyncIterator[tuple[BatchCache, Service, Clock]]:
    service, clock = Service(), Clock()
    client = BatchClient.with_shared_key(
        HOST,
        "acct",
        KEY,
        transport=httpx.MockTransport(service),
        retry=RetryPolicy(max_attempts=1),
    )
    async with client:
        yield BatchCache(client, ttl=10.0, clock=clock), service, clock


async def wait_for_requests(service: Service, count: int) -> None:
    for _ in range(200):
        if len(service.requests) >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"expected {count} requests, saw {len(service.requests)}")


async def test_ten_concurrent_reads_make_one_request(
    setup: tuple[BatchCache, Service, Clock],
) -> None:
    cache, service, _ = setup
    service.gate = asyncio.Event()
    reads = [asyncio.ensure_future(cache.list_pools(select=["id", "state"])) for _ in range(10)]
    await wait_for_requests(service, 1)
    service.gate.set()
    results = await asyncio.gather(*reads)
    assert len(service.requests) == 1
    assert all(r.value == results[0].value for r in results)
    assert [p.id for p in results[0].value] == ["p1"]


async def test_different_queries_are_different_entries(
    setup: tuple[BatchCache, Service, Clock],
) -> None:
    cache, service, _ = setup
    await cache.list_pools(select=["id"])
    await cache.list_pools(select=["id", "state"])
    await cache.list_pools(filter=eq("state", "active"))
    await cache.list_pools(filter=eq("state", "active"))
    assert len(service.requests) == 3


async def test_fresh_data_is_served_from_memory_until_the_ttl(
    setup: tuple[BatchCache, Service, Clock],
) -> None:
    cache, service, clock = setup
    first = await cache.list_pools()
    clock.advance(9)
    second = await cache.list_pools()
    assert len(service.requests) == 1
    assert second.value is first.value
    assert second.age == timedelta(seconds=9) and not second.stale
    clock.advance(2)
    third = await cache.list_pools()
    assert len(service.requests) == 2
    assert third.fetched_at == START + timedelta(seconds=11) and third.age == timedelta(0)


async def test_force_skips_the_ttl(setup: tuple[BatchCache, Service, Clock]) -> None:
    cache, service, _ = setup
    await cache.list_pools()
    await cache.list_pools(force=True)
    assert len(service.requests) == 2


async def test_entities_revalidate_with_their_etag(
    setup: tuple[BatchCache, Service, Clock],
) -> None:
    cache, service, clock = setup
    first = await cache.get_pool("p1")
    assert "If-None-Match" not in service.requests[0].headers
    clock.advance(11)
    second = await cache.get_pool("p1")
    assert service.requests[1].headers["If-None-Match"] == "0x1"
    assert second.value is first.value  # the 304 kept the cached object
    assert second.fetched_at == START + timedelta(seconds=11)
    clock.advance(1)
    await cache.get_pool("p1")
    assert len(service.requests) == 2  # the 304 restarted the TTL
    service.etag, service.pool_state = "0x2", "deleting"
    clock.advance(10)
    third = await cache.get_pool("p1")
    assert third.value.state == "deleting" and third.value.e_tag == "0x2"


async def test_failed_refresh_keeps_the_last_data_marked_stale(
    setup: tuple[BatchCache, Service, Clock],
) -> None:
    cache, service, clock = setup
    first = await cache.list_pools()
    clock.advance(30)
    service.status = 500
    stale = await cache.list_pools()
    assert stale.stale and isinstance(stale.error, ServiceError)
    assert stale.value is first.value
    assert stale.age == timedelta(seconds=30) and stale.fetched_at == START
    service.status = 200
    clock.advance(1)
    fresh = await cache.list_pools()
    assert not fresh.stale and fresh.error is None and fresh.age == timedelta(0)


async def test_failure_without_earlier_data_raises(
    setup: tuple[BatchCache, Service, Clock],
) -> None:
    cache, service, _ = setup
    service.status = 404
    with pytest.raises(NotFound):
        await cache.get_pool("p1")
    assert cache.peek("pools/p1") is None


async def test_invalidate_expires_a_subtree_only(setup: tuple[BatchCache, Service, Clock]) -> None:
    cache, service, _ = setup
    await cache.get_pool("p1")
    await cache.list_pools()
    assert cache.invalidate("pools/p1") == 1
    await cache.list_pools()
    assert len(service.requests) == 2
    await cache.get_pool("p1")
    assert len(service.requests) == 3
    assert cache.invalidate("") == 2
    peeked = cache.peek("pools")
    assert peeked is not None and not peeked.stale  # expired data is still there to show


async def test_invalidate_during_a_request_does_not_keep_its_result(
    setup: tuple[BatchCache, Service, Clock],
) -> None:
    cache, service, _ = setup
    service.gate = asyncio.Event()
    read = asyncio.ensure_future(cache.list_pools())
    await wait_for_requests(service, 1)
    cache.invalidate("pools")  # an action ran while the list was on its way
    service.gate.set()
    await read
    service.gate = None
    await cache.list_pools()
    assert len(service.requests) == 2


async def test_a_cancelled_caller_does_not_cancel_the_others(
    setup: tuple[BatchCache, Service, Clock],
) -> None:
    cache, service, _ = setup
    service.gate = asyncio.Event()
    impatient = asyncio.ensure_future(cache.list_pools())
    patient = asyncio.ensure_future(cache.list_pools())
    await wait_for_requests(service, 1)
    impatient.cancel()
    service.gate.set()
    result = await patient
    assert impatient.cancelled()
    assert [p.id for p in result.value] == ["p1"]
    assert len(service.requests) == 1


async def test_keys_include_the_account(setup: tuple[BatchCache, Service, Clock]) -> None:
    cache, _, _ = setup
    assert cache.key("pools", {"$select": "id"}) == (HOST, "pools", (("$select", "id"),))
