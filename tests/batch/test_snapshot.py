"""Tests the last-known snapshot: file round trip, bad files, 0600, secrets, bounds, seeding."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from azure.core.credentials import AccessToken

from batch_tui.batch import snapshot as snap
from batch_tui.batch.cache import BatchCache, query_of
from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import ServiceError
from batch_tui.batch.models import (
    Job,
    Pool,
    PoolInformation,
    PoolNodeCounts,
    TaskCountsResult,
)
from batch_tui.batch.retry import RetryPolicy
from batch_tui.batch.snapshot import (
    AccountSnapshot,
    SnapshotPlan,
    capture,
    load_snapshot,
    save_snapshot,
    seed_cache,
)

HOST = "https://acct.westus.batch.azure.com"
KEY = "c25hcHNob3QtdGVzdC1rZXktS05PV04tMDEyMzQ1Njc4OWFiY2RlZg=="
TOKEN = "eyJ0eXAi.KNOWN-BEARER-TOKEN.signature"
START = datetime(2024, 10, 1, 12, 0, tzinfo=timezone.utc)
POOL_SELECT = ("id", "state", "allocationState", "vmSize", "currentDedicatedNodes")
JOB_SELECT = ("id", "state", "poolInfo", "executionInfo", "priority")
PLAN = SnapshotPlan(pool_select=POOL_SELECT, job_select=JOB_SELECT, max_task_counts=2)
SECRETS = ("pw-SECRET-1", "env-SECRET-2", "sas-SECRET-3", "meta-SECRET-4", "auto-SECRET-5")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def full_pool(pool_id: str) -> dict[str, Any]:
    """A pool as a service that ignores $select would send it: secrets included."""
    return {
        "id": pool_id, "state": "active", "allocationState": "steady",
        "vmSize": "standard_d2s_v3", "currentDedicatedNodes": 2,
        "userAccounts": [{"name": "admin", "password": SECRETS[0]}],
        "startTask": {
            "commandLine": "setup.sh",
            "environmentSettings": [{"name": "DB_PASSWORD", "value": SECRETS[1]}],
            "resourceFiles": [{"httpUrl": f"https://st.blob.core.windows.net/c/f?{SECRETS[2]}"}],
        },
        "metadata": [{"name": "owner", "value": SECRETS[3]}],
    }  # fmt: skip


def full_job(job_id: str, state: str) -> dict[str, Any]:
    auto_pool = {
        "poolLifetimeOption": "job",
        "pool": {
            "vmSize": "standard_d2s_v3",
            "startTask": {
                "commandLine": "x",
                "environmentSettings": [{"name": "K", "value": SECRETS[4]}],
            },
        },
    }
    return {
        "id": job_id, "state": state, "priority": 5,
        "poolInfo": {"poolId": "pool-a", "autoPoolSpecification": auto_pool},
        "executionInfo": {"startTime": "2024-10-01T11:00:00Z", "poolId": "pool-a"},
        "commonEnvironmentSettings": [{"name": "TOKEN", "value": SECRETS[1]}],
        "metadata": [{"name": "owner", "value": SECRETS[3]}],
    }  # fmt: skip


class Service:
    """Answers the overview's reads; `failing` makes every request a 500."""

    def __init__(self) -> None:
        self.failing = False
        self.paths: list[str] = []
        self.jobs = [
            full_job("j1", "completed"),
            full_job("j2", "active"),
            full_job("j3", "active"),
        ]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths.append(path)
        if self.failing:
            return httpx.Response(500, json={"code": "InternalError"})
        if path == "/pools":
            return httpx.Response(200, json={"value": [full_pool("pool-a"), full_pool("pool-b")]})
        if path == "/nodecounts":
            counts = {"poolId": "pool-a", "dedicated": {"idle": 2, "total": 2}}
            return httpx.Response(200, json={"value": [counts]})
        if path == "/jobs":
            return httpx.Response(200, json={"value": self.jobs})
        job_id = path.split("/")[2]
        running = {"j1": 0, "j2": 1, "j3": 2}[job_id]
        body = {"taskCounts": {"active": 1, "running": running, "completed": 3, "succeeded": 3}}
        return httpx.Response(200, json=body)


class TokenCredential:
    """An azure-identity-like credential whose token the test knows."""

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        return AccessToken(TOKEN, int(time.time()) + 3600)

    async def close(self) -> None:
        return None


def make_client(service: Service, *, token: bool = False) -> BatchClient:
    transport = httpx.MockTransport(service)
    retry = RetryPolicy(max_attempts=1)
    if token:
        return BatchClient.with_credential(
            HOST, TokenCredential(), transport=transport, retry=retry
        )
    return BatchClient.with_shared_key(HOST, "acct", KEY, transport=transport, retry=retry)


@pytest.fixture
async def live() -> AsyncIterator[tuple[BatchCache, Service, Clock]]:
    service, clock = Service(), Clock()
    async with make_client(service) as client:
        yield BatchCache(client, ttl=10.0, clock=clock), service, clock


