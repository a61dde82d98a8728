"""Tests the last-known snapshot in the app: shown at once and marked, saved, never for the demo."""

from __future__ import annotations

import stat
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Static

from batch_tui import paths
from batch_tui.accounts import AccountTarget
from batch_tui.batch import snapshot as snap
from batch_tui.batch.cache import BatchCache
from batch_tui.batch.client import BatchClient
from batch_tui.batch.models import Job, Pool, PoolInformation, TaskCountsResult
from batch_tui.batch.models.job import TaskCounts
from batch_tui.batch.retry import RetryPolicy
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.ui.app import BatchApp
from batch_tui.ui.overview_reads import JOB_FIELDS, POOL_FIELDS
from batch_tui.ui.screens.overview import OverviewScreen
from batch_tui.ui.session import AccountSession
from tests.ui.recording import BreakableTransport, HeldRequests
from tests.ui.support import ACCOUNT, BASE_URL, KEY, TARGET, pilot_settle, quiet_settings

PROD = AccountTarget(name="prod", url=BASE_URL, account=ACCOUNT, auth="shared-key", key=KEY)
"""A real (non-demo) account, served by the test emulator."""


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points `paths.cache_dir` (and so the snapshot file) into the test's directory."""
    directory = tmp_path / "user-cache"
    monkeypatch.setattr(paths, "cache_dir", lambda: directory)
    return directory


@pytest.fixture
def held(transport: BreakableTransport) -> HeldRequests:
    """Every request held: a slow link whose answers have not come."""
    return HeldRequests(transport)


def app_over(
    transport: httpx.AsyncBaseTransport, clock: ManualClock, target: AccountTarget = PROD
) -> BatchApp:
    def factory(chosen: AccountTarget) -> AccountSession:
        assert chosen.key is not None
        client = BatchClient.with_shared_key(
            chosen.url, chosen.account, chosen.key, transport=transport,
            retry=RetryPolicy(max_attempts=1),
        )  # fmt: skip
        return AccountSession(chosen, client, BatchCache(client, ttl=0.0))

    return BatchApp(
        quiet_settings(), targets=[target], open_target=target, session_factory=factory,
        now=clock.now,
    )  # fmt: skip


def write_last_run(clock: ManualClock, endpoint: str = BASE_URL) -> None:
    """Saves what an earlier run showed two hours ago: pool-old and job-old."""
    at = clock.now() - timedelta(hours=2)
    pool = Pool(id="pool-old", state="active", allocation_state="steady", vm_size="a2")
    counts = TaskCountsResult(task_counts=TaskCounts(active=4, completed=6, succeeded=6))
    job = Job(id="job-old", state="active", pool_info=PoolInformation(pool_id="pool-old"))
    account = snap.AccountSnapshot(
        endpoint=endpoint,
        saved_at=at,
        pools=snap.PoolsRead(fetched_at=at, select=POOL_FIELDS, value=[pool]),
        node_counts=snap.NodeCountsRead(fetched_at=at, value=[]),
        jobs=snap.JobsRead(fetched_at=at, select=JOB_FIELDS, value=[job]),
        task_counts=(snap.TaskCountsRead(job_id="job-old", fetched_at=at, value=counts),),
    )
    assert snap.save_snapshot(snap.default_path(), account)


