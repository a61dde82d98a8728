"""Tests the job list, job actions and the job detail panel against the in-process emulator."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from batch_tui.ui.screens.confirm import ConfirmScreen
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.screens.jobs import JobsScreen
from batch_tui.ui.screens.prep_release import PrepReleaseScreen
from tests.ui.jobs_fixtures import await_screen, open_screen, shows, wait_for
from tests.ui.recording import BreakableTransport, HeldRequests, Recorder
from tests.ui.support import capture_notifications, pilot_settle, screen_text


def job_state(emulator: Any, job_id: str) -> str:
    return str(emulator.store.jobs[job_id.lower()].data["state"])


async def open_jobs(app: Any, pilot: Any) -> JobsScreen:
    return await open_screen(pilot, "jobs", JobsScreen)


async def confirm(pilot: Any, *keys: str) -> None:
    """Presses the keys of a confirmation dialog, which must be open."""
    await pilot_settle(pilot)
    assert isinstance(pilot.app.screen, ConfirmScreen), pilot.app.screen
    await pilot.press(*keys)
    await pilot_settle(pilot)


def mutations(recorder: Recorder) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.body) for r in recorder.mutations()]


async def test_job_list_shows_counts_and_failures(emulator, seed_pool, seed_job, settle, make_app):
    await seed_pool("pool-a", 1)
    seed_job("job-ok", "pool-a", ["exit 0", "exit 0"])
    seed_job("job-bad", "pool-a", ["exit 0", "exit 4"])
    await settle(lambda: job_done(emulator, "job-ok") and job_done(emulator, "job-bad"))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_jobs(app, pilot)
        assert set(screen.table.visible_keys) == {"job-ok", "job-bad"}
        bad = screen.table.get_row("job-bad")
        ok = screen.table.get_row("job-ok")
        assert bad is not None and ok is not None
        assert bad.style == "ansi_red"  # a failed task makes the job stand out
        assert ok.style is None
        await shows(pilot, "██████████")
        assert "pool-a" in screen_text(app)

        screen.table.move_cursor("job-bad")
        await pilot.press("enter")
        detail = await await_screen(pilot, JobDetailScreen)
        assert detail.job_id == "job-bad"
        await shows(pilot, "2/2 done")
        await shows(pilot, "1 failed")


def job_done(emulator: Any, job_id: str) -> bool:
    tasks = emulator.store.tasks[job_id]
    return all(task.data["state"] == "completed" for task in tasks.values())


async def test_job_actions_send_exactly_their_request(
    emulator, seed_pool, seed_job, settle, make_app, recorder
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["sleep 100000"])
    seed_job("job-2", "pool-a", ["sleep 100000"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_jobs(app, pilot)
        screen.table.move_cursor("job-1")
        recorder.clear()

        await pilot.press("D")
        await confirm(pilot, "y")  # the default option: requeue running tasks
        assert mutations(recorder) == [("POST", "/jobs/job-1/disable", {"disableTasks": "requeue"})]
        await settle(lambda: job_state(emulator, "job-1") == "disabled")

        recorder.clear()
        await pilot.press("r")
        await pilot_settle(pilot)
        await pilot.press("E")
        await confirm(pilot, "y")
        assert mutations(recorder) == [("POST", "/jobs/job-1/enable", None)]

        recorder.clear()
        await pilot.press("T")
        await confirm(pilot, "y")
        assert mutations(recorder) == [("POST", "/jobs/job-1/terminate", None)]

        screen.table.move_cursor("job-2")
        recorder.clear()
        await pilot.press("X")
        await confirm(pilot, "y")  # a `y` does not delete a job: its id must be typed
        assert mutations(recorder) == []
        await confirm(pilot, "backspace", *"job-2", "enter")  # the `y` went into the input
        assert mutations(recorder) == [("DELETE", "/jobs/job-2", None)]
        assert any("done" in str(n.message) for n in app._notifications)


async def test_cancel_and_greyed_out_keys_send_nothing(
    emulator, seed_pool, seed_job, make_app, recorder
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["sleep 100000"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_jobs(app, pilot)
        recorder.clear()
        await pilot.press("T")
        await confirm(pilot, "n")
        assert isinstance(app.screen, JobsScreen)

        assert screen.check_action("act", ("job.enable",)) is None  # an active job: greyed out
        await pilot.press("E")
        await pilot_settle(pilot)
        assert isinstance(app.screen, JobsScreen)
        assert mutations(recorder) == []


async def test_read_only_hides_job_actions(emulator, seed_pool, seed_job, make_app, recorder):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["sleep 100000"])
    app = make_app(read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_jobs(app, pilot)
        for action in ("job.terminate", "job.disable", "job.enable", "job.delete"):
            assert screen.check_action("act", (action,)) is False
        assert "Terminate" not in screen_text(app)
        recorder.clear()
        await pilot.press("T", "D", "X")
        await pilot_settle(pilot)
        assert isinstance(app.screen, JobsScreen)

        await pilot.press("enter")
        await await_screen(pilot, JobDetailScreen)
        await pilot.press("T", "X", "t", "ctrl+d")
        await pilot_settle(pilot)
        assert isinstance(app.screen, JobDetailScreen)
        assert mutations(recorder) == []


async def test_job_detail_actions_act_on_the_job(
    emulator, seed_pool, seed_job, settle, make_app, recorder
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["sleep 100000"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, "job job-1", JobDetailScreen)
        recorder.clear()
        await pilot.press("D")
        await confirm(pilot, "3", "y")  # option 3: wait for running tasks
        assert mutations(recorder) == [("POST", "/jobs/job-1/disable", {"disableTasks": "wait"})]
        recorder.clear()
        await pilot.press("X")
        await confirm(pilot, *"job-1", "enter")
        assert mutations(recorder) == [("DELETE", "/jobs/job-1", None)]
        assert not isinstance(app.screen, JobDetailScreen)  # the job is gone: back


async def test_job_terminate_and_delete_offer_the_services_force_flag(
    emulator, seed_pool, seed_job, make_app, recorder
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["sleep 100000"])
    seed_job("job-2", "pool-a", ["sleep 100000"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, "job job-1", JobDetailScreen)
        recorder.clear()
        await pilot.press("T")
        await pilot_settle(pilot)
        assert "even if the nodes have not fully processed it" in screen_text(app)
        await confirm(pilot, "2", "y")  # option 2: force
        [request] = recorder.mutations()
        assert (request.method, request.path, request.query.get("force")) == (
            "POST", "/jobs/job-1/terminate", "true",
        )  # fmt: skip
        await open_screen(pilot, "job job-2", JobDetailScreen)
        recorder.clear()
        await pilot.press("X")
        await confirm(pilot, *"job-2", "enter")  # the default: the service's (no force flag)
        [request] = recorder.mutations()
        assert (request.method, request.path, request.query.get("force")) == (
            "DELETE", "/jobs/job-2", None,
        )  # fmt: skip


async def test_a_job_deleted_while_another_screen_is_open_leaves_that_screen(
    emulator, seed_pool, seed_job, make_app, transport: BreakableTransport
):
    """The delete ends after the user opened prep/release over the job: prep/release stays;
    the job's screen goes once the user is back on it."""
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["sleep 100000"])
    deletes = HeldRequests(transport.inner, lambda request: request.method == "DELETE")
    transport.inner = deletes
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        detail = await open_screen(pilot, "job job-1", JobDetailScreen)
        await pilot.press("X")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press(*"job-1", "enter")  # no settling: the worker waits for the release
        await wait_for(pilot, lambda: deletes.held == 1)
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, PrepReleaseScreen))
        prep = app.screen
        notes = capture_notifications(app)
        deletes.release()
        await wait_for(pilot, lambda: ("Delete: job job-1 done", "information") in notes)
        await pilot_settle(pilot)
        assert app.screen is prep
        await pilot.press("escape")
        await wait_for(pilot, lambda: detail not in app.screen_stack)
        assert not isinstance(app.screen, JobDetailScreen)


