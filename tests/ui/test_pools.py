"""Tests the pool tree (lazy state groups, server-side state filter) and the pool detail."""

from __future__ import annotations

from batch_tui.emulator.ops.pools import add_pool
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.pool_detail import PoolDetailScreen
from batch_tui.ui.screens.pools import PoolsScreen
from tests.ui.support import node_states, pilot_settle, pool_body, screen_text, wait_for_text


async def open_tree(app, pilot):
    app.show(PoolsScreen())
    await pilot_settle(pilot)
    assert isinstance(app.screen, PoolsScreen)
    return app.screen


async def test_tree_loads_nodes_only_when_a_group_is_expanded(
    make_app, seed_pool, recorder, emulator, settle
):
    nodes = await seed_pool("pool-a", 3)
    emulator.engine.node_action(emulator.store.nodes["pool-a"][nodes[0].lower()], "reboot", None)
    await settle(lambda: node_states(emulator, "pool-a")[nodes[0]] == "rebooting")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(app, pilot)
        assert [r for r in recorder.requests if r.path == "/pools/pool-a/nodes"] == []
        await pilot.press("enter")
        await pilot_settle(pilot)
        text = screen_text(app)
        assert "idle (2)" in text and "rebooting (1)" in text
        assert [r for r in recorder.requests if r.path == "/pools/pool-a/nodes"] == []
        await pilot.press("down", "enter")
        await pilot_settle(pilot)
        lists = [r for r in recorder.requests if r.path == "/pools/pool-a/nodes"]
        assert [r.query["$filter"] for r in lists] == ["state eq 'idle'"]
        group = screen._groups[("pool-a", "idle")]
        assert sorted(child.data.node_id for child in group.children) == nodes[1:]
        await pilot.press("down", "enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, NodeDetailScreen)
        assert app.screen.node_id == nodes[1]


async def test_tree_refresh_updates_counts_in_place(make_app, seed_pool, emulator, settle):
    nodes = await seed_pool("pool-a", 2)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(app, pilot)
        await pilot.press("enter", "down", "enter")
        await pilot_settle(pilot)
        assert len(screen._groups[("pool-a", "idle")].children) == 2
        node = emulator.store.nodes["pool-a"][nodes[0].lower()]
        emulator.engine.node_action(node, "disablescheduling", "requeue")
        await settle(lambda: node_states(emulator, "pool-a")[nodes[0]] == "offline")
        await pilot.press("r")
        await pilot_settle(pilot)
        text = screen_text(app)
        assert "idle (1)" in text and "offline (1)" in text
        idle = screen._groups[("pool-a", "idle")]
        assert idle.is_expanded, "expansion survives a refresh"
        assert [child.data.node_id for child in idle.children] == [nodes[1]]


async def test_the_cursor_stays_on_its_node_when_the_group_changes(
    make_app, seed_pool, emulator, settle
):
    nodes = await seed_pool("pool-a", 4)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(app, pilot)
        await pilot.press("enter", "down", "enter")
        await pilot_settle(pilot)
        await pilot.press("down", "down", "down")  # the third idle node
        await pilot_settle(pilot)
        tree = screen.pool_tree
        assert tree.cursor_node is not None and tree.cursor_node.data.node_id == nodes[2]
        # The first node, above the cursor, leaves the idle group.
        first = emulator.store.nodes["pool-a"][nodes[0].lower()]
        emulator.engine.node_action(first, "disablescheduling", "requeue")
        await settle(lambda: node_states(emulator, "pool-a")[nodes[0]] == "offline")
        await pilot.press("r")
        await pilot_settle(pilot)
        idle = screen._groups[("pool-a", "idle")]
        assert [child.data.node_id for child in idle.children] == nodes[1:]
        assert tree.cursor_node is not None and tree.cursor_node.data.node_id == nodes[2]
        await pilot.press("enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, NodeDetailScreen) and app.screen.node_id == nodes[2]


async def test_a_big_group_is_added_in_chunks(make_app, seed_pool):
    nodes = await seed_pool("pool-big", 600)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(app, pilot)
        await pilot.press("enter", "down", "enter")
        await pilot_settle(pilot)
        group = screen._groups[("pool-big", "idle")]
        assert [child.data.node_id for child in group.children] == nodes
        assert "idle (600)" in screen_text(app)


async def test_pool_detail_shows_settings_autoscale_and_resize_errors(make_app, emulator):
    formula = "$TargetDedicatedNodes = min(2, $PendingTasks.GetSample(1));"
    body = pool_body(
        "pool-auto", 0,
        enableAutoScale=True, autoScaleFormula=formula, autoScaleEvaluationInterval="PT5M",
        startTask={"commandLine": "/bin/sh -c 'apt-get install -y zip'", "waitForSuccess": True},
        taskSlotsPerNode=4, taskSchedulingPolicy={"nodeFillType": "pack"},
    )  # fmt: skip
    del body["targetDedicatedNodes"]
    add_pool(emulator, body)
    pool = emulator.store.pools["pool-auto"]
    pool.data["resizeErrors"] = [
        {"code": "AccountCoreQuotaReached", "message": "The core quota was reached"}
    ]
    emulator.store.touch(pool)
    app = make_app()
    async with app.run_test(size=(100, 60)) as pilot:
        app.show(PoolDetailScreen("pool-auto"))
        await pilot_settle(pilot)
        text = await wait_for_text(pilot, "Start task")
        for expected in (
            "standard_d2s_v3",
            "canonical:0001-com-ubuntu-server-jammy:22_04-lts:latest",
            "Task slots/node   4",
            "Pack",
            "AccountCoreQuotaReached: The core quota was reached",
            "$TargetDedicatedNodes = min(2, $PendingTasks.GetSample(1));",
            "5m",
            "apt-get install -y zip",
            "demo › pools › pool-auto",
        ):
            assert expected in text, expected
        await pilot.press("n")
        await pilot_settle(pilot)
        assert type(app.screen).__name__ == "NodesScreen"