async def read_overview(cache: BatchCache) -> None:
    """Makes the overview's reads (and one read the plan does not keep)."""
    await cache.list_pools(select=POOL_SELECT)
    await cache.list_node_counts()
    jobs = await cache.list_jobs(select=JOB_SELECT)
    for job in jobs.value:
        await cache.get_task_counts(job.id)
    await cache.list_jobs(select=("id",))  # another select: not the plan's


async def test_round_trip_through_the_file_with_real_models(live, tmp_path):
    cache, _, clock = live
    await read_overview(cache)
    taken = capture(cache, PLAN, START)
    path = tmp_path / "cache" / snap.SNAPSHOT_NAME
    assert save_snapshot(path, taken)
    loaded = load_snapshot(path, HOST)
    assert loaded == taken
    assert loaded.pools is not None and loaded.jobs is not None and loaded.node_counts
    assert [type(p) for p in loaded.pools.value] == [Pool, Pool]
    assert loaded.pools.value[0].current_dedicated_nodes == 2
    assert isinstance(loaded.node_counts.value[0], PoolNodeCounts)
    job = loaded.jobs.value[1]
    assert isinstance(job, Job) and (job.id, job.state, job.priority) == ("j2", "active", 5)
    assert job.pool_info == PoolInformation(pool_id="pool-a")
    assert job.execution_info is not None and job.execution_info.pool_id == "pool-a"
    assert job.execution_info.start_time == START - timedelta(hours=1)
    assert job.common_environment_settings == () and job.metadata == ()
    assert loaded.pools.fetched_at == START and loaded.pools.select == POOL_SELECT


async def test_seeded_cache_shows_the_saved_data_stale_with_its_true_age(live, tmp_path):
    cache, _, clock = live
    await read_overview(cache)
    path = tmp_path / snap.SNAPSHOT_NAME
    save_snapshot(path, capture(cache, PLAN, START))
    clock.now = START + timedelta(hours=2)
    service = Service()
    async with make_client(service) as client:
        fresh = BatchCache(client, clock=clock)
        loaded = load_snapshot(path, HOST)
        assert loaded is not None and seed_cache(fresh, loaded, PLAN) == 5
        pools = fresh.peek("pools", query_of(select=POOL_SELECT))
        assert pools is not None and pools.stale and pools.error is None
        assert [pool.id for pool in pools.value] == ["pool-a", "pool-b"]
        assert pools.fetched_at == START and pools.age == timedelta(hours=2)
        counts = fresh.peek("jobs/j3/taskcounts")
        assert (
            counts is not None
            and isinstance(counts.value, TaskCountsResult)
            and counts.value.task_counts.running == 2
        )
        assert service.paths == [], "seeding sends nothing"


async def test_a_read_refreshes_seeded_data_and_a_failure_falls_back_to_it(live, tmp_path):
    cache, service, clock = live
    await read_overview(cache)
    taken = capture(cache, PLAN, START)
    service.failing = True
    async with make_client(service) as client:
        fresh = BatchCache(client, ttl=10.0, clock=clock)
        seed_cache(fresh, taken, PLAN)
        service.paths.clear()
        failed = await fresh.list_pools(select=POOL_SELECT)
        assert service.paths == ["/pools"], "seeded data is expired: the read went out"
        assert failed.stale and isinstance(failed.error, ServiceError)
        assert [pool.id for pool in failed.value] == ["pool-a", "pool-b"]
        assert failed.fetched_at == START
        service.failing = False
        live_read = await fresh.list_pools(select=POOL_SELECT)
        assert not live_read.stale and live_read.error is None
        peeked = fresh.peek("pools", query_of(select=POOL_SELECT))
        assert peeked is not None and not peeked.stale
        assert live_read.value[0].user_accounts, "the live read is not cut down"


async def test_seed_keeps_live_entries_and_skips_other_selects_and_accounts(live):
    cache, _, _ = live
    await read_overview(cache)
    taken = capture(cache, PLAN, START)
    other_plan = SnapshotPlan(pool_select=("id",), job_select=JOB_SELECT, max_task_counts=2)
    async with make_client(Service()) as client:
        fresh = BatchCache(client)
        await fresh.list_node_counts()
        assert seed_cache(fresh, taken, other_plan) == 3, "jobs and two task counts"
        assert fresh.peek("pools", query_of(select=POOL_SELECT)) is None
        counts = fresh.peek("nodecounts")
        assert counts is not None and not counts.stale, "a live entry is never overwritten"
    moved = msgspec.structs.replace(taken, endpoint="https://other.westus.batch.azure.com")
    async with make_client(Service()) as client:
        assert seed_cache(BatchCache(client), moved, PLAN) == 0


