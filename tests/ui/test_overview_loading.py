"""Tests how the overview loads: its reads start with the account, pools show first."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from batch_tui.batch.cache import BatchCache
from batch_tui.batch.client import BatchClient
from batch_tui.config import Settings
from batch_tui.ui.app import BatchApp
from batch_tui.ui.screens.overview import OverviewScreen
from batch_tui.ui.session import AccountSession
from tests.ui.support import TARGET, pilot_settle, quiet_settings


async def shown_overview(pilot: Any) -> OverviewScreen:
    """Waits (bounded) until the overview shows pool rows; returns it."""
    for _ in range(500):
        screen = pilot.app.screen
        if isinstance(screen, OverviewScreen) and screen.is_mounted and screen.table.row_count:
            return screen
        await pilot.pause()
    raise AssertionError("the overview never showed its pools")


async def test_pools_show_before_the_jobs_arrive(make_app, seed_pool, seed_job, monkeypatch):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo hi"])
    gate = asyncio.Event()
    original = BatchCache.list_jobs

    async def held(self: BatchCache, *args: Any, **kwargs: Any) -> Any:
        await gate.wait()
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(BatchCache, "list_jobs", held)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        overview = await shown_overview(pilot)
        assert overview.jobs_table.row_count == 0, "the job list is still on its way"
        assert overview.busy, "the refresh is not over until the jobs are in"
        gate.set()
        await pilot_settle(pilot)
        assert overview.jobs_table.row_count == 1
        assert not overview.busy and overview.error is None


async def test_opening_an_account_sends_the_overviews_reads_itself(
    make_app, seed_pool, recorder, monkeypatch
):
    await seed_pool("pool-a", 1)
    # Without the screen's own refresh, only the account's opening can have sent them.
    monkeypatch.setattr(OverviewScreen, "refresh_data", lambda self: None)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(500):
            if {"/pools", "/nodecounts", "/jobs"} <= {r.path for r in recorder.requests}:
                break
            await pilot.pause()
        await app.workers.wait_for_complete()
    assert {"/pools", "/nodecounts", "/jobs"} <= {r.path for r in recorder.requests}


async def test_the_overviews_first_refresh_shares_the_reads_sent_at_opening(
    transport, recorder, seed_pool, seed_job, clock
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo hi"])

    def session_factory(target: Any) -> AccountSession:
        client = BatchClient.with_shared_key(
            target.url, target.account, target.key, transport=transport
        )
        return AccountSession(target, client)  # the real cache: its TTL outlives start-up

    settings: Settings = quiet_settings()
    app = BatchApp(
        settings, targets=[TARGET], open_target=TARGET, session_factory=session_factory,
        now=clock.now,
    )  # fmt: skip
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        assert isinstance(app.screen, OverviewScreen) and app.screen.table.row_count == 1
    reads = Counter(r.path for r in recorder.requests if r.method == "GET")
    assert (reads["/pools"], reads["/nodecounts"], reads["/jobs"]) == (1, 1, 1)