async def test_job_detail_info_shows_constraints_and_job_tasks(emulator, seed_pool, make_app):
    from batch_tui.emulator.ops.jobs import add_job

    await seed_pool("pool-a", 1)
    add_job(
        emulator,
        {
            "id": "job-1",
            "poolInfo": {"poolId": "pool-a"},
            "priority": 7,
            "constraints": {"maxWallClockTime": "PT2H", "maxTaskRetryCount": 3},
            "jobPreparationTask": {"commandLine": "echo prepare"},
            "jobReleaseTask": {"commandLine": "echo release"},
        },
    )
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_screen(pilot, "job job-1", JobDetailScreen)
        info = screen.query_one("#job-info", Static)
        await wait_for(pilot, lambda: "Priority      7" in str(info.content))
        assert "Wall clock" not in str(info.content)
        await pilot.press("i")
        await wait_for(pilot, lambda: "Wall clock    2h" in str(info.content))
        text = str(info.content)
        assert "Max retries   3" in text
        assert "Prep task     echo prepare" in text
        assert "Release task  echo release" in text
        await pilot_settle(pilot)
        await wait_for(pilot, lambda: "Release task  echo release" in screen_text(app))


async def test_job_list_fits_80_columns(emulator, seed_pool, seed_job, make_app):
    await seed_pool("pool-a", 1)
    seed_job("a-rather-long-job-identifier-0001", "pool-a", ["sleep 100000"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_jobs(app, pilot)
        lines = screen_text(app).splitlines()
        row = next(line for line in lines if "a-rather-long" in line)
        assert "active" in row and "pool-a" in row
        assert all(len(line) <= 80 for line in lines)
