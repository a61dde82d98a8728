"""Tests the job schedule list and detail and the schedule actions against the in-process
emulator: next run and recent job, the jobs of a schedule, confirmed requests, refusals."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from batch_tui.emulator import Emulator
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.ops.schedules import add_job_schedule
from batch_tui.ui.screens.confirm import ConfirmScreen
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.screens.jobs import JobsScreen
from batch_tui.ui.screens.overview import OverviewScreen
from batch_tui.ui.screens.schedule_detail import ScheduleDetailScreen
from batch_tui.ui.screens.schedules import SchedulesScreen
from tests.ui.jobs_fixtures import await_screen, open_screen, shows, wait_for
from tests.ui.recording import BreakableTransport, Recorder
from tests.ui.support import capture_notifications, pilot_settle, screen_text

HOURLY: dict[str, Any] = {
    "id": "hourly",
    "schedule": {"recurrenceInterval": "PT1H"},
    # Without tasks each job stays active until it is terminated: one job, one run.
    "jobSpecification": {"poolInfo": {"poolId": "pool-a"}},
}


class HeldAnswers(httpx.AsyncBaseTransport):
    """While `armed`, an action waits until a read of the schedule has reached the emulator,
    whose answer is then held until `opened`: a refresh that read the service before the
    action and answers after it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.armed = False
        self.read = asyncio.Event()
        self.opened = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.armed and request.method == "POST":
            await self.read.wait()
        response = await self.inner.handle_async_request(request)
        if self.armed and request.method == "GET" and "/jobschedules/" in request.url.path:
            self.read.set()
            await self.opened.wait()
        return response


def mutations(recorder: Recorder) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.body) for r in recorder.mutations()]


def schedule_state(emulator: Emulator, schedule_id: str = "hourly") -> str:
    return str(emulator.store.job_schedules[schedule_id].data["state"])


async def confirm(pilot: Any, *keys: str) -> str:
    """Presses keys in the confirmation dialog, which must be open; returns what it said."""
    await pilot_settle(pilot)
    assert isinstance(pilot.app.screen, ConfirmScreen), pilot.app.screen
    said = screen_text(pilot.app)
    await pilot.press(*keys)
    await pilot_settle(pilot)
    return said


async def second_job(emulator: Emulator, clock: ManualClock, settle: Any) -> None:
    """Ends the schedule's first job and moves to the next run, which makes hourly:job-2."""
    emulator.engine.job_terminated(emulator.store.jobs["hourly:job-1"], "UserTerminate")
    await settle(lambda: emulator.store.jobs["hourly:job-1"].data["state"] == "completed")
    clock.advance(3600)
    await emulator.periodic.tick()
    assert "hourly:job-2" in emulator.store.jobs


async def test_the_list_shows_next_run_and_recent_job(emulator, seed_pool, make_app, clock) -> None:
    await seed_pool("pool-a", 1)
    add_job_schedule(emulator, HOURLY)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "sch", SchedulesScreen)
        row = screen.table.get_row("hourly")
        assert row is not None
        cells = [cell if isinstance(cell, str) else cell.plain for cell in row.cells]
        assert cells == ["hourly", "active", "in 1h", "hourly:job-1", "1h", "pool-a"]
        await shows(pilot, "hourly:job-1")
        clock.advance(25 * 60)
        await pilot.press("r")
        await pilot_settle(pilot)
        await shows(pilot, "in 35m")  # counted down from the clock, not the last listing


async def test_the_overview_and_the_job_list_open_the_schedules(
    emulator, seed_pool, make_app
) -> None:
    await seed_pool("pool-a", 1)
    add_job_schedule(emulator, HOURLY)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "overview", OverviewScreen)
        await pilot.press("C")
        await await_screen(pilot, SchedulesScreen)
        await open_screen(pilot, "jobs", JobsScreen)
        await pilot.press("C")
        await await_screen(pilot, SchedulesScreen)
        await shows(pilot, "hourly:job-1")


async def test_the_detail_lists_its_jobs_and_enter_opens_one(
    emulator, seed_pool, make_app, clock, settle
) -> None:
    await seed_pool("pool-a", 1)
    add_job_schedule(emulator, HOURLY)
    await second_job(emulator, clock, settle)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "sch", SchedulesScreen)
        await pilot.press("enter")
        detail = await await_screen(pilot, ScheduleDetailScreen)
        assert detail.schedule_id == "hourly"
        text = screen_text(app)
        assert "Jobs of hourly (2, newest first)" in text
        assert "every 1h" in text and "in 1h" in text  # the recurrence and the next run
        assert list(detail.table.visible_keys) == ["hourly:job-2", "hourly:job-1"]
        assert "UserTerminate" in text  # why job-1 ended
        await pilot.press("enter")  # the newest job
        job = await await_screen(pilot, JobDetailScreen)
        assert job.job_id == "hourly:job-2"


