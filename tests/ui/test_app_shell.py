"""Tests the app shell: accounts, overview, navigation, help, command line, palette, refresh."""

from __future__ import annotations

import asyncio
import re

from batch_tui.accounts import AccountTarget
from batch_tui.ui.screens.accounts import AccountsScreen
from batch_tui.ui.screens.command_line import CommandLineScreen
from batch_tui.ui.screens.confirm import ConfirmScreen
from batch_tui.ui.screens.heatmap import HeatmapScreen
from batch_tui.ui.screens.help import HelpScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.nodes import NodesScreen
from batch_tui.ui.screens.overview import OverviewScreen
from batch_tui.ui.screens.pool_detail import PoolDetailScreen
from batch_tui.ui.screens.pools import PoolsScreen
from batch_tui.ui.widgets.header import AppHeader
from tests.ui.support import (
    TARGET,
    capture_notifications,
    pilot_settle,
    quiet_settings,
    screen_text,
    wait_for_text,
)


async def test_overview_shows_pools_with_node_counts_and_jobs(make_app, seed_pool, seed_job):
    await seed_pool("pool-a", 2)
    seed_job("job-1", "pool-a", ["echo one", "echo two"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        text = screen_text(app)
        # The engine may already have put the tasks on the nodes: idle or running.
        assert re.search(r"pool-a .* 2/2 .* (2 idle|2 running|1 running 1 idle)", text), text
        assert "job-1" in text
        assert "demo › overview" in text
        assert "demo https://demo.westus.batch.azure.com" in text


async def test_overview_failures_stand_out(make_app, seed_pool, seed_job, emulator, settle):
    await seed_pool("pool-a", 1)
    seed_job("job-bad", "pool-a", ["exit 3"])
    await settle(lambda: emulator.store.tasks["job-bad"]["t0"].data["state"] == "completed")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        row = app.screen.jobs_table.get_row("job-bad")
        assert row is not None and row.style == "ansi_red"


async def test_accounts_screen_lists_targets_and_discovers_in_the_background(make_app, seed_pool):
    await seed_pool("pool-a", 1)
    release = asyncio.Event()
    calls = []
    found = AccountTarget(
        name="prod", url="https://prod.westeurope.batch.azure.com", account="prod",
        source="discovered",
    )  # fmt: skip

    async def discover():
        calls.append(1)
        await release.wait()
        return [found]

    app = make_app(open_account=False, discover=discover)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            await pilot.pause()
            if calls:
                break
        # Discovery is still running: the configured accounts are already listed.
        assert isinstance(app.screen, AccountsScreen)
        assert "demo (local emulator)" in screen_text(app)
        assert "prod" not in screen_text(app)
        release.set()
        await pilot_settle(pilot)
        assert "prod.westeurope" in screen_text(app)
        await pilot.press("enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        assert app.session is not None and app.session.target == TARGET
        await pilot.press("escape")
        await pilot_settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert calls == [1], "discovery results are kept, not fetched again"


async def test_navigation_from_overview(make_app, seed_pool):
    await seed_pool("pool-a", 2)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        await pilot.press("h")
        await pilot_settle(pilot)
        assert isinstance(app.screen, HeatmapScreen)
        await pilot.press("escape", "d")
        await pilot_settle(pilot)
        assert isinstance(app.screen, PoolDetailScreen)
        await pilot.press("escape", "enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, NodesScreen)
        await pilot.press("enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, NodeDetailScreen)
        await pilot.press("escape", "escape", "P")
        await pilot_settle(pilot)
        assert isinstance(app.screen, PoolsScreen)
        await pilot.press("escape", "escape")
        await pilot_settle(pilot)
        assert isinstance(app.screen, AccountsScreen)


async def test_command_line_navigates_and_completes(make_app, seed_pool):
    nodes = await seed_pool("pool-a", 2)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        await pilot.press("colon")
        assert isinstance(app.screen, CommandLineScreen)
        await pilot.press(*"no", "tab", "space", *"po", "tab", "enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, NodesScreen) and app.screen.pool_id == "pool-a"
        # The node list made its ids known: tab completes a node of that pool.
        await pilot.press("colon", *f"node pool-a {nodes[1][:-3]}", "tab", "enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, NodeDetailScreen) and app.screen.node_id == nodes[1]
        # A command resets to the overview first: esc goes back there.
        await pilot.press("escape")
        await pilot_settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("colon", *"heatmap pool-a", "enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, HeatmapScreen)
        await pilot.press("colon", *"ctx", "enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, AccountsScreen)


async def test_the_ids_seen_belong_to_the_open_account(make_app, seed_pool):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        first = app.session
        assert first is not None and first.known_ids("pool") == ["pool-a"]
        first.remember_ids("node pool-z", ["tvm-gone"])
        app.open_account(TARGET)  # opened again: a new session
        await pilot_settle(pilot)
        assert app.session is not None and app.session is not first
        assert app.session.known_ids("node pool-z") == []  # gone with the old session
        assert app.session.known_ids("pool") == ["pool-a"]  # what the new overview listed


async def test_bad_command_is_reported(make_app):
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        await pilot.press("colon", *"nodes", "enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        assert any("usage: :nodes POOL" in message for message, _ in notes)
        await pilot.press("colon", *"frobnicate", "enter")
        await pilot.pause()
        assert any("unknown command" in message for message, _ in notes)


async def test_quit_command_exits(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        await pilot.press("colon", "q", "enter")
        await pilot.pause()
    assert app.return_code == 0


async def test_palette_opens_a_pool_heatmap(make_app, seed_pool):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"heatmap of pool")
        for _ in range(100):
            await pilot.pause()
            if "Heatmap of pool pool-a" in screen_text(app):
                break
        await pilot.press("enter")
        await pilot_settle(pilot)
        assert isinstance(app.screen, HeatmapScreen)


async def test_help_lists_every_key_of_the_screen(make_app, seed_pool):
    nodes = await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        app.show(NodeDetailScreen("pool-a", nodes[0]))
        await pilot_settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        described = {key.description for key in app.screen.keys}
        assert {"Reboot", "Reimage", "Deallocate", "Remove", "Add user", "Refresh"} <= described
        assert {"Help", "Command", "Quit", "Back", "Pause"} <= described
        start = next(key for key in app.screen.keys if key.description == "Start")
        assert start.enabled is False, "an idle node cannot be started: greyed out"
        # Each key names the id that remaps it in the config file's [keymap].
        reboot = next(key for key in app.screen.keys if key.description == "Reboot")
        assert reboot.binding_id == "node.reboot"
        assert "node.reboot" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, NodeDetailScreen)


async def test_keymap_from_settings_remaps_a_binding(make_app, seed_pool):
    nodes = await seed_pool("pool-a", 1)
    app = make_app(settings=quiet_settings(**{"node.reboot": "ctrl+b"}))
    async with app.run_test(size=(100, 30)) as pilot:
        app.show(NodeDetailScreen("pool-a", nodes[0]))
        await pilot_settle(pilot)
        await pilot.press("b")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)


async def test_failed_refresh_keeps_data_and_marks_stale(make_app, seed_pool, transport):
    await seed_pool("pool-a", 2)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        assert "pool-a" in screen_text(app)
        transport.broken = True
        await pilot.press("r")
        await pilot_settle(pilot)
        text = screen_text(app)
        assert "pool-a" in text and "2 idle" in text, "the last data stays on screen"
        assert "OFFLINE" in text
        assert "Could not connect" in text
        assert "Traceback" not in text
        header = app.screen.query_one(AppHeader)
        assert header.status.offline and header.status.stale
        transport.broken = False
        await pilot.press("r")
        await pilot_settle(pilot)
        text = screen_text(app)
        assert "OFFLINE" not in text and "STALE" not in text
        assert "Could not connect" not in text


async def test_failed_first_load_of_a_detail_shows_the_error(make_app, seed_pool):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.show(NodeDetailScreen("pool-a", "no-such-node"))
        await pilot_settle(pilot)
        text = screen_text(app)
        assert "404" in text and "STALE" in text
        assert "Traceback" not in text


async def test_pause_key_stops_the_timer(make_app, seed_pool):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        screen = app.screen
        assert screen._timer is not None and not screen.paused
        await pilot.press("p")
        await pilot.pause()
        assert screen.paused and screen._timer._active.is_set() is False
        assert "PAUSED" in screen_text(app)
        await pilot.press("p")
        await pilot.pause()
        assert not screen.paused and screen._timer._active.is_set()


async def test_hidden_screens_do_not_refresh(make_app, seed_pool, recorder):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        overview = app.screen
        await pilot.press("h")
        await pilot_settle(pilot)
        assert overview._timer is not None and not overview._timer._active.is_set()
        recorder.clear()
        await pilot.press("r")
        await pilot_settle(pilot)
        paths = {r.path for r in recorder.requests}
        assert paths == {"/pools/pool-a/nodes"}, "only the visible heatmap refreshed"


async def test_timer_refreshes_the_visible_screen(session_factory, seed_pool, recorder, clock):
    from batch_tui.config import Refresh, Settings
    from batch_tui.ui.app import BatchApp

    await seed_pool("pool-a", 1)
    settings = Settings(refresh=Refresh(overview=0.05))
    app = BatchApp(
        settings, targets=[TARGET], open_target=TARGET, session_factory=session_factory,
        now=clock.now,
    )  # fmt: skip
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        first = sum(1 for r in recorder.requests if r.path == "/pools")
        for _ in range(200):
            await pilot.pause()
            if sum(1 for r in recorder.requests if r.path == "/pools") > first:
                break
        assert sum(1 for r in recorder.requests if r.path == "/pools") > first


async def test_usable_at_80x24(make_app, seed_pool, seed_job):
    await seed_pool("pool-a", 2)
    seed_job("job-1", "pool-a", ["echo hi"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot_settle(pilot)
        lines = screen_text(app).splitlines()
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        assert "pool-a" in lines[4] and "job-1" in "\n".join(lines)
        assert "Open" in lines[-1]


async def test_filter_on_the_overview_and_escape_clears_it(make_app, seed_pool):
    await seed_pool("pool-a", 1)
    await seed_pool("pool-b", 1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        table = app.screen.table
        await pilot.press("slash", *"pool-b", "enter")
        await pilot.pause()
        assert list(table.visible_keys) == ["pool-b"]
        assert "filter /pool-b/" in screen_text(app)
        await pilot.press("slash", "home", *"!", "enter")
        await pilot.pause()
        assert table.filter_pattern == "!pool-b"
        assert list(table.visible_keys) == ["pool-a"], "! inverts the filter"
        await pilot.press("escape")
        await pilot.pause()
        assert table.filter_pattern == "" and len(table.visible_keys) == 2
        assert isinstance(app.screen, OverviewScreen), "esc cleared the filter, did not go back"


async def test_accounts_found_through_resource_manager_are_listed(make_app):
    from batch_tui.ui.session import arm_discoverer
    from tests.arm_standin import StaticTokenAuth, arm_transport

    discover = arm_discoverer(StaticTokenAuth(), method="cli", transport=arm_transport())
    app = make_app(open_account=False, discover=discover)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot_settle(pilot)
        text = await wait_for_text(pilot, "prodbatch")
        assert "https://render.westeurope.batch.azure.com" in text
        assert "discovered: Production" in text and "archive" in text
        assert "Entra ID (cli)" in text
        assert [t.name for t in app.discovered] == ["archive", "prodbatch", "render"]
