"""Tests the run-times screen end to end: tasks that ran for different times on the emulator,
a histogram of them, and the slow ones listed with their node and opened with enter.

The simulated executor runs `sleep N` for N scaled to the test timings (`sleep 10`: 0.1 s of
the manual clock); the slow tasks run on one node only, as on a bad node.
"""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.ui.screens.job_detail import JobDetailScreen
from batch_tui.ui.screens.run_times import RunTimesScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from tests.ui.jobs_fixtures import await_screen, open_screen, wait_for
from tests.ui.support import pilot_settle, screen_text

QUICK = 16
"""Tasks of `sleep 10`; the median."""


def only_node(emulator: Any, pool_id: str, on: str) -> None:
    """Lets tasks run on node `on` only."""
    for node in emulator.store.pool_nodes(pool_id).values():
        wanted = "enabled" if node.id == on else "disabled"
        if node.data.get("schedulingState") != wanted:
            action = "enablescheduling" if wanted == "enabled" else "disablescheduling"
            emulator.engine.node_action(node, action, "taskcompletion")


async def run_tasks(emulator: Any, settle: Any, commands: dict[str, str]) -> None:
    add_tasks(emulator, "job-1", [{"id": i, "commandLine": c} for i, c in commands.items()])
    records = emulator.store.tasks["job-1"]
    await settle(lambda: all(records[i].data["state"] == "completed" for i in commands))


async def seeded(emulator: Any, seed_pool: Any, settle: Any) -> list[str]:
    """job-1: 16 quick tasks on two nodes, then two slow ones (one failing) on the second."""
    nodes = await seed_pool("pool-a", 2)
    add_job(emulator, {"id": "job-1", "poolInfo": {"poolId": "pool-a"}})
    await run_tasks(emulator, settle, {f"quick-{i:02}": "sleep 10" for i in range(QUICK)})
    only_node(emulator, "pool-a", nodes[1])
    await run_tasks(emulator, settle, {"slow-1": "sleep 200", "slow-2": "sleep 400; exit 3"})
    return nodes


async def test_the_job_screens_tasks_make_a_histogram_and_the_slow_node_stands_out(
    emulator, seed_pool, settle, make_app, recorder
):
    nodes = await seeded(emulator, seed_pool, settle)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        job = await open_screen(pilot, "job job-1", JobDetailScreen)
        await wait_for(pilot, lambda: len(job.task_by_id) == QUICK + 2 and not job.streaming)
        listings = len(recorder.requests)
        await pilot.press("H")
        screen = await await_screen(pilot, RunTimesScreen)
        await pilot_settle(pilot)
        # From the job screen's tasks: no listing of its own.
        assert not [r for r in recorder.requests[listings:] if r.path.endswith("/tasks")]
        assert len(screen.run_by_id) == QUICK + 2
        text = screen_text(app)
        assert "18 runs · median 0.1s" in text and "max 4.1s" in text
        assert "│" in text and "└" in text and "█" in text  # bars, axis
        # The slow node leads the outliers' nodes (its id cut in the middle, the count after).
        nodes_line = next(line for line in text.splitlines() if "outliers by node" in line)
        assert nodes_line.split(": ", 1)[1].startswith(nodes[1][:10])
        assert " 10 · " in nodes_line
        rows = screen.table.visible_keys
        assert rows[:2] == ["slow-2", "slow-1"]  # slowest first
        assert len(rows) == QUICK + 2  # fewer than 20 tasks: all are "slowest 20"
        slow = screen.run_by_id["slow-2"]
        assert slow.node_id == nodes[1] and slow.failed and slow.exit_code == 3
        assert ">3× median" in text and nodes[1][-12:] in text
        await pilot.press("enter")
        task = await await_screen(pilot, TaskDetailScreen)
        assert task.task_id == "slow-2"


async def test_the_command_lists_the_tasks_and_a_refresh_adds_new_runs(
    emulator, seed_pool, settle, make_app
):
    await seeded(emulator, seed_pool, settle)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "runtimes job-1", RunTimesScreen)
        await wait_for(pilot, lambda: len(screen.run_by_id) == QUICK + 2 and not screen.listing)
        assert "18 runs" in screen_text(app)
        await run_tasks(emulator, settle, {"late-1": "sleep 10"})
        await pilot.press("r")
        await wait_for(pilot, lambda: "late-1" in screen.run_by_id)
        await pilot_settle(pilot)
        assert "19 runs" in screen_text(app)


async def test_a_job_without_completed_tasks_says_so(emulator, seed_pool, make_app):
    await seed_pool("pool-a", 1)
    add_job(emulator, {"id": "job-1", "poolInfo": {"poolId": "pool-a"}})
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "runtimes job-1", RunTimesScreen)
        await pilot_settle(pilot)
        assert "No completed tasks" in screen_text(app)
