"""Tests listing in parts: the page merge (bounded, ordered per stream, errors, early exit)
and `iter_tasks_by_state` against the emulator and against odd service answers."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import TransportError
from batch_tui.batch.models.job import TaskCounts
from batch_tui.batch.models.node import NodeCounts, PoolNodeCounts
from batch_tui.batch.odata import eq
from batch_tui.batch.retry import RetryPolicy
from batch_tui.batch.streams import busy_node_states, busy_states, merge_pages, state_parts
from batch_tui.emulator import build_emulator, create_app
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.tasks import add_tasks

URL = "https://acct.westus.batch.azure.com"
KEY = base64.b64encode(b"streams-test-key-0123456789abcdef").decode()


class Stream:
    """A page stream that counts how many of its kind page at once, and whether it closed."""

    running = 0
    most = 0

    def __init__(self, name: str, pages: int, fail_at: int | None = None) -> None:
        self.name, self.pages, self.fail_at = name, pages, fail_at
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[list[str]]:
        Stream.running += 1
        Stream.most = max(Stream.most, Stream.running)
        try:
            for index in range(self.pages):
                await asyncio.sleep(0)  # a round trip: the others get to run
                if index == self.fail_at:
                    raise TransportError(f"{self.name} dropped", sent=True)
                yield [f"{self.name}-{index}"]
        finally:
            Stream.running -= 1
            self.closed = True


@pytest.fixture(autouse=True)
def reset_counts() -> None:
    Stream.running = Stream.most = 0


async def test_merge_yields_every_page_once_in_each_streams_order_a_few_at_a_time() -> None:
    streams = [Stream(name, 5) for name in "abcdef"]
    pages = [page async for page in merge_pages([s.__aiter__() for s in streams], 2)]
    assert sorted(item for [item] in pages) == sorted(
        f"{n}-{i}" for n in "abcdef" for i in range(5)
    )
    for name in "abcdef":
        assert [item for [item] in pages if item[0] == name] == [f"{name}-{i}" for i in range(5)]
    assert Stream.most == 2
    assert all(stream.closed for stream in streams)


async def test_merge_raises_the_first_error_and_stops_the_other_streams() -> None:
    streams = [Stream("a", 50), Stream("b", 50, fail_at=3), Stream("c", 50)]
    seen = []
    with pytest.raises(TransportError, match="b dropped"):
        async for page in merge_pages([s.__aiter__() for s in streams], 3):
            seen.extend(page)
    assert len(seen) < 150
    assert Stream.running == 0


async def test_leaving_a_merge_early_closes_its_streams() -> None:
    streams = [Stream(name, 100) for name in "abc"]
    merged = merge_pages([s.__aiter__() for s in streams], 3)
    async for _ in merged:
        break
    await merged.aclose()  # type: ignore[attr-defined]
    assert Stream.running == 0


def test_state_parts_cover_every_state_once_within_the_base_filter() -> None:
    parts = [str(part) for part in state_parts(("active", "running"), eq("id", "t'1"))]
    assert parts == [
        "(id eq 't''1') and (state eq 'active')",
        "(id eq 't''1') and (state eq 'running')",
        "(id eq 't''1') and ((state ne 'active') and (state ne 'running'))",
    ]
    assert [str(p) for p in state_parts(("active",))] == ["state eq 'active'", "state ne 'active'"]


async def test_by_state_lists_the_same_tasks_as_one_stream(tmp_path: Path) -> None:
    settings = EmulatorSettings(
        account="acct", key=KEY, executor="simulated", data_dir=tmp_path, base_url=URL
    )
    emulator = build_emulator(settings, ManualClock())
    add_job(emulator, {"id": "big", "poolInfo": {"poolId": "nowhere"}})
    add_tasks(emulator, "big", [{"id": f"t{i:05d}", "commandLine": "x"} for i in range(2_500)])
    states = ("active", "preparing", "running", "completed")
    for index, record in enumerate(emulator.store.tasks["big"].values()):
        record.data["state"] = states[index % 4]
    transport = httpx.ASGITransport(app=create_app(emulator))
    async with BatchClient.with_shared_key(URL, "acct", KEY, transport=transport) as client:
        one = [
            task async for page in client.iter_tasks("big", select=["id", "state"]) for task in page
        ]
        parts = client.iter_tasks_by_state("big", select=["id", "state"], concurrency=3)
        merged = [task async for page in parts for task in page]
        some = client.iter_tasks_by_state("big", filter=eq("state", "running"), select=["id"])
        running = [task async for page in some for task in page]
    await emulator.stop()
    assert len(one) == 2_500
    assert sorted((t.id, t.state) for t in merged) == sorted((t.id, t.state) for t in one)
    assert len(running) == 625


async def test_by_state_lists_a_task_in_a_state_it_does_not_know() -> None:
    asked: list[str] = []

    def service(request: httpx.Request) -> httpx.Response:
        text = parse_qs(request.url.query.decode())["$filter"][0]
        asked.append(text)
        value = []
        if "ne 'completed'" in text:  # the part for every other state
            value = [{"id": "t-new", "state": "hibernating"}]
        elif "eq 'running'" in text:
            value = [{"id": "t-run", "state": "running"}]
        return httpx.Response(200, json={"value": value})

    transport = httpx.MockTransport(service)
    retry = RetryPolicy(max_attempts=1)
    async with BatchClient.with_shared_key(
        URL, "acct", KEY, transport=transport, retry=retry
    ) as client:
        tasks = [t async for page in client.iter_tasks_by_state("job") for t in page]
    assert sorted((t.id, t.state) for t in tasks) == [
        ("t-new", "hibernating"),
        ("t-run", "running"),
    ]
    assert len(asked) == 5


def test_busy_states_split_only_jobs_with_two_states_over_a_page() -> None:
    def counts(**kw: int) -> TaskCounts:
        return TaskCounts(**kw)

    assert busy_states(counts(active=40_000, running=2_000, completed=60_000), 1000) == (
        "active",
        "running",
        "completed",
    )
    assert busy_states(counts(active=500, running=3, completed=60_000), 1000) == ()
    assert busy_states(counts(active=900, completed=900), 1000) == ()
    assert busy_states(counts(active=5_000, completed=5_000), 1000) == ("active", "completed")
    assert state_parts((), None) == [None]
    assert [str(p) for p in state_parts((), eq("id", "x"))] == ["id eq 'x'"]


def test_busy_node_states_add_dedicated_and_spot_nodes() -> None:
    counts = PoolNodeCounts(
        pool_id="p",
        dedicated=NodeCounts(idle=800, running=3_000, start_task_failed=10),
        low_priority=NodeCounts(idle=700, preempted=40),
    )
    assert busy_node_states(counts, 1000) == ("idle", "running")
    assert busy_node_states(PoolNodeCounts(dedicated=NodeCounts(idle=9_000)), 1000) == ()
    assert busy_node_states(None, 1000) == ()
