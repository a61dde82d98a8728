"""Tests a job reopened after a new launch: its last rows from disk at once, then a delta."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from batch_tui import paths
from batch_tui.accounts import AccountTarget
from batch_tui.batch.cache import BatchCache
from batch_tui.batch.client import BatchClient
from batch_tui.batch.retry import RetryPolicy
from batch_tui.batch.task_snapshot import FOLDER_NAME
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.ui.app import BatchApp
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.session import AccountSession
from tests.ui.jobs_fixtures import open_job, shows, three_tasks, wait_for
from tests.ui.recording import BreakableTransport, HeldRequests, Recorder
from tests.ui.support import ACCOUNT, BASE_URL, KEY, quiet_settings

PROD = AccountTarget(name="prod", url=BASE_URL, account=ACCOUNT, auth="shared-key", key=KEY)
"""A real (non-demo) account, served by the test emulator: its listings are kept on disk."""


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "user-cache"
    monkeypatch.setattr(paths, "cache_dir", lambda: directory)
    return directory


def app_over(transport: httpx.AsyncBaseTransport, clock: ManualClock) -> BatchApp:
    def factory(chosen: AccountTarget) -> AccountSession:
        assert chosen.key is not None
        client = BatchClient.with_shared_key(
            chosen.url, chosen.account, chosen.key, transport=transport,
            retry=RetryPolicy(max_attempts=1),
        )  # fmt: skip
        return AccountSession(chosen, client, BatchCache(client, ttl=0.0))

    return BatchApp(
        quiet_settings(), targets=[PROD], open_target=PROD, session_factory=factory, now=clock.now
    )


def task_filters(recorder: Recorder) -> list[str]:
    return [
        request.query.get("$filter", "")
        for request in recorder.requests
        if request.method == "GET" and request.path.endswith("/jobs/job-1/tasks")
    ]


async def test_a_job_reopened_after_a_new_launch_shows_its_kept_rows_then_a_delta(
    emulator: Any, seed_pool: Any, seed_job: Any, settle: Any, clock: ManualClock,
    recorder: Recorder, cache_dir: Path,
) -> None:  # fmt: skip
    await three_tasks(seed_pool, seed_job, settle, emulator)
    first = app_over(BreakableTransport(httpx.ASGITransport(app=recorder)), clock)
    async with first.run_test(size=(100, 30)) as pilot:
        await open_job(first, pilot)
        await wait_for(pilot, lambda: any((cache_dir / FOLDER_NAME).glob("*.msgpack")))

    # A new launch over a link that holds every task list: only the kept rows can show.
    held = HeldRequests(
        BreakableTransport(httpx.ASGITransport(app=recorder)),
        lambda request: request.url.path.endswith("/tasks"),
    )
    recorder.requests.clear()
    second = app_over(held, clock)
    async with second.run_test(size=(100, 30)) as pilot:
        second.run_command("tasks job-1")
        await wait_for(pilot, lambda: isinstance(second.screen, JobDetailScreen))
        screen = second.screen
        assert isinstance(screen, JobDetailScreen)
        await wait_for(pilot, lambda: screen.is_mounted)
        await wait_for(pilot, lambda: screen.table.row_count == 3)
        assert list(screen.table.visible_keys) == ["t0", "t1", "t2"]
        await shows(pilot, "as listed")
        held.release()
        await wait_for(pilot, lambda: screen.kept_at is None)
    filters = task_filters(recorder)
    assert filters and all(f.startswith("stateTransitionTime ge DateTime'") for f in filters)
