"""Tests the node list, the heatmap and the node detail."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from batch_tui.batch.cache import BatchCache
from batch_tui.batch.client import BatchClient
from batch_tui.batch.retry import RetryPolicy
from batch_tui.emulator.base.times import iso
from batch_tui.ui.app import BatchApp
from batch_tui.ui.formatting import format_age
from batch_tui.ui.pool_nodes import FULL_NODES_EVERY
from batch_tui.ui.screens.confirm import ConfirmScreen
from batch_tui.ui.screens.heatmap import HeatmapScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.session import AccountSession
from batch_tui.ui.widgets.table_rows import plain
from tests.ui.support import (
    TARGET,
    node_states,
    open_nodes,
    pilot_settle,
    quiet_settings,
    screen_text,
    wait_for_text,
)


async def test_node_list_shows_nodes_and_failed_ones_in_red(make_app, seed_pool, emulator):
    nodes = await seed_pool("pool-a", 3)
    record = emulator.store.nodes["pool-a"][nodes[2].lower()]
    record.data["state"] = "starttaskfailed"
    record.data["errors"] = [{"code": "StartTaskFailed", "message": "exit code 1"}]
    emulator.store.touch(record)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_nodes(app, pilot)
        table = screen.table
        assert list(table.visible_keys) == nodes
        assert table.get_row(nodes[2]).style == "ansi_red"
        assert table.get_row(nodes[0]).style is None
        text = screen_text(app)
        assert "starttaskfailed" in text and "10.0.0." in text
        assert "demo › pools › pool-a › nodes" in text


async def test_node_list_filter_sort_and_marks_survive_refresh(
    make_app, seed_pool, emulator, settle
):
    nodes = await seed_pool("pool-a", 4)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_nodes(app, pilot)
        table = screen.table
        order = list(table.visible_keys)
        await pilot.press("space", "space")  # space marks and moves down
        assert table.marked_keys == tuple(order[:2])
        cursor = table.cursor_key
        emulator.engine.node_action(
            emulator.store.nodes["pool-a"][nodes[3].lower()], "reboot", None
        )
        await settle(lambda: node_states(emulator, "pool-a")[nodes[3]] == "rebooting")
        await pilot.press("r")
        await pilot_settle(pilot)
        assert table.marked_keys == tuple(order[:2]), "marks are kept across a refresh"
        assert table.cursor_key == cursor, "the cursor stays on its node"
        await pilot.press("slash", *"reboot", "enter")
        await pilot.pause()
        assert list(table.visible_keys) == [nodes[3]]
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("s", "s")
        assert table.sort_column == "state"
        assert table.visible_keys[-1] == nodes[3], "rebooting sorts after idle"
        assert "sorted by state" in screen_text(app)


def fake_pool_transport(count: int) -> httpx.MockTransport:
    """A service with one pool of `count` nodes, paged by 1,000 like the real one."""
    stamp = "2024-10-01T12:00:00.0000000Z"
    states = ("idle", "running", "offline", "starttaskfailed")

    def node(index: int) -> dict[str, Any]:
        return {
            "id": f"tvmps_{index:064x}_d", "state": states[index % 4],
            "schedulingState": "enabled", "stateTransitionTime": stamp,
            "ipAddress": f"10.{index // 65536}.{index // 256 % 256}.{index % 256}",
            "vmSize": "standard_d2s_v3", "isDedicated": True,
        }  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        query = parse_qs(urlsplit(str(request.url)).query)
        if request.url.path == "/pools/big/nodes":
            skip = int(query.get("$skiptoken", ["0"])[0])
            size = int(query.get("maxresults", ["1000"])[0])
            body: dict[str, Any] = {
                "value": [node(i) for i in range(skip, min(count, skip + size))]
            }
            if skip + size < count:
                body["odata.nextLink"] = (
                    f"{TARGET.url}/pools/big/nodes?api-version=2024-07-01.20.0"
                    f"&maxresults={size}&$skiptoken={skip + size}"
                )
            return httpx.Response(200, content=json.dumps(body).encode())
        return httpx.Response(200, json={"value": []})

    return httpx.MockTransport(handler)


def app_on(transport: httpx.MockTransport) -> BatchApp:
    def factory(target):
        client = BatchClient.with_shared_key(
            target.url, target.account, target.key, transport=transport,
            retry=RetryPolicy(max_attempts=1),
        )  # fmt: skip
        return AccountSession(target, client, BatchCache(client, ttl=0.0))

    now = datetime(2024, 10, 1, 12, 5, tzinfo=timezone.utc)
    return BatchApp(
        quiet_settings(), targets=[TARGET], open_target=TARGET, session_factory=factory,
        now=lambda: now,
    )  # fmt: skip


async def test_ten_thousand_nodes_scroll_filter_and_sort():
    app = app_on(fake_pool_transport(10_000))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_nodes(app, pilot, "big")
        table = screen.table
        assert table.total_count == 10_000
        await pilot.press("end")
        assert table.cursor_key == f"tvmps_{9999:064x}_d"
        await pilot.press("pageup", "home")
        assert table.cursor_key == f"tvmps_{0:064x}_d"
        await pilot.press("slash", *"starttaskfailed", "enter")
        await pilot.pause()
        assert table.row_count == 2_500
        await pilot.press("slash", "home", "!", "enter")
        await pilot.pause()
        assert table.row_count == 7_500
        await pilot.press("escape", "s", "s")
        await pilot.pause()
        assert table.sort_column == "state" and table.row_count == 10_000
        first = table.get_row(table.visible_keys[0])
        assert first is not None and "idle" in str(first.cells[1])
        await pilot.press("space", "end", "space")
        assert len(table.marked_keys) == 2
        text = screen_text(app)
        assert "10,000 of 10,000" in text and "2 marked" in text


async def test_heatmap_shows_the_legend_and_opens_a_node(make_app, seed_pool, emulator, settle):
    nodes = await seed_pool("pool-a", 5)
    emulator.engine.node_action(emulator.store.nodes["pool-a"][nodes[1].lower()], "reboot", None)
    await settle(lambda: node_states(emulator, "pool-a")[nodes[1]] == "rebooting")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(HeatmapScreen("pool-a"))
        await pilot_settle(pilot)
        heatmap = app.screen.heatmap
        assert heatmap.legend == [("idle", 4), ("rebooting", 1)]
        assert "idle 4" in screen_text(app)
        await pilot.press("right")
        assert heatmap.cursor_node.node_id == nodes[1]
        assert app.screen.check_action("act", ("node.reboot",)) is None, "rebooting: greyed out"
        await pilot.press("right")
        assert app.screen.check_action("act", ("node.reboot",)) is True
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and nodes[2] in app.screen.targets
        await pilot.press("escape", "enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, NodeDetailScreen) and app.screen.node_id == nodes[2]


async def test_node_detail_shows_fields_start_task_errors_and_recent_tasks(
    make_app, seed_pool, seed_job, emulator, settle
):
    nodes = await seed_pool(
        "pool-a", 1,
        startTask={"commandLine": "/bin/sh -c 'echo ready'", "waitForSuccess": True},
    )  # fmt: skip
    seed_job("job-1", "pool-a", ["echo hi", "exit 3"])
    await settle(
        lambda: all(t.data["state"] == "completed" for t in emulator.store.tasks["job-1"].values())
    )
    record = emulator.store.nodes["pool-a"][nodes[0].lower()]
    record.data["errors"] = [{"code": "DiskFull", "message": "The disk is full"}]
    emulator.store.touch(record)
    app = make_app()
    async with app.run_test(size=(100, 60)) as pilot:
        app.show(NodeDetailScreen("pool-a", nodes[0]))
        await pilot_settle(pilot)
        text = await wait_for_text(pilot, "SSHRule.0")
        for expected in (
            "idle", "enabled", "10.0.0.4", "standard_d2s_v3", "dedicated", "Agent version",
            "DiskFull", "The disk is full", "echo ready", "Exit code", "ssh USER@127.0.0.1 -p",
            "SSHRule.0",
        ):  # fmt: skip
            assert expected in text, expected
        await pilot.press("2")
        await pilot_settle(pilot)
        recent = app.screen.query_one("#recent-tasks")
        assert sorted(recent.visible_keys) == ["job-1/t0", "job-1/t1"]
        assert recent.get_row("job-1/t1").style == "ansi_red"
        await pilot.press("3")
        await pilot_settle(pilot)
        await wait_for_text(pilot, "startup/")


async def test_node_detail_opens_a_recent_task(make_app, seed_pool, seed_job, emulator, settle):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo hi"])
    await settle(lambda: emulator.store.tasks["job-1"]["t0"].data["state"] == "completed")
    node_id = next(iter(node_states(emulator, "pool-a")))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.show(NodeDetailScreen("pool-a", node_id))
        await pilot_settle(pilot)
        await pilot.press("2", "enter")
        await pilot_settle(pilot)
        assert type(app.screen).__name__ == "TaskDetailScreen"
        assert (app.screen.job_id, app.screen.task_id) == ("job-1", "t0")


async def test_node_detail_opens_a_node_file(make_app, seed_pool):
    nodes = await seed_pool("pool-a", 1, startTask={"commandLine": "/bin/sh -c 'echo ready'"})
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.show(NodeDetailScreen("pool-a", nodes[0]))
        await pilot_settle(pilot)
        await pilot.press("3")
        await pilot_settle(pilot)
        files = app.screen.query_one("#node-files")
        assert files.move_cursor("d:startup") or files.move_cursor("startup")
        await pilot.press("enter")
        await pilot.pause()
        assert "stdout.txt" in screen_text(app)
        for key in files.visible_keys:
            if key.endswith("stdout.txt"):
                files.move_cursor(key)
        await pilot.press("enter")
        await pilot_settle(pilot)
        assert type(app.screen).__name__ == "FileViewerScreen"


def node_lists(recorder, pool_id="pool-a"):
    """The `$filter` of each node list request (None for a full listing)."""
    path = f"/pools/{pool_id}/nodes"
    return [r.query.get("$filter") for r in recorder.requests if r.path == path]


async def test_a_big_pools_list_refreshes_only_the_nodes_that_changed(
    make_app, seed_pool, emulator, clock, recorder, monkeypatch
):
    monkeypatch.setattr("batch_tui.ui.pool_nodes.PAGE_SIZE", 2)  # 3 nodes: a big pool
    nodes = await seed_pool("pool-a", 3)
    clock.advance(60)  # a later change: deltas start after the other nodes' last one
    later = emulator.store.nodes["pool-a"][nodes[2].lower()]
    later.data.update(stateTransitionTime=iso(clock.now()))
    emulator.store.touch(later)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_nodes(app, pilot)
        recorder.clear()
        clock.advance(30)
        record = emulator.store.nodes["pool-a"][nodes[1].lower()]
        record.data.update(state="offline", stateTransitionTime=iso(clock.now()))
        emulator.store.touch(record)
        screen.refresh_data()  # the timer's refresh, not `r`
        await pilot_settle(pilot)
        [changed] = node_lists(recorder)
        assert changed is not None and changed.startswith("stateTransitionTime ge DateTime'")
        assert plain(screen.table.get_row(nodes[1]).cells[1]) == "offline"
        assert screen.table.row_count == 3
        # An unchanged node on screen shows its age at this refresh, not at the listing's.
        idle = screen.known_node(nodes[0])
        assert idle is not None and idle.state_transition_time is not None
        age = format_age(idle.state_transition_time, clock.now())
        assert age.startswith("1m3"), age  # 90 s and more
        assert plain(screen.table.get_row(nodes[0]).cells[9]) == age
        for _ in range(FULL_NODES_EVERY):
            screen.refresh_data()
            await pilot_settle(pilot)
        assert None in node_lists(recorder)  # a full listing now and then: counters, removals
        recorder.clear()
        await pilot.press("r")  # `r` lists everything
        await pilot_settle(pilot)
        assert node_lists(recorder) == [None]


async def test_a_big_pools_heatmap_refreshes_only_the_nodes_that_changed(
    make_app, seed_pool, emulator, clock, recorder, monkeypatch
):
    monkeypatch.setattr("batch_tui.ui.pool_nodes.PAGE_SIZE", 2)
    nodes = await seed_pool("pool-a", 3)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        app.show(HeatmapScreen("pool-a"))
        await pilot_settle(pilot)
        screen = app.screen
        recorder.clear()
        clock.advance(30)
        record = emulator.store.nodes["pool-a"][nodes[2].lower()]
        record.data.update(state="unusable", stateTransitionTime=iso(clock.now()))
        emulator.store.touch(record)
        screen.refresh_data()
        await pilot_settle(pilot)
        [changed] = node_lists(recorder)
        assert changed.startswith("stateTransitionTime ge DateTime'")
        cells = {cell.node_id: cell.state for cell in screen.heatmap.nodes}
        assert cells == {nodes[0]: "idle", nodes[1]: "idle", nodes[2]: "unusable"}


async def test_a_big_pool_with_nodes_in_two_states_is_listed_a_stream_per_state(
    make_app, seed_pool, emulator, clock, recorder, monkeypatch
):
    monkeypatch.setattr("batch_tui.ui.pool_nodes.PAGE_SIZE", 2)  # 6 nodes: a big pool
    nodes = await seed_pool("pool-a", 6)
    for node_id in nodes[3:]:
        record = emulator.store.nodes["pool-a"][node_id.lower()]
        record.data.update(state="offline", stateTransitionTime=iso(clock.now()))
        emulator.store.touch(record)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_nodes(app, pilot)  # the first listing: one stream
        recorder.clear()
        await pilot.press("r")
        await pilot_settle(pilot)
        listing = node_lists(recorder)
        assert set(listing[:-1]) == {
            "state eq 'idle'",
            "state eq 'offline'",
            "(state ne 'idle') and (state ne 'offline')",
        }
        assert listing[-1].startswith("stateTransitionTime ge DateTime'")  # what moved meanwhile
        assert [r.query.get("$filter") for r in recorder.requests if r.path == "/nodecounts"] == [
            "poolId eq 'pool-a'"
        ]
        assert list(screen.table.visible_keys) == nodes  # in id order, all of them
