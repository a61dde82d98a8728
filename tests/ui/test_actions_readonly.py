"""Tests read-only mode: mutating keys are not shown and pressing them sends nothing."""

from __future__ import annotations

import pytest

from batch_tui.ui.screens.dialogs import AddUserScreen, ConfirmScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.nodes import NodesScreen
from batch_tui.ui.session import MUTATING_METHODS, ReadOnlyRefused
from tests.ui.conftest import pilot_settle, screen_text

NODE_KEYS = ("b", "i", "D", "u", "o", "O", "ctrl+d", "a")


async def test_read_only_hides_node_actions_and_sends_nothing(make_app, seed_pool, recorder):
    nodes = await seed_pool("pool-a", 2)
    app = make_app(read_only=True)
    async with app.run_test(size=(160, 30)) as pilot:
        app.show(NodeDetailScreen("pool-a", nodes[0]))
        await pilot_settle(pilot)
        text = screen_text(app)
        assert "READ-ONLY" in text
        assert "Reboot" not in text and "Add user" not in text
        descriptions = {
            active.binding.description for active in app.screen.active_bindings.values()
        }
        assert not {"Reboot", "Reimage", "Deallocate", "Start", "Remove", "Add user"} & descriptions
        recorder.clear()
        for key in NODE_KEYS:
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, (ConfirmScreen, AddUserScreen)), key
        app.show(NodesScreen("pool-a"))
        await pilot_settle(pilot)
        await pilot.press("space")
        for key in NODE_KEYS:
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, NodesScreen), key
        await pilot_settle(pilot)
        assert recorder.mutations() == []


async def test_read_only_session_refuses_every_mutating_call(make_app, recorder):
    app = make_app(read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        client = app.session.client
        recorder.clear()
        with pytest.raises(ReadOnlyRefused):
            await client.reboot_node("pool-a", "node-1")
        with pytest.raises(ReadOnlyRefused):
            await client.delete_job("job-1")
        for name in MUTATING_METHODS:
            assert hasattr(client, name), f"the client has no {name}"
        assert recorder.mutations() == []


async def test_read_only_confirm_action_sends_nothing_even_when_called(
    make_app, seed_pool, recorder
):
    nodes = await seed_pool("pool-a", 1)
    app = make_app(read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        app.show(NodeDetailScreen("pool-a", nodes[0]))
        await pilot_settle(pilot)
        recorder.clear()
        app.screen.action_reboot_node()
        app.screen.action_add_user()
        await pilot_settle(pilot)
        assert not isinstance(app.screen, (ConfirmScreen, AddUserScreen))
        assert recorder.mutations() == []


async def test_open_session_builds_a_read_only_client(emulator, recorder):
    import httpx

    from batch_tui.batch.errors import ReadOnly
    from batch_tui.ui.session import open_session
    from tests.ui.conftest import TARGET

    session = open_session(TARGET, read_only=True, transport=httpx.ASGITransport(app=recorder))
    assert session.read_only and session.client.read_only
    pools = await session.client.list_pools()
    assert pools == []
    with pytest.raises(ReadOnlyRefused):
        await session.client.remove_nodes("pool-a", ["n1"])
    # Below the method guard, the client's own transport refuses too.
    fresh = open_session(TARGET, read_only=True, transport=httpx.ASGITransport(app=recorder))
    assert fresh.client.read_only
    del fresh.client.remove_nodes  # drop the instance guard to reach the client's own check
    with pytest.raises(ReadOnly):
        await fresh.client.remove_nodes("pool-a", ["n1"])
    assert recorder.mutations() == []
    await session.aclose()
    await fresh.aclose()
