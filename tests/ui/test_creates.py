"""Tests adding a task or a job from a JSON body and cloning a task (`a`, `C`): the editor,
the service's errors shown field by field, keys typed in bursts, and what opens after."""

from __future__ import annotations

from typing import Any

from batch_tui.ui.screens.confirm import ConfirmScreen
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.screens.jobs import JobsScreen
from batch_tui.ui.screens.json_editor import DiscardScreen, JsonEditorScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from tests.ui.jobs_fixtures import await_screen, open_job, open_screen, wait_for
from tests.ui.support import capture_notifications, pilot_settle, screen_text
from tests.ui.typing import burst, keys_of, paste, until


async def editor_of(pilot: Any) -> JsonEditorScreen:
    """The editor once its text has loaded."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, JsonEditorScreen))
    editor = pilot.app.screen
    await wait_for(pilot, lambda: not editor.text_loading)
    await pilot_settle(pilot)
    return editor


async def confirm(pilot: Any) -> str:
    """Sends the editor's text (`ctrl+t`), confirms with `y`; returns what the dialog said."""
    await pilot.press("ctrl+t")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
    await pilot_settle(pilot)
    said = screen_text(pilot.app)
    await pilot.press("y")
    return said


def task_data(emulator: Any, job_id: str, task_id: str) -> dict[str, Any] | None:
    record = emulator.store.tasks[job_id].get(task_id)
    return None if record is None else record.data


async def failed_job(seed_pool: Any, seed_job: Any, settle: Any, emulator: Any) -> None:
    """job-1 with t0 failed (`false`, exit conditions and a retry limit) and t1 succeeded."""
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", [])
    from batch_tui.emulator.ops.tasks import add_tasks

    add_tasks(emulator, "job-1", [
        {"id": "t0", "commandLine": "false", "constraints": {"maxTaskRetryCount": 1},
         "exitConditions": {"exitCodes": [{"code": 1, "exitOptions": {"jobAction": "none"}}]},
         "environmentSettings": [{"name": "MODE", "value": "fast"}]},
        {"id": "t1", "commandLine": "true"},
    ])  # fmt: skip
    await settle(lambda: task_data(emulator, "job-1", "t0")["state"] == "completed")


async def test_clone_a_failed_task_with_an_edited_command_line(
    seed_pool, seed_job, settle, emulator, make_app, recorder
):
    await failed_job(seed_pool, seed_job, settle, emulator)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        job = await open_job(app, pilot)
        assert job.table.cursor_key == "t0"
        await pilot.press("C")
        editor = await editor_of(pilot)
        area = editor.text_area
        line, column = area.cursor_location
        assert area.document[line][column:] == 'false",'  # the cursor is on the command line
        assert '"id": "t0-rerun-1"' in area.text
        recorder.clear()
        await pilot.press(*["delete"] * 5, *keys_of("echo fixed"))
        said = await confirm(pilot)
        assert "Add task t0-rerun-1 in job job-1" in said

        detail = await await_screen(pilot, TaskDetailScreen)
        assert (detail.job_id, detail.task_id) == ("job-1", "t0-rerun-1")
        clone = task_data(emulator, "job-1", "t0-rerun-1")
        assert clone is not None and clone["commandLine"] == "echo fixed"
        original = task_data(emulator, "job-1", "t0")
        for kept in ("exitConditions", "environmentSettings"):
            assert clone[kept] == original[kept], kept
        assert clone["constraints"]["maxTaskRetryCount"] == 1
        [post] = recorder.mutations()
        assert (post.method, post.path) == ("POST", "/jobs/job-1/tasks")
        assert ("Added task t0-rerun-1 to job job-1", "information") in notes

        # Cloned again, from the task detail: the next free id.
        app.show(TaskDetailScreen("job-1", "t0"))
        await await_screen(pilot, TaskDetailScreen)
        await pilot.press("C")
        editor = await editor_of(pilot)
        assert '"id": "t0-rerun-2"' in editor.text_area.text