async def test_disable_enable_and_terminate_are_confirmed_then_sent(
    emulator, seed_pool, make_app, recorder, settle
) -> None:
    await seed_pool("pool-a", 1)
    add_job_schedule(emulator, HOURLY)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "schedules", SchedulesScreen)
        recorder.clear()
        await pilot.press("D")
        said = await confirm(pilot, "y")
        assert "Disable schedule hourly" in said
        assert mutations(recorder) == [("POST", "/jobschedules/hourly/disable", None)]
        assert schedule_state(emulator) == "disabled"
        await shows(pilot, "disabled")  # the list shows the state the action made

        recorder.clear()
        await pilot.press("E")
        said = await confirm(pilot, "y")
        assert "Enable schedule hourly" in said
        assert mutations(recorder) == [("POST", "/jobschedules/hourly/enable", None)]

        recorder.clear()
        await pilot.press("T")
        said = await confirm(pilot, "2", "y")  # force
        assert "Terminate schedule hourly" in said
        assert [(r.method, r.path, r.query.get("force")) for r in recorder.mutations()] == [
            ("POST", "/jobschedules/hourly/terminate", "true")
        ]
        await settle(lambda: emulator.store.jobs["hourly:job-1"].data["state"] == "completed")


async def test_cancelled_sends_nothing_and_a_key_that_does_not_apply_says_why(
    emulator, seed_pool, make_app, recorder
) -> None:
    await seed_pool("pool-a", 1)
    add_job_schedule(emulator, HOURLY)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "schedule hourly", ScheduleDetailScreen)
        recorder.clear()
        await pilot.press("T")
        await confirm(pilot, "n")
        assert isinstance(app.screen, ScheduleDetailScreen)
        assert screen.check_action("act", ("schedule.enable",)) is None  # greyed out
        await pilot.press("E")
        await pilot_settle(pilot)
        assert isinstance(app.screen, ScheduleDetailScreen)
        assert mutations(recorder) == []
        why = "Enable: not on schedule hourly: it is already active"
        assert any(why in message for message, _ in notes), notes


async def test_delete_needs_the_id_typed_then_the_detail_goes_back(
    emulator, seed_pool, make_app, recorder, settle
) -> None:
    await seed_pool("pool-a", 1)
    add_job_schedule(emulator, HOURLY)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "schedules", SchedulesScreen)
        await pilot.press("enter")
        await await_screen(pilot, ScheduleDetailScreen)
        recorder.clear()
        await pilot.press("X")
        said = await confirm(pilot, "y", "enter")  # a `y` does not delete a schedule
        assert "Delete schedule hourly" in said and "Type hourly to confirm" in said
        assert mutations(recorder) == []
        await confirm(pilot, "backspace", *"hourly", "enter")
        assert mutations(recorder) == [("DELETE", "/jobschedules/hourly", None)]
        await await_screen(pilot, SchedulesScreen)  # the deleted schedule's detail went back


async def test_read_only_hides_the_schedule_actions(
    emulator, seed_pool, make_app, recorder
) -> None:
    await seed_pool("pool-a", 1)
    add_job_schedule(emulator, HOURLY)
    app = make_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "schedules", SchedulesScreen)
        for action in ("enable", "disable", "terminate", "delete"):
            assert screen.check_action("act", (f"schedule.{action}",)) is False
        assert "Terminate" not in screen_text(app)
        recorder.clear()
        await pilot.press("D", "T", "X")
        await pilot.press("enter")
        await await_screen(pilot, ScheduleDetailScreen)
        await pilot.press("D", "T", "X", "E")
        await pilot_settle(pilot)
        assert isinstance(app.screen, ScheduleDetailScreen)
        assert mutations(recorder) == []


async def test_an_action_shows_its_result_even_if_a_refresh_read_the_state_before_it(
    emulator, seed_pool, make_app, clock, transport: BreakableTransport
) -> None:
    await seed_pool("pool-a", 1)
    add_job_schedule(emulator, HOURLY)
    answers = HeldAnswers(transport.inner)
    transport.inner = answers
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "schedule hourly", ScheduleDetailScreen)
        clock.advance(3601)  # due: the screen refreshes as the dialog closes and it resumes
        answers.armed = True
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, answers.read.is_set)  # that refresh read "active"
        await wait_for(pilot, lambda: any("Disable: schedule hourly done" in m for m, _ in notes))
        answers.armed = False
        answers.opened.set()
        await pilot_settle(pilot)
        assert screen.schedule is not None and screen.schedule.state == "disabled"
        await shows(pilot, "disabled for")
