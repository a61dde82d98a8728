"""Acting on every node in a state: "Reboot all 2 starttaskfailed nodes of pool-f"."""

from __future__ import annotations

from batch_tui.emulator.ops.pools import add_pool
from batch_tui.ui.screens.confirm import ChoiceScreen, ConfirmScreen
from batch_tui.ui.screens.heatmap import HeatmapScreen
from batch_tui.ui.screens.nodes import NodesScreen
from batch_tui.ui.screens.pools import PoolsScreen
from tests.ui.support import (
    capture_notifications,
    node_states,
    pilot_settle,
    pool_body,
    screen_text,
)
from tests.ui.typing import until

START_FAILS = {"commandLine": "/bin/sh -c 'exit 7'", "waitForSuccess": True}


async def failed_pool(emulator, settle, pool_id="pool-f", nodes=2):
    add_pool(emulator, pool_body(pool_id, nodes, startTask=START_FAILS))
    await settle(
        lambda: list(node_states(emulator, pool_id).values()) == ["starttaskfailed"] * nodes
    )
    return sorted(node_states(emulator, pool_id))


async def answer(pilot, app, kind, *keys):
    """Waits for a dialog of `kind` to be drawn, then presses keys in it."""
    await until(pilot, lambda: isinstance(app.screen, kind) and app.screen.opened_at < 1e18)
    await pilot.press(*keys)


def reboots(recorder):
    return sorted(r.path.split("/")[4] for r in recorder.mutations() if r.path.endswith("/reboot"))


async def test_reboot_all_starttaskfailed_nodes_from_the_filtered_node_list(
    make_app, emulator, settle, recorder
):
    nodes = await failed_pool(emulator, settle)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(NodesScreen("pool-f"))
        await pilot_settle(pilot)
        assert screen_text(app).count("starttaskfailed") == 2  # never cut to "start…"
        await pilot.press("slash", *"starttaskfailed", "enter")
        recorder.clear()
        await pilot.press("asterisk")  # the list is filtered to a state: it starts from it
        await answer(pilot, app, ChoiceScreen)
        assert "All 2 starttaskfailed nodes of pool-f: which action?" in screen_text(app)
        assert "Deallocate:" not in screen_text(app)  # not offered on a failed start task
        await pilot.press("1")  # Reboot
        await answer(pilot, app, ConfirmScreen)
        text = screen_text(app)
        assert "Reboot all 2 starttaskfailed nodes of pool-f" in text
        assert all(node[:40] in text for node in nodes)
        await pilot.press("y")
        await until(pilot, lambda: any("Reboot: 2 nodes done" in m for m, _ in notes))
        assert reboots(recorder) == nodes


async def test_the_pool_tree_state_group_and_the_heatmap_offer_it(
    make_app, emulator, settle, recorder
):
    nodes = await failed_pool(emulator, settle)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(HeatmapScreen("pool-f"))
        await until(pilot, lambda: isinstance(app.screen, HeatmapScreen))
        await pilot.press("asterisk")  # the heatmap asks which state, with counts
        await answer(pilot, app, ChoiceScreen)
        assert "1 starttaskfailed (2)" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HeatmapScreen))

        app.show(PoolsScreen())
        await until(
            pilot, lambda: isinstance(app.screen, PoolsScreen) and "pool-f" in screen_text(app)
        )
        screen = app.screen
        tree = screen.pool_tree
        pool = next(node for node in tree.root.children if node.data.pool_id == "pool-f")
        pool.expand()
        await until(pilot, lambda: len(pool.children) == 1)
        tree.move_cursor(pool.children[0])  # the starttaskfailed group
        recorder.clear()
        await pilot.press("asterisk")
        await answer(pilot, app, ChoiceScreen, "2")  # Reimage
        await answer(pilot, app, ConfirmScreen)
        assert "Reimage all 2 starttaskfailed nodes of pool-f" in screen_text(app)
        await pilot.press("y")
        await until(pilot, lambda: len(recorder.mutations()) == 2)
        assert sorted(r.path.split("/")[4] for r in recorder.mutations()) == nodes


async def test_more_than_ten_nodes_want_their_count_typed_and_show_progress(
    make_app, emulator, settle, recorder
):
    nodes = await failed_pool(emulator, settle, nodes=12)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(HeatmapScreen("pool-f"))
        await until(pilot, lambda: isinstance(app.screen, HeatmapScreen))
        screen = app.screen
        lines: list[str] = []
        original = screen._show_progress
        screen._show_progress = lambda line: (lines.append(line or ""), original(line))
        await pilot.press("asterisk")
        await answer(pilot, app, ChoiceScreen, "1")
        await answer(pilot, app, ChoiceScreen, "1")
        await answer(pilot, app, ConfirmScreen, "y", "enter")
        assert isinstance(app.screen, ConfirmScreen) and recorder.mutations() == []
        await pilot.press("backspace", "1", "2", "enter")
        await until(pilot, lambda: any("Reboot: 12 nodes done" in m for m, _ in notes))
        assert reboots(recorder) == nodes
        assert lines[0] == "Reboot: 0 of 12 · 0 done · 0 failed · 0 unknown"
        assert "Reboot: 12 of 12 · 12 done · 0 failed · 0 unknown" in lines
        assert lines[-1] == ""  # hidden once the summary is out
