"""Tests the retry policy: Retry-After, backoff bounds, budgets and what is never resent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import ServiceError, Throttled, TransportError
from batch_tui.batch.retry import RetryPolicy, parse_retry_after

HOST = "https://acct.westus.batch.azure.com"
KEY = "ZW11bGF0b3ItdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="
NOW = datetime(2024, 10, 1, 12, 0, tzinfo=timezone.utc)


class FakeTime:
    """A clock that only the recorded sleeps move."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def policy(time: FakeTime, **kw: float) -> RetryPolicy:
    return RetryPolicy(sleep=time.sleep, clock=time.clock, random=lambda: 1.0, **kw)  # type: ignore[arg-type]


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], retry: RetryPolicy
) -> BatchClient:
    return BatchClient.with_shared_key(
        HOST, "acct", KEY, transport=httpx.MockTransport(handler), retry=retry
    )


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = format_datetime(NOW + timedelta(seconds=12), usegmt=True)
    assert parse_retry_after(later, now=NOW) == 12.0
    earlier = format_datetime(NOW - timedelta(seconds=12), usegmt=True)
    assert parse_retry_after(earlier, now=NOW) == 0.0


@pytest.mark.parametrize("jitter", [0.0, 0.37, 0.999])
def test_backoff_grows_within_bounds(jitter: float) -> None:
    retry = RetryPolicy(base_backoff=0.5, max_backoff=8.0, random=lambda: jitter)
    for n in range(1, 12):
        ceiling = min(8.0, 0.5 * 2 ** (n - 1))
        assert ceiling / 2 <= retry.backoff(n) <= ceiling
    assert retry.backoff(20) <= 8.0


async def test_429_waits_what_retry_after_says_then_succeeds() -> None:
    time, answers = FakeTime(), [429, 429, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0)
        if status == 429:
            return httpx.Response(
                429, headers={"Retry-After": "3"}, json={"code": "TooManyRequests"}
            )
        return httpx.Response(200, json={"value": [{"id": "p1"}]})

    async with client_for(handler, policy(time)) as client:
        pools = await client.list_pools()
    assert [p.id for p in pools] == ["p1"]
    assert time.waits == [3.0, 3.0]


async def test_retry_after_is_capped() -> None:
    time, answers = FakeTime(), [503, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(answers.pop(0), headers={"Retry-After": "86400"}, json={"id": "p1"})

    async with client_for(handler, policy(time, max_retry_after=30.0)) as client:
        await client.get_pool("p1")
    assert time.waits == [30.0]


async def test_throttling_gives_up_after_max_attempts_with_retry_after() -> None:
    time, count = FakeTime(), 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(503, headers={"Retry-After": "2"}, json={"code": "ServerBusy"})

    async with client_for(handler, policy(time, max_attempts=3)) as client:
        with pytest.raises(Throttled) as info:
            await client.get_pool("p1")
    assert count == 3
    assert time.waits == [2.0, 2.0]
    assert info.value.retry_after == 2.0 and info.value.code == "ServerBusy"


async def test_post_actions_retry_on_429_because_it_was_not_applied() -> None:
    time, answers = FakeTime(), [429, 202]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(answers.pop(0))

    async with client_for(handler, policy(time)) as client:
        await client.reboot_node("p1", "n1")
    assert answers == []


async def test_500_on_get_backs_off_exponentially() -> None:
    time, answers = FakeTime(), [500, 502, 504, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(answers.pop(0), json={"id": "j1"})

    async with client_for(handler, policy(time, base_backoff=0.5, max_backoff=8.0)) as client:
        job = await client.get_job("j1")
    assert job.id == "j1"
    assert time.waits == [0.5, 1.0, 2.0]


async def test_total_budget_stops_retries() -> None:
    time, count = FakeTime(), 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(500, json={"code": "InternalError"})

    retry = policy(time, max_attempts=100, base_backoff=1.0, max_backoff=4.0, total_budget=10.0)
    async with client_for(handler, retry) as client:
        with pytest.raises(ServiceError):
            await client.get_job("j1")
    assert sum(time.waits) <= 10.0
    assert time.waits == [1.0, 2.0, 4.0]
    assert count == 4


async def test_500_on_a_post_action_is_not_retried() -> None:
    time, count = FakeTime(), 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(500, json={"code": "InternalError"})

    async with client_for(handler, policy(time)) as client:
        with pytest.raises(ServiceError):
            await client.terminate_job("j1")
    assert count == 1 and time.waits == []


async def test_no_retry_of_a_post_after_a_read_error() -> None:
    time, count = FakeTime(), 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        raise httpx.ReadTimeout("timed out", request=request)

    async with client_for(handler, policy(time)) as client:
        with pytest.raises(TransportError) as info:
            await client.reboot_node("p1", "n1")
        assert info.value.sent
        with pytest.raises(TransportError):
            await client.delete_task("j1", "t1")
    assert count == 2 and time.waits == []


async def test_get_retries_after_a_read_error() -> None:
    time, failures = FakeTime(), [True, False]

    def handler(request: httpx.Request) -> httpx.Response:
        if failures.pop(0):
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return httpx.Response(200, json={"id": "p1"})

    async with client_for(handler, policy(time)) as client:
        await client.get_pool("p1")
    assert len(time.waits) == 1


async def test_post_retries_a_connect_error_because_nothing_was_sent() -> None:
    time, failures = FakeTime(), [True, True, False]
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if failures.pop(0):
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        bodies.append(request.content)
        return httpx.Response(202)

    async with client_for(handler, policy(time)) as client:
        await client.reboot_node("p1", "n1", option="terminate")
    assert bodies == [b'{"nodeRebootOption":"terminate"}']
    assert time.waits == [0.5, 1.0]


async def test_dns_failure_is_a_transport_error_after_bounded_retries() -> None:
    time, count = FakeTime(), 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    async with client_for(handler, policy(time, max_attempts=4)) as client:
        with pytest.raises(TransportError) as info:
            await client.list_pools()
    assert count == 4 and len(time.waits) == 3
    assert not info.value.sent
    assert "Name or service not known" in str(info.value)


async def test_retries_keep_the_client_request_id_of_the_call() -> None:
    time, seen = FakeTime(), []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["client-request-id"])
        if len(seen) == 1:
            return httpx.Response(503, headers={"Retry-After": "1"})
        return httpx.Response(200, json={"id": "p1"})

    async with client_for(handler, policy(time)) as client:
        await client.get_pool("p1")
        await client.get_pool("p1")
    assert seen[0] == seen[1] != seen[2]
