"""Tests the raw reads (`get_*_json`): the body as the emulator served it, or re-indented."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import MalformedResponse, NotFound
from batch_tui.batch.retry import RetryPolicy
from batch_tui.emulator import Emulator
from batch_tui.emulator.ops.schedules import add_job_schedule
from tests.emulator.support import EmulatorProfile


class BodyCapture(httpx.AsyncBaseTransport):
    """Passes requests on and keeps each response's body, as it came off the wire."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.bodies.append(body)
        return httpx.Response(response.status_code, headers=response.headers, content=body)


@pytest.fixture
def capture(app: Any) -> BodyCapture:
    return BodyCapture(httpx.ASGITransport(app=app))


@pytest.fixture
async def client(
    capture: BodyCapture, emulator_profile: EmulatorProfile
) -> AsyncIterator[BatchClient]:
    profile = emulator_profile
    async with BatchClient.with_shared_key(
        profile.base_url,
        profile.account,
        profile.key,
        transport=capture,
        retry=RetryPolicy(max_attempts=1),
    ) as made:
        yield made


async def test_each_entity_comes_back_byte_for_byte_as_served(
    client: BatchClient,
    capture: BodyCapture,
    emulator: Emulator,
    seed_pool: Callable[..., Awaitable[list[str]]],
    seed_job: Callable[..., None],
) -> None:
    (node_id,) = await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo hi"])
    add_job_schedule(
        emulator,
        {
            "id": "nightly",
            "schedule": {"recurrenceInterval": "PT1H"},
            "jobSpecification": {"poolInfo": {"poolId": "pool-a"}},
        },
    )
    reads = [
        (client.get_pool_json("pool-a"), "pool-a"),
        (client.get_node_json("pool-a", node_id), node_id),
        (client.get_job_json("job-1"), "job-1"),
        (client.get_task_json("job-1", "t0"), "t0"),
        (client.get_job_schedule_json("nightly"), "nightly"),
    ]
    for read, entity_id in reads:
        text = await read
        assert text.encode("utf-8") == capture.bodies[-1]
        assert json.loads(text)["id"] == entity_id
    assert json.loads(capture.bodies[-1])["schedule"] == {"recurrenceInterval": "PT1H"}


async def test_indent_reformats_without_touching_keys_numbers_or_escapes() -> None:
    served = b'{"id":"p\\u001b[31m","n":1.50,"a":[],"u":"\xc3\xa9","o":{"k":[1,2]}}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=served, headers={"content-type": "application/json"})

    transport = httpx.MockTransport(handler)
    async with BatchClient.with_shared_key(
        "https://acct.westus.batch.azure.com", "acct", "a2V5", transport=transport
    ) as client:
        assert await client.get_task_json("j", "t") == served.decode("utf-8")
        pretty = await client.get_task_json("j", "t", indent=2)
    assert pretty.splitlines() == [
        "{",
        '  "id": "p\\u001b[31m",',
        '  "n": 1.50,',
        '  "a": [],',
        '  "u": "é",',
        '  "o": {',
        '    "k": [',
        "      1,",
        "      2",
        "    ]",
        "  }",
        "}",
    ]
    assert json.loads(pretty) == json.loads(served)


@pytest.mark.parametrize("content", [b"<html>busy</html>", b'{"id": "cut', b'{"id": "\xff"}'])
async def test_a_body_that_is_not_utf8_json_is_malformed(content: bytes) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=content))
    async with BatchClient.with_shared_key(
        "https://acct.westus.batch.azure.com", "acct", "a2V5", transport=transport
    ) as client:
        for indent in (None, 2):
            with pytest.raises(MalformedResponse):
                await client.get_pool_json("p", indent=indent)


async def test_a_missing_entity_is_not_found(client: BatchClient) -> None:
    with pytest.raises(NotFound):
        await client.get_job_json("no-such-job")
