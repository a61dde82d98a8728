"""Tests the task list of a job: server-side state filters, streaming, delta refresh, go to id."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.ui.formatting import format_duration
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from batch_tui.ui.widgets.table_rows import plain
from tests.ui.jobs_fixtures import await_screen, open_job, shows, three_tasks, wait_for
from tests.ui.recording import BreakableTransport, HeldRequests, Recorder
from tests.ui.support import pilot_settle

FAILED_FILTER = "(state eq 'completed') and (executionInfo/result eq 'failure')"


@pytest.fixture
def transport(recorder: Recorder) -> Any:
    # Holds every request for a second page (a `$skiptoken`) until `release()`.
    inner = BreakableTransport(httpx.ASGITransport(app=recorder))
    return HeldRequests(inner, lambda request: "skiptoken" in str(request.url).lower())


@pytest.fixture(autouse=True)
def _open_gate(transport: HeldRequests) -> None:
    # Tests that do not test streaming never wait for the gate.
    transport.release()


def task_lists(recorder: Recorder, job_id: str = "job-1") -> list[dict[str, str]]:
    """The queries of the task list requests the emulator received."""
    return [r.query for r in recorder.requests if r.path == f"/jobs/{job_id}/tasks"]


async def test_state_filter_is_sent_to_the_service(
    emulator, seed_pool, seed_job, settle, make_app, recorder
):
    await three_tasks(seed_pool, seed_job, settle, emulator)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_job(app, pilot)
        assert list(screen.table.visible_keys) == ["t0", "t1", "t2"]
        assert "$filter" not in task_lists(recorder)[-1]

        await pilot.press("5")
        await pilot_settle(pilot)
        assert task_lists(recorder)[-1]["$filter"] == FAILED_FILTER
        assert list(screen.table.visible_keys) == ["t1"]
        await shows(pilot, "5 failed")
        await pilot.press("2")
        await pilot_settle(pilot)
        assert task_lists(recorder)[-1]["$filter"] == "state eq 'active'"
        assert screen.table.row_count == 0

        await pilot.press("4")
        await pilot_settle(pilot)
        assert task_lists(recorder)[-1]["$filter"] == "state eq 'completed'"
        assert screen.table.row_count == 3

        await pilot.press("3")
        await pilot_settle(pilot)
        running = "(state eq 'preparing') or (state eq 'running')"
        assert task_lists(recorder)[-1]["$filter"] == running


async def test_a_big_job_is_listed_in_ranges_of_ids_side_by_side_in_id_order(
    emulator, make_app, recorder
):
    add_job(emulator, {"id": "big", "poolInfo": {"poolId": "nowhere"}})
    tasks = [{"id": f"t{i:05d}", "commandLine": "x"} for i in range(13_000)]
    for start in range(0, len(tasks), 100):
        add_tasks(emulator, "big", tasks[start : start + 100])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_job(app, pilot, "big")
        assert screen.table.row_count == 13_000
        assert list(screen.table.visible_keys)[:3] == ["t00000", "t00001", "t00002"]
        filters = [query.get("$filter", "") for query in task_lists(recorder, "big")]
        delta = "stateTransitionTime ge DateTime'"
        listing = [f for f in filters if not f.startswith(delta)]
        assert listing[0] == ""  # the first page of the whole job, shown at once
        ranges = listing[1:]
        assert len(set(ranges)) >= 2 and all("id " in f for f in ranges), filters
        # Then, at once, what changed while it listed: a task it may have missed.
        assert filters[len(listing)].startswith(delta)


async def test_list_sends_a_select_of_the_shown_fields(
    emulator, seed_pool, seed_job, settle, make_app, recorder
):
    await three_tasks(seed_pool, seed_job, settle, emulator)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_job(app, pilot)
        query = task_lists(recorder)[-1]
        assert query["$select"] == "id,state,stateTransitionTime,executionInfo,nodeInfo"
        assert query["maxresults"] == "1000"


async def test_first_page_shows_before_the_rest_arrives(
    emulator, seed_pool, seed_job, make_app, transport
):
    transport.opened.clear()
    await seed_pool("pool-a", 0)
    seed_job("job-1", "pool-a", [])
    add_tasks(emulator, "job-1", [{"id": f"task-{i:05d}", "commandLine": "x"} for i in range(2500)])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.run_command("tasks job-1")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        screen = app.screen
        assert isinstance(screen, JobDetailScreen)
        await wait_for(pilot, lambda: screen.is_mounted)
        await wait_for(pilot, lambda: screen.table.row_count == 1000 and transport.held == 1)
        assert screen.streaming
        await shows(pilot, "task-00000")
        await shows(pilot, "loading")
        await pilot.press("down", "down")  # the list stays usable while pages stream in
        assert screen.table.cursor_key == "task-00002"

        transport.release()
        await wait_for(pilot, lambda: not screen.streaming)
        await pilot_settle(pilot)
        assert screen.table.row_count == 2500
        assert screen.table.cursor_key == "task-00002"
        await shows(pilot, "2,500 of 2,500")


async def test_periodic_refresh_fetches_only_changed_tasks(
    emulator, seed_pool, seed_job, settle, make_app, recorder
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["sleep 100000", "sleep 100000", "sleep 100000"])
    tasks = emulator.store.tasks["job-1"]
    await settle(lambda: tasks["t0"].data["state"] == "running")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_job(app, pilot)
        await pilot.press("2")
        await pilot_settle(pilot)
        assert list(screen.table.visible_keys) == ["t1", "t2"]

        await app.session.client.terminate_task("job-1", "t0")
        await settle(lambda: tasks["t1"].data["state"] == "running")
        add_tasks(emulator, "job-1", [{"id": "t3", "commandLine": "sleep 100000"}])
        recorder.clear()
        screen.refresh_data()  # what the timer does: not a forced reload
        await pilot_settle(pilot)

        query = task_lists(recorder)[-1]
        assert query["$filter"].startswith("stateTransitionTime ge DateTime'")
        assert list(screen.table.visible_keys) == ["t2", "t3"]
        assert set(screen.task_by_id) == {"t2", "t3"}


async def test_a_delta_refresh_brings_the_times_on_screen_up_to_date(
    emulator, seed_pool, seed_job, settle, make_app, recorder, clock
):
    """Running tasks that did not change are not in the delta; their run time and the time
    since their state changed still count on."""
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["sleep 100000"])
    tasks = emulator.store.tasks["job-1"]
    await settle(lambda: tasks["t0"].data["state"] == "running")
    clock.advance(60)  # a later change: the delta starts after t0's
    add_tasks(emulator, "job-1", [{"id": "t1", "commandLine": "sleep 100000"}])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_job(app, pilot)
        task = screen.task_by_id["t0"]
        assert task.execution_info is not None and task.execution_info.start_time is not None
        started, changed = task.execution_info.start_time, task.state_transition_time
        assert changed is not None
        clock.advance(3 * 3600 + 120)
        recorder.clear()
        screen.refresh_data()  # what the timer does: a delta, which finds nothing new
        await pilot_settle(pilot)
        assert task_lists(recorder)[-1]["$filter"].startswith("stateTransitionTime ge")
        assert recorder.requests[-1].path == "/jobs/job-1/tasks"
        assert "t0" in screen.table.keys_in_view
        now = clock.now()
        ran, since = format_duration(now - started), format_duration(now - changed)
        assert ran.startswith("3h") and since.startswith("3h"), (ran, since)
        cells = screen.table.get_row("t0").cells
        assert (plain(cells[5]), plain(cells[6])) == (ran, since)
        await shows(pilot, ran)


async def test_go_to_task_moves_the_cursor_or_fetches_the_task(
    emulator, seed_pool, seed_job, settle, make_app, recorder
):
    await three_tasks(seed_pool, seed_job, settle, emulator)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_job(app, pilot)
        await pilot.press("ctrl+g")
        await pilot_settle(pilot)
        await pilot.press(*"t2", "enter")
        await pilot_settle(pilot)
        assert app.screen is screen
        assert screen.table.cursor_key == "t2"

        await pilot.press("5")  # only t1 is loaded now
        await pilot_settle(pilot)
        recorder.clear()
        await pilot.press("ctrl+g", *"t0", "enter")
        detail = await await_screen(pilot, TaskDetailScreen)
        assert (detail.job_id, detail.task_id) == ("job-1", "t0")
        assert any(r.path == "/jobs/job-1/tasks/t0" for r in recorder.requests)

        await pilot.press("escape")
        await pilot_settle(pilot)
        await pilot.press("ctrl+g", *"nope", "enter")
        await pilot_settle(pilot)
        assert app.screen is screen
        assert any("No task nope" in str(n.message) for n in app._notifications)


async def test_filter_in_view_and_sort(emulator, seed_pool, seed_job, settle, make_app):
    await three_tasks(seed_pool, seed_job, settle, emulator)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_job(app, pilot)
        await pilot.press("slash", *"t[12]", "enter")
        await pilot_settle(pilot)
        assert list(screen.table.visible_keys) == ["t1", "t2"]
        await pilot.press("escape")
        await pilot_settle(pilot)
        assert screen.table.row_count == 3
        await pilot.press("s", "s", "s")  # task, state, then exit code
        assert screen.table.sort_column == "exit"
        assert list(screen.table.visible_keys) == ["t0", "t2", "t1"]


async def test_a_reopened_job_shows_its_last_rows_at_once_then_refreshes_by_delta(
    emulator, seed_pool, seed_job, settle, make_app, recorder, transport
):
    await three_tasks(seed_pool, seed_job, settle, emulator)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_job(app, pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, JobDetailScreen))
        # The link goes slow: nothing about the job's tasks comes back while it reopens.
        transport.holds = lambda request: request.url.path.endswith("/tasks")
        transport.opened.clear()
        app.run_command("tasks job-1")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        screen = app.screen
        assert isinstance(screen, JobDetailScreen)
        await wait_for(pilot, lambda: screen.is_mounted)
        await wait_for(pilot, lambda: screen.table.row_count == 3)
        assert transport.held >= 1 and screen.kept_at is not None
        await shows(pilot, "as listed")
        transport.release()
        await wait_for(pilot, lambda: screen.kept_at is None)
        lists = task_lists(recorder)
        assert lists[-1]["$filter"].startswith("stateTransitionTime ge DateTime'")
        assert list(screen.table.visible_keys) == ["t0", "t1", "t2"]