async def test_no_key_token_password_or_secret_setting_reaches_the_file(tmp_path):
    path = tmp_path / snap.SNAPSHOT_NAME
    for token in (False, True):
        async with make_client(Service(), token=token) as client:
            cache = BatchCache(client)
            await read_overview(cache)
            assert save_snapshot(path, capture(cache, PLAN, START))
    data = path.read_bytes()
    for secret in (KEY, TOKEN, "KNOWN-BEARER-TOKEN", *SECRETS):
        assert secret.encode() not in data
    assert b"userAccounts" not in data and b"startTask" not in data
    assert b"autoPoolSpecification" not in data and b"metadata" not in data
    assert b'"poolInfo":{"poolId":"pool-a"}' in data, "the job keeps its pool id"


async def test_file_is_0600_and_replaced_atomically(live, tmp_path, monkeypatch):
    cache, _, _ = live
    await read_overview(cache)
    path = tmp_path / "cache" / snap.SNAPSHOT_NAME
    assert save_snapshot(path, capture(cache, PLAN, START))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()

    def refuse(*_: Any) -> None:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    assert not save_snapshot(path, capture(cache, PLAN, START + timedelta(hours=1)))
    assert path.read_bytes() == before, "a failed save leaves the old file whole"
    assert [p.name for p in path.parent.iterdir()] == [snap.SNAPSHOT_NAME], "no temp file left"


def valid_file(tmp_path: Path) -> bytes:
    pools = snap.PoolsRead(fetched_at=START, select=POOL_SELECT, value=[Pool(id="p")])
    account = AccountSnapshot(endpoint=HOST, saved_at=START, pools=pools)
    path = tmp_path / "valid.json"
    save_snapshot(path, account)
    return path.read_bytes()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda good: b"\x00\xffnot json", id="corrupt"),
        pytest.param(lambda good: good[: len(good) // 2], id="truncated"),
        pytest.param(lambda good: good.replace(b'"version":1', b'"version":2'), id="foreign"),
        pytest.param(lambda good: good.replace(b'"version":1,', b""), id="no-version"),
        pytest.param(lambda good: b"[" * 100_000, id="deeply-nested"),
        pytest.param(lambda good: good.replace(b"Z", b""), id="naive-times"),
        pytest.param(lambda good: b"", id="empty"),
    ],
)
def test_bad_files_load_as_nothing_and_the_next_save_replaces_them(tmp_path, damage):
    path = tmp_path / snap.SNAPSHOT_NAME
    path.write_bytes(damage(valid_file(tmp_path)))
    assert load_snapshot(path, HOST) is None
    fresh = AccountSnapshot(
        endpoint=HOST, saved_at=START, jobs=snap.JobsRead(fetched_at=START, select=(), value=[])
    )
    assert save_snapshot(path, fresh)
    assert load_snapshot(path, HOST) == fresh


def test_missing_and_unreadable_files_load_as_nothing(tmp_path, monkeypatch):
    assert load_snapshot(tmp_path / "missing.json", HOST) is None
    directory = tmp_path / "a-directory.json"
    directory.mkdir()
    assert load_snapshot(directory, HOST) is None
    path = tmp_path / snap.SNAPSHOT_NAME
    path.write_bytes(valid_file(tmp_path))

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    assert load_snapshot(path, HOST) is None


def test_least_recently_saved_accounts_are_dropped(tmp_path):
    path = tmp_path / snap.SNAPSHOT_NAME

    def account(number: int) -> AccountSnapshot:
        read = snap.NodeCountsRead(fetched_at=START, value=[PoolNodeCounts(pool_id=f"p{number}")])
        saved_at = START + timedelta(minutes=number)
        return AccountSnapshot(endpoint=f"https://a{number}.x", saved_at=saved_at, node_counts=read)

    for number in range(5):
        save_snapshot(path, account(number), max_accounts=3)
    save_snapshot(path, account(2), max_accounts=3)  # saved again: the most recent now
    kept = snap.read_file(path)
    assert kept is not None
    assert [item.endpoint for item in kept.accounts] == [
        "https://a2.x",
        "https://a4.x",
        "https://a3.x",
    ]
    assert load_snapshot(path, "https://a0.x") is None


def test_an_empty_snapshot_leaves_the_file_alone(tmp_path):
    path = tmp_path / snap.SNAPSHOT_NAME
    path.write_bytes(valid_file(tmp_path))
    before = path.read_bytes()
    assert not save_snapshot(path, AccountSnapshot(endpoint=HOST, saved_at=START))
    assert path.read_bytes() == before


async def test_bounds_task_counts_unfinished_first_and_long_lists_left_out(live, monkeypatch):
    cache, _, _ = live
    await read_overview(cache)
    taken = capture(cache, PLAN, START)
    assert [item.job_id for item in taken.task_counts] == ["j2", "j3"], "completed j1 last"
    monkeypatch.setattr(snap, "MAX_LIST_ITEMS", 2)
    cut = capture(cache, PLAN, START)
    assert cut.jobs is None, "three jobs: too long to save, never cut"
    assert cut.pools is not None and len(cut.pools.value) == 2
    assert cut.task_counts == (), "no saved job list, no task counts"
