"""Tests the node timeline end to end: tasks run on the emulator's nodes, the lanes show them.

One node runs tasks that succeed, another tasks that fail, a third stays idle (scheduling is
switched off on the others between batches, as on a pool with a bad node).
"""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.tasks import add_tasks
from batch_tui.ui.screens.heatmap import HeatmapScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.timeline import TimelineScreen
from tests.ui.jobs_fixtures import await_screen, open_screen
from tests.ui.support import pilot_settle, screen_text


def only_node(emulator: Any, pool_id: str, on: str) -> None:
    """Lets tasks run on node `on` only."""
    for record in emulator.store.pool_nodes(pool_id).values():
        wanted = "enabled" if record.id == on else "disabled"
        if record.data.get("schedulingState") != wanted:
            action = "enablescheduling" if wanted == "enabled" else "disablescheduling"
            emulator.engine.node_action(record, action, "taskcompletion")


async def run_on(emulator: Any, settle: Any, on: str, commands: dict[str, str]) -> None:
    only_node(emulator, "pool-a", on)
    add_tasks(emulator, "job-1", [{"id": i, "commandLine": c} for i, c in commands.items()])
    records = emulator.store.tasks["job-1"]
    await settle(lambda: all(records[i].data["state"] == "completed" for i in commands))


def lane_of(text: str, node_id: str) -> str:
    """The cells of a node's lane on screen (its id is cut in the middle: its end finds it)."""
    line = next(line for line in text.splitlines() if node_id[-7:] in line and "│" in line)
    return line.split("│", 1)[1]


async def test_lanes_show_a_good_node_a_failing_node_and_an_idle_one(
    emulator, seed_pool, settle, make_app
):
    good, bad, idle = await seed_pool("pool-a", 3)
    add_job(emulator, {"id": "job-1", "poolInfo": {"poolId": "pool-a"}})
    await run_on(emulator, settle, good, {f"ok-{i}": "sleep 20" for i in range(3)})
    await run_on(emulator, settle, bad, {f"bad-{i}": "sleep 20; exit 1" for i in range(3)})
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "timeline pool-a", TimelineScreen)
        await pilot_settle(pilot)
        text = screen_text(app)
        assert "3 nodes" in text and "█ ok ▓ running ╳ failed" in text
        assert set(lane_of(text, good).strip()) == {"█"}
        assert set(lane_of(text, bad).strip()) == {"╳"}
        assert lane_of(text, idle).strip() == ""
        # The good node's bars end before the bad node's start: time runs left to right.
        assert lane_of(text, good).rstrip().index("█") < lane_of(text, bad).index("╳")
        await pilot.press("down")
        await pilot_settle(pilot)
        assert f"node 2 of 3 · idle · 3 ✗ · {bad[:20]}" in screen_text(app)
        await pilot.press("enter")
        detail = await await_screen(pilot, NodeDetailScreen)
        assert detail.node_id == bad


async def test_time_scrolls_and_zooms_and_the_heatmap_opens_it(
    emulator, seed_pool, settle, make_app
):
    (node,) = await seed_pool("pool-a", 1)
    add_job(emulator, {"id": "job-1", "poolInfo": {"poolId": "pool-a"}})
    await run_on(emulator, settle, node, {"ok-1": "sleep 20"})
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "heatmap pool-a", HeatmapScreen)
        await pilot.press("t")
        screen = await await_screen(pilot, TimelineScreen)
        await pilot_settle(pilot)
        fitted = screen.current_window()
        assert "following now" in screen_text(app)
        await pilot.press("minus")
        assert screen.current_window().cell_seconds > fitted.cell_seconds
        await pilot.press("left")
        assert screen.current_window().end < fitted.end
        await pilot.press("0")
        await pilot_settle(pilot)
        assert screen.window is None and "following now" in screen_text(app)
        # Keys in a burst, past both ends: nothing breaks, the cursor stays on the lane.
        await pilot.press(*"jjjkkkGg", "pageup", "pagedown", "plus", "plus", "right")
        await pilot_settle(pilot)
        assert screen.cursor == 0 and "node 1 of 1" in screen_text(app)


async def test_a_thousand_nodes_draw_only_the_lanes_on_screen(seed_pool, make_app):
    nodes = await seed_pool("pool-a", 1000)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "timeline pool-a", TimelineScreen)
        await pilot_settle(pilot)
        lanes = [line for line in screen_text(app).splitlines() if "│" in line and "idle" in line]
        assert 10 <= len(lanes) <= 20  # a screenful, not 1,000
        await pilot.press("G")
        await pilot_settle(pilot)
        text = screen_text(app)
        assert "node 1,000 of 1,000" in text and nodes[-1][-7:] in text
        assert nodes[0][-7:] not in text
