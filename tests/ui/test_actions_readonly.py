"""Tests read-only mode: mutating keys are not shown and pressing them sends nothing."""

from __future__ import annotations

import pytest

from batch_tui.batch.errors import ReadOnly
from batch_tui.ui.action_runs import perform_for
from batch_tui.ui.actions import ACTIONS, Scope
from batch_tui.ui.screens.confirm import ConfirmScreen
from batch_tui.ui.screens.dialogs import AddUserScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.nodes import NodesScreen
from tests.ui.support import pilot_settle, screen_text

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


async def test_read_only_session_refuses_every_registry_action(make_app, recorder):
    """The transport is the one gate: every action of the registry, sent straight through
    its client call, is refused before a request leaves."""
    app = make_app(read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        client = app.session.client
        recorder.clear()
        scope = Scope(pool_id="pool-a", job_id="job-1")
        sent = [spec for spec in ACTIONS.values() if spec.call is not None]
        assert {"node", "job", "task", "schedule", "pool"} <= {spec.kind for spec in sent}
        for spec in sent:
            [outcome] = await perform_for(spec, client, scope)(["x-1"], None)
            assert outcome.error is not None and "Read-only" in outcome.error, spec.id
        with pytest.raises(ReadOnly):
            await client.add_node_user("pool-a", "node-1", "bob", password="pw")
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
        app.screen.action_act("node.reboot")
        app.screen.action_act("node.add-user")
        app.screen.action_act("node.all-in-state")
        await pilot_settle(pilot)
        assert not isinstance(app.screen, (ConfirmScreen, AddUserScreen))
        assert recorder.mutations() == []


async def test_open_session_builds_a_read_only_client(emulator, recorder):
    import httpx

    from batch_tui.ui.session import open_session
    from tests.ui.support import TARGET

    session = open_session(TARGET, read_only=True, transport=httpx.ASGITransport(app=recorder))
    assert session.read_only and session.client.read_only
    pools = await session.client.list_pools()
    assert pools == []
    with pytest.raises(ReadOnly):
        await session.client.remove_nodes("pool-a", ["n1"])
    assert recorder.mutations() == []
    await session.aclose()
