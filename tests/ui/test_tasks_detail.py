"""Tests the task detail with real task output (`local` executor): navigation, files, actions."""

from __future__ import annotations

from typing import Any

import pytest

from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.ui.screens.confirm import ConfirmScreen
from batch_tui.ui.screens.file_viewer import FileViewerScreen
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.screens.jobs import JobsScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.prep_release import PrepReleaseScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from batch_tui.ui.widgets.file_list import FileList
from tests.ui.jobs_fixtures import (
    await_screen,
    open_screen,
    real_settle,
    sh,
    shows,
    task_state,
    wait_for,
)
from tests.ui.support import pilot_settle, screen_text

pytestmark = pytest.mark.parametrize("executor", ["local"])  # real task output


def completed(emulator: Any, job_id: str, *task_ids: str) -> Any:
    return lambda: all(task_state(emulator, job_id, t) == "completed" for t in task_ids)


async def test_walk_from_the_job_list_to_a_failed_tasks_stderr(
    emulator, clock, seed_pool, seed_job, make_app
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", [sh("printf fine"), sh("printf partial; printf boom >&2; exit 3")])
    await real_settle(emulator, clock, completed(emulator, "job-1", "t0", "t1"))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, "jobs", JobsScreen)
        await pilot.press("enter")
        job = await await_screen(pilot, JobDetailScreen)
        await pilot.press("5")  # only failed tasks
        await wait_for(pilot, lambda: list(job.table.visible_keys) == ["t1"])
        await pilot.press("enter")
        detail = await await_screen(pilot, TaskDetailScreen)
        assert detail.task_id == "t1"
        await shows(pilot, "Exit code         3")
        assert "FailureExitCode" in screen_text(app)

        await pilot.press("e")
        viewer = await await_screen(pilot, FileViewerScreen)
        await wait_for(pilot, lambda: viewer.viewer.is_open)
        assert viewer.viewer.visible_lines[0] == "boom"
        await shows(pilot, "demo › jobs › job-1 › task t1 › stderr.txt")
        await pilot.press("escape", "o")
        await wait_for(pilot, lambda: app.screen is not viewer)
        viewer = await await_screen(pilot, FileViewerScreen)
        assert viewer.ref.path == "stdout.txt"
        await wait_for(pilot, lambda: viewer.viewer.is_open)
        assert viewer.viewer.visible_lines[0] == "partial"


async def test_files_tab_lists_and_opens_the_tasks_files(
    emulator, clock, seed_pool, seed_job, make_app
):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", [sh("mkdir -p out; printf result > out/answer.txt")])
    await real_settle(emulator, clock, completed(emulator, "job-1", "t0"))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, "task job-1 t0", TaskDetailScreen)
        await pilot.press("2")
        await pilot_settle(pilot)
        files = app.screen.query_one(FileList)
        assert files.has_focus
        assert list(files.visible_keys) == ["d:wd", "f:stderr.txt", "f:stdout.txt"]
        await pilot.press("enter")  # into wd/
        assert list(files.visible_keys) == ["..", "d:out"]
        await pilot.press("down", "enter", "down", "enter")  # into out/, open answer.txt
        viewer = await await_screen(pilot, FileViewerScreen)
        assert viewer.ref.path == "wd/out/answer.txt"
        await wait_for(pilot, lambda: viewer.viewer.is_open)
        assert viewer.viewer.visible_lines[0] == "result"


async def test_task_actions_send_their_requests(
    emulator, clock, seed_pool, seed_job, make_app, recorder
):
    await seed_pool("pool-a", 2)
    seed_job("job-1", "pool-a", ["sleep 600", sh("exit 1")])
    await real_settle(
        emulator,
        clock,
        lambda: (
            task_state(emulator, "job-1", "t0") == "running"
            and task_state(emulator, "job-1", "t1") == "completed"
        ),
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot, "tasks job-1", JobDetailScreen)
        await wait_for(pilot, lambda: screen.table.row_count == 2)
        assert screen.table.cursor_key == "t0"
        assert screen.check_action("act", ("task.reactivate",)) is None  # t0 runs: greyed out
        recorder.clear()
        await pilot.press("R")
        await pilot_settle(pilot)
        assert app.screen is screen and recorder.mutations() == []

        await pilot.press("t")
        await pilot_settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot_settle(pilot)
        assert [(r.method, r.path) for r in recorder.mutations()] == [
            ("POST", "/jobs/job-1/tasks/t0/terminate")
        ]

        screen.table.move_cursor("t1")
        recorder.clear()
        await pilot.press("R")
        await pilot_settle(pilot)
        await pilot.press("y")
        await pilot_settle(pilot)
        assert [(r.method, r.path) for r in recorder.mutations()] == [
            ("POST", "/jobs/job-1/tasks/t1/reactivate")
        ]

        await real_settle(emulator, clock, completed(emulator, "job-1", "t0", "t1"))
        screen.table.move_cursor("t0")
        await pilot.press("enter")
        await await_screen(pilot, TaskDetailScreen)
        recorder.clear()
        await pilot.press("ctrl+d")
        await pilot_settle(pilot)
        await pilot.press("y")
        await pilot_settle(pilot)
        assert [(r.method, r.path) for r in recorder.mutations()] == [
            ("DELETE", "/jobs/job-1/tasks/t0")
        ]
        assert app.screen is screen  # the task is gone: back to its job
        assert "t0" not in screen.table.visible_keys