async def until(pilot: Any, condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(what)


def overview_of(app: BatchApp) -> OverviewScreen | None:
    screen = app.screen
    return screen if isinstance(screen, OverviewScreen) and screen.is_mounted else None


def titles(screen: OverviewScreen) -> tuple[str, str]:
    return (
        str(screen.query_one("#pools-title", Static).content),
        str(screen.query_one("#jobs-title", Static).content),
    )


async def test_snapshot_rows_show_at_once_marked_until_live_data_lands(
    held, clock, seed_pool, seed_job
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo hi"])
    write_last_run(clock)
    app = app_over(held, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: overview_of(app) is not None, "no overview")
        overview = overview_of(app)
        assert overview is not None
        await until(pilot, lambda: overview.table.row_count == 1, "no snapshot rows")
        assert held.held >= 3 and not held.opened.is_set(), "no answer has come yet"
        assert overview.table.get_row("pool-old") is not None
        job_row = overview.jobs_table.get_row("job-old")
        assert job_row is not None and "6/10" in str(job_row.cells[-2])
        assert titles(overview) == (
            "Pools (1) · cached 2h ago, refreshing…",
            "Jobs (1) · cached 2h ago, refreshing…",
        )
        held.release()
        await pilot_settle(pilot)
        assert overview.table.get_row("pool-a") is not None
        assert overview.table.get_row("pool-old") is None
        assert overview.jobs_table.get_row("job-1") is not None
        assert overview.jobs_table.get_row("job-old") is None
        assert titles(overview) == ("Pools (1)", "Jobs (1)")
        assert not overview.stale and overview.error is None


async def test_a_failed_first_refresh_keeps_the_snapshot_marked_and_says_why(transport, clock):
    write_last_run(clock)
    transport.broken = True
    app = app_over(transport, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot_settle(pilot)
        overview = overview_of(app)
        assert overview is not None and overview.table.get_row("pool-old") is not None
        assert titles(overview) == ("Pools (1) · cached 2h ago", "Jobs (1) · cached 2h ago")
        assert overview.stale and overview.error, "the header and error line say it failed"


async def test_the_app_saves_the_snapshot_0600_after_a_refresh_and_on_exit(
    transport, clock, seed_pool, cache_dir
):
    await seed_pool("pool-a", 1)
    app = app_over(transport, clock)
    path = cache_dir / snap.SNAPSHOT_NAME
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot_settle(pilot)
        await until(pilot, path.exists, "no save after the first refresh")
        first = path.read_bytes()
        await pilot.press("r")
        await pilot_settle(pilot)
        assert path.read_bytes() == first, "a second refresh within a minute does not save"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = snap.load_snapshot(path, BASE_URL)
    assert saved is not None and saved.pools is not None
    assert [pool.id for pool in saved.pools.value] == ["pool-a"]
    assert KEY.encode() not in path.read_bytes()
    assert saved.saved_at == clock.now()


async def test_a_corrupt_file_is_ignored_and_replaced(transport, clock, seed_pool, cache_dir):
    await seed_pool("pool-a", 1)
    cache_dir.mkdir()
    path = cache_dir / snap.SNAPSHOT_NAME
    path.write_bytes(b'{"version": 1, "accounts": [{"endpoint": "')
    app = app_over(transport, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot_settle(pilot)
        overview = overview_of(app)
        assert overview is not None and overview.table.get_row("pool-a") is not None
        assert overview.error is None
    assert snap.load_snapshot(path, BASE_URL) is not None


async def test_the_demo_never_reads_or_writes_the_snapshot(
    transport, clock, seed_pool, cache_dir, monkeypatch
):
    await seed_pool("pool-a", 1)
    write_last_run(clock)  # a snapshot of the demo's own endpoint
    path = cache_dir / snap.SNAPSHOT_NAME
    before = path.read_bytes()
    loads: list[str] = []
    original = snap.read_file

    def spy(where: Path) -> snap.SnapshotFile | None:
        loads.append(str(where))
        return original(where)

    monkeypatch.setattr(snap, "read_file", spy)
    app = app_over(transport, clock, target=TARGET)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot_settle(pilot)
        overview = overview_of(app)
        assert overview is not None and overview.table.get_row("pool-old") is None
        await pilot.press("r")
        await pilot_settle(pilot)
    assert loads == [], "the demo never reads the file"
    assert path.read_bytes() == before, "nor writes it"
    assert sorted(p.name for p in cache_dir.iterdir()) == [snap.SNAPSHOT_NAME]
