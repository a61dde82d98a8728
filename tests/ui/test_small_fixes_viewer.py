"""Tests the file viewer's small fixes (issue 12 item 14): a file that is not there yet, and a
header that follows the file."""

from __future__ import annotations

from typing import Any

import pytest

from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.ui.byte_sources import TaskFileRef
from batch_tui.ui.screens.file_viewer import FileViewerScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from tests.ui.jobs_fixtures import (
    await_screen,
    node_root,
    open_screen,
    real_settle,
    sh,
    shows,
    task_state,
    wait_for,
)
from tests.ui.support import pilot_settle, quiet_settings, screen_text

pytestmark = pytest.mark.parametrize("executor", ["local"])  # task files are real files

DEPENDENCIES = {"usesTaskDependencies": True}


def stdout_of(emulator: Any, node: str, job_id: str, task_id: str) -> Any:
    return node_root(emulator, node) / "workitems" / job_id / job_id / task_id / "stdout.txt"


async def test_a_task_not_started_yet_says_so_then_opens_its_file_following(
    emulator, clock, node, make_app
):
    # t1 waits for t0, which waits for a file the test creates.
    add_job(emulator, {"id": "job-1", "poolInfo": {"poolId": "pool-a"}, **DEPENDENCIES})
    blocker = {"id": "t0", "commandLine": sh("while [ ! -f go ]; do sleep 0.02; done")}
    waiter = {
        "id": "t1",
        "commandLine": sh("echo hello; sleep 600"),
        "dependsOn": {"taskIds": ["t0"]},
    }
    add_tasks(emulator, "job-1", [blocker, waiter])
    blocker_wd = stdout_of(emulator, node, "job-1", "t0").parent / "wd"
    await real_settle(emulator, clock, blocker_wd.exists)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        app.push_screen(FileViewerScreen(TaskFileRef("job-1", "t1", "stdout.txt")))
        screen = await await_screen(pilot, FileViewerScreen)
        await shows(pilot, "stdout.txt: not started yet (the task is active)")
        assert "read failed" not in screen_text(app)
        assert screen.error is None and not screen.stale

        (blocker_wd / "go").write_text("")
        stdout = stdout_of(emulator, node, "job-1", "t1")
        await real_settle(emulator, clock, lambda: stdout.exists() and stdout.read_bytes() != b"")
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.viewer.is_open, rounds=800)
        await wait_for(pilot, lambda: screen.viewer.visible_lines[:1] == ["hello"])
        assert screen.viewer.following  # it appeared while we watched: the task writes it
        await shows(pilot, "following")
        assert "not started" not in screen_text(app)
        assert "404" not in screen_text(app)


async def test_the_header_follows_the_file_size(emulator, clock, node, seed_job, make_app):
    seed_job(
        "job-1",
        "pool-a",
        [sh("echo first; while [ ! -f go ]; do sleep 0.02; done; echo second; sleep 600")],
    )
    await real_settle(emulator, clock, lambda: task_state(emulator, "job-1", "t0") == "running")
    stdout = stdout_of(emulator, node, "job-1", "t0")
    await real_settle(emulator, clock, lambda: stdout.exists() and stdout.read_bytes() != b"")
    settings = quiet_settings()
    settings.refresh.files = 0.05
    app = make_app(settings=settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, "task job-1 t0", TaskDetailScreen)
        await pilot.press("o")
        screen = await await_screen(pilot, FileViewerScreen)
        await wait_for(pilot, lambda: screen.viewer.is_open)
        await shows(pilot, "stdout.txt · 6 B · modified")

        (stdout.parent / "wd" / "go").write_text("")
        await wait_for(pilot, lambda: screen.viewer.visible_lines[:2] == ["first", "second"])
        await shows(pilot, "stdout.txt · 13 B · modified")


async def test_a_file_of_a_task_that_does_not_exist_says_so(emulator, node, make_app):
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot_settle(pilot)
        app.push_screen(FileViewerScreen(TaskFileRef("job-x", "t0", "stdout.txt")))
        screen = await await_screen(pilot, FileViewerScreen)
        await shows(pilot, "stdout.txt: the task does not exist")
        assert screen.error is not None and "JobNotFound" in screen.error