async def test_a_bad_body_shows_the_services_error_field_by_field_and_keeps_the_text(
    seed_pool, seed_job, make_app, emulator, recorder
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["true"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_job(app, pilot)
        await pilot.press("a")
        editor = await editor_of(pilot)
        area = editor.text_area
        assert '"id": "task-1"' in area.text and '"commandLine"' in area.text
        bad = area.text.replace('"maxTaskRetryCount": 0', '"maxTaskRetryCount": -5')
        area.load_text(bad)
        recorder.clear()
        await confirm(pilot)
        await until(pilot, lambda: "InvalidPropertyValue" in screen_text(app))
        text = screen_text(app)
        assert "400 InvalidPropertyValue: The value provided" in text
        assert "PropertyName: maxTaskRetryCount" in text
        assert "PropertyValue: -5" in text
        assert "Reason: The value must be between -1 and" in text
        assert app.screen is editor and area.text == bad  # nothing lost
        line, _ = area.cursor_location
        assert '"maxTaskRetryCount": -5' in area.document[line]  # on the property named
        await until(pilot, lambda: '"maxTaskRetryCount": -5' in screen_text(app))  # in view
        assert len(recorder.mutations()) == 1
        assert task_data(emulator, "job-1", "task-1") is None

        # Fixed in place, it goes through.
        area.load_text(bad.replace("-5", "2"))
        await confirm(pilot)
        await await_screen(pilot, TaskDetailScreen)
        assert task_data(emulator, "job-1", "task-1")["constraints"]["maxTaskRetryCount"] == 2


async def test_a_json_syntax_error_is_shown_at_its_line_and_nothing_is_sent(
    seed_pool, seed_job, make_app, recorder
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["true"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_job(app, pilot)
        await pilot.press("a")
        editor = await editor_of(pilot)
        area = editor.text_area
        broken = area.text.replace(
            '"commandLine": "/bin/sh -c \'echo hello\'",', '"commandLine": 1'
        )
        area.load_text(broken)
        recorder.clear()
        await pilot.press("ctrl+t")
        await until(pilot, lambda: "Not sent: line 4, column 3" in screen_text(app))
        assert "Expecting ',' delimiter" in screen_text(app)
        assert app.screen is editor and area.text == broken
        assert area.cursor_location == (3, 2)
        assert recorder.mutations() == []


async def test_a_burst_typed_after_a_lands_in_the_editor(seed_pool, seed_job, make_app, recorder):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["true"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        job = await open_job(app, pilot)
        recorder.clear()
        # `q` quits, `:` and `?` open screens, `t` terminates, `y` confirms, on the job screen.
        burst(pilot, ["a", *keys_of("q:?ty Xr"), "enter", "tab"])
        await until(pilot, lambda: isinstance(app.screen, JsonEditorScreen))
        editor = app.screen
        await until(pilot, lambda: not editor.text_loading and not app.keys_pending)
        await pilot_settle(pilot)
        area = editor.text_area
        line, _ = area.cursor_location
        assert area.document[line - 1].endswith('"commandLine": "q:?ty Xr')
        assert area.document[line].startswith("  /bin/sh")
        paste(pilot, "echo pasted; ")
        await until(pilot, lambda: "  echo pasted; /bin/sh" in area.text)
        assert app.is_running and app.screen is editor
        assert job.is_attached and recorder.mutations() == []


async def test_escape_asks_before_dropping_an_edited_body(seed_pool, seed_job, make_app, recorder):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["true"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        job = await open_job(app, pilot)
        await pilot.press("a")
        editor = await editor_of(pilot)
        await pilot.press("escape")  # unedited: it just closes
        await until(pilot, lambda: app.screen is job)
        await pilot.press("a")
        editor = await editor_of(pilot)
        await pilot.press(*keys_of("zz"), "escape")
        await until(pilot, lambda: isinstance(app.screen, DiscardScreen))
        await pilot_settle(pilot)
        assert "Drop the edited body?" in screen_text(app)
        await pilot.press("n")
        await until(pilot, lambda: app.screen is editor)
        assert "zz/bin/sh" in editor.text_area.text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DiscardScreen))
        await pilot_settle(pilot)
        await pilot.press("y")
        await until(pilot, lambda: app.screen is job)
        assert recorder.mutations() == []


async def test_add_a_job_on_an_existing_pool(seed_pool, seed_job, make_app, emulator):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", [])
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "jobs", JobsScreen)
        await pilot.press("a")
        editor = await editor_of(pilot)
        text = editor.text_area.text
        assert '"id": "job-2"' in text and '"poolId": "pool-a"' in text
        said = await confirm(pilot)
        assert "Add job job-2 in pool pool-a" in said
        job = await await_screen(pilot, JobDetailScreen)
        assert job.job_id == "job-2"
        assert emulator.store.jobs["job-2"].data["poolInfo"] == {"poolId": "pool-a"}
        assert ("Added job job-2", "information") in notes


async def test_read_only_hides_add_and_clone(seed_pool, seed_job, make_app, recorder):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["true"])
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 30)) as pilot:
        job = await open_job(app, pilot)
        assert "Add task" not in screen_text(app) and "Clone" not in screen_text(app)
        await pilot.press("a", "C")
        await pilot_settle(pilot)
        assert app.screen is job
        await open_screen(pilot, "jobs", JobsScreen)
        assert "Add job" not in screen_text(app)
        await pilot.press("a")
        await pilot_settle(pilot)
        assert isinstance(app.screen, JobsScreen)
        assert recorder.mutations() == []


def test_the_new_keys_take_no_key_of_the_screens_that_bind_them():
    from textual.binding import Binding

    from batch_tui.ui.app import BatchApp
    from batch_tui.ui.widgets.table_keys import TABLE_BINDINGS

    app_keys = {b.key for b in BatchApp.BINDINGS if isinstance(b, Binding)}
    for screen, table in ((JobDetailScreen, True), (JobsScreen, True), (TaskDetailScreen, False)):
        bindings = [b for cls in screen.__mro__ for b in cls.__dict__.get("BINDINGS", ())]
        bindings += TABLE_BINDINGS if table else []
        keys = [
            key
            for binding in bindings
            if isinstance(binding, Binding)
            for key in binding.key.split(",")
        ]
        assert len(keys) == len(set(keys)), screen.__name__
        assert not app_keys & set(keys), screen.__name__