async def test_node_key_opens_the_node_the_task_ran_on(
    emulator, clock, seed_pool, seed_job, make_app
):
    nodes = await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", [sh("true")])
    await real_settle(emulator, clock, completed(emulator, "job-1", "t0"))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, "task job-1 t0", TaskDetailScreen)
        await pilot.press("n")
        node = await await_screen(pilot, NodeDetailScreen)
        assert (node.pool_id, node.node_id) == ("pool-a", nodes[0])


async def test_detail_shows_environment_dependencies_and_subtasks(
    emulator, clock, seed_pool, make_app
):
    await seed_pool("pool-a", 2)
    add_job(
        emulator, {"id": "job-1", "poolInfo": {"poolId": "pool-a"}, "usesTaskDependencies": True}
    )
    add_tasks(
        emulator,
        "job-1",
        [
            {"id": "first", "commandLine": sh("true")},
            {
                "id": "mpi",
                "commandLine": sh("true"),
                "environmentSettings": [{"name": "MODE", "value": "fast"}],
                "dependsOn": {"taskIds": ["first"]},
                "multiInstanceSettings": {
                    "numberOfInstances": 2,
                    "coordinationCommandLine": sh("true"),
                },
                "constraints": {"maxTaskRetryCount": 2},
            },
        ],
    )
    await real_settle(emulator, clock, completed(emulator, "job-1", "first", "mpi"))
    # Stand-in for the engine's subtask records (what `subtasksinfo` lists).
    emulator.store.tasks["job-1"]["mpi"].internal["subtasks"] = [
        {"id": 0, "state": "completed", "exitCode": 0, "result": "success",
         "nodeInfo": {"nodeId": "node-a"}},
        {"id": 1, "state": "completed", "exitCode": 9, "result": "failure",
         "nodeInfo": {"nodeId": "node-b"}},
    ]  # fmt: skip
    app = make_app()
    async with app.run_test(size=(100, 80)) as pilot:
        await open_screen(pilot, "task job-1 mpi", TaskDetailScreen)
        await shows(pilot, "Subtask 1")
        text = screen_text(app)
        assert "MODE              fast" in text
        assert "Task ids          first" in text
        assert "Max retries       2" in text
        assert "Instances         2" in text
        assert "Subtask 0         completed exit 0 on node-a" in text
        assert "Subtask 1         completed exit 9 on node-b" in text


async def test_escape_sequences_never_reach_the_terminal(
    emulator, clock, seed_pool, seed_job, make_app
):
    await seed_pool("pool-a", 1)
    script = r'printf "\033[31mred\033[0m \033]52;c;aGk=\007 \033[2J done\n"'
    seed_job("job-1", "pool-a", [sh(script), sh("true")])
    await real_settle(emulator, clock, completed(emulator, "job-1", "t0", "t1"))
    record = emulator.store.tasks["job-1"]["t1"]
    # The service validates ids; a hostile or broken endpoint need not.
    record.data["id"] = "t1\x1b]0;owned\x07"
    record.data["displayName"] = "evil\x1b[2J\x9b31mname"
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        job = await open_screen(pilot, "tasks job-1", JobDetailScreen)
        await wait_for(pilot, lambda: job.table.row_count == 2)
        assert "\x1b" not in screen_text(app) and "\x9b" not in screen_text(app)
        await shows(pilot, "t1␛]0;owned␇")
        app.push_screen(TaskDetailScreen("job-1", "t1"))
        await await_screen(pilot, TaskDetailScreen)
        await shows(pilot, "evil")
        assert "\x1b" not in screen_text(app) and "\x9b" not in screen_text(app)

        await pilot.press("escape")
        app.push_screen(TaskDetailScreen("job-1", "t0"))
        await wait_for(pilot, lambda: getattr(app.screen, "task_id", "") == "t0")
        await await_screen(pilot, TaskDetailScreen)
        await pilot.press("o")
        viewer = await await_screen(pilot, FileViewerScreen)
        await wait_for(pilot, lambda: viewer.viewer.is_open)
        await shows(pilot, "␛]52;c;aGk=␇")
        text = screen_text(app)
        assert "red" in text and "done" in text
        assert "\x1b" not in text and "\x07" not in text


async def test_prep_release_status_per_node(emulator, clock, seed_pool, make_app):
    nodes = await seed_pool("pool-a", 1)
    add_job(
        emulator,
        {
            "id": "job-1",
            "poolInfo": {"poolId": "pool-a"},
            "jobPreparationTask": {"commandLine": sh("exit 5"), "waitForSuccess": False},
        },
    )
    add_job(emulator, {"id": "job-2", "poolInfo": {"poolId": "pool-a"}})
    add_tasks(emulator, "job-1", [{"id": "t0", "commandLine": sh("true")}])
    await real_settle(emulator, clock, completed(emulator, "job-1", "t0"))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, "job job-1", JobDetailScreen)
        await pilot.press("P")
        screen = await await_screen(pilot, PrepReleaseScreen)
        assert list(screen.table.visible_keys) == [f"pool-a/{nodes[0]}"]
        row = screen.table.get_row(f"pool-a/{nodes[0]}")
        assert row is not None and row.style == "ansi_red"  # exit code 5
        await shows(pilot, "failed")
        await pilot.press("enter")
        await await_screen(pilot, NodeDetailScreen)

        app.push_screen(PrepReleaseScreen("job-2"))
        await wait_for(pilot, lambda: getattr(app.screen, "job_id", "") == "job-2")
        await await_screen(pilot, PrepReleaseScreen)
        await shows(pilot, "no job preparation task")
        assert app.screen.error is None
