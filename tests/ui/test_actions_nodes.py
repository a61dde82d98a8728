"""Tests node actions end to end: confirm dialog, option, the request the emulator got, results."""

from __future__ import annotations

import base64

import httpx
import pytest

from batch_tui.ui.screens.confirm import ConfirmScreen
from batch_tui.ui.screens.dialogs import AddUserScreen, SshCommandScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from tests.ui.support import (
    capture_notifications,
    node_states,
    open_nodes,
    pilot_settle,
    screen_text,
)


async def open_node(app, pilot, node_id, pool_id="pool-a"):
    app.show(NodeDetailScreen(pool_id, node_id))
    await pilot_settle(pilot)
    assert isinstance(app.screen, NodeDetailScreen)
    return app.screen


def node_posts(recorder, suffix):
    return [r for r in recorder.mutations() if r.path.endswith(suffix)]


@pytest.mark.parametrize(
    ("key", "suffix", "option_key", "body"),
    [
        ("b", "/reboot", "2", {"nodeRebootOption": "terminate"}),
        ("i", "/reimage", "3", {"nodeReimageOption": "taskcompletion"}),
        ("D", "/deallocate", "4", {"nodeDeallocateOption": "retaineddata"}),
        ("o", "/disablescheduling", "1", {"nodeDisableSchedulingOption": "requeue"}),
    ],
)
async def test_node_action_sends_the_chosen_option(
    make_app, seed_pool, recorder, key, suffix, option_key, body
):
    nodes = await seed_pool("pool-a", 1)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_node(app, pilot, nodes[0])
        recorder.clear()
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        dialog_text = screen_text(app)
        assert nodes[0][:40] in dialog_text and "pool-a" in dialog_text
        await pilot.press(option_key, "y")
        await pilot_settle(pilot)
        posts = node_posts(recorder, suffix)
        assert [(p.path, p.body) for p in posts] == [
            (f"/pools/pool-a/nodes/{nodes[0]}{suffix}", body)
        ]
        assert len(recorder.mutations()) == 1
        assert any("done" in message for message, _ in notes)


async def test_cancel_sends_nothing(make_app, seed_pool, recorder):
    nodes = await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_node(app, pilot, nodes[0])
        recorder.clear()
        for key in ("b", "i", "D", "o", "ctrl+d"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen), key
            await pilot.press("escape" if key != "i" else "n")
            await pilot_settle(pilot)
            assert isinstance(app.screen, NodeDetailScreen)
        assert recorder.mutations() == []


async def test_start_and_enable_scheduling_apply_only_in_their_states(
    make_app, seed_pool, recorder, emulator, settle
):
    nodes = await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_node(app, pilot, nodes[0])
        # An idle, schedulable node: start and enable scheduling are greyed out.
        assert screen.check_action("act", ("node.start",)) is None
        assert screen.check_action("act", ("node.enable-scheduling",)) is None
        assert screen.check_action("act", ("node.reboot",)) is True
        await pilot.press("u")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)

        await pilot.press("D", "y")
        await pilot_settle(pilot)
        await settle(lambda: node_states(emulator, "pool-a")[nodes[0]] == "deallocated")
        await pilot.press("r")
        await pilot_settle(pilot)
        assert screen.check_action("act", ("node.start",)) is True
        assert screen.check_action("act", ("node.reboot",)) is None
        recorder.clear()
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot_settle(pilot)
        assert [(r.path, r.body) for r in recorder.mutations()] == [
            (f"/pools/pool-a/nodes/{nodes[0]}/start", None)
        ]


async def test_disable_then_enable_scheduling(make_app, seed_pool, recorder):
    nodes = await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_node(app, pilot, nodes[0])
        await pilot.press("o", "3", "y")
        await pilot_settle(pilot)
        await pilot.press("r")
        await pilot_settle(pilot)
        assert screen.node is not None and screen.node.scheduling_state == "disabled"
        assert screen.check_action("act", ("node.disable-scheduling",)) is None
        recorder.clear()
        await pilot.press("O", "y")
        await pilot_settle(pilot)
        assert [r.path for r in recorder.mutations()] == [
            f"/pools/pool-a/nodes/{nodes[0]}/enablescheduling"
        ]


async def test_bulk_reboot_of_marked_nodes_in_the_list(make_app, seed_pool, recorder):
    nodes = await seed_pool("pool-a", 3)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_nodes(app, pilot)
        await pilot.press("space", "down", "space")  # space marks and moves down
        recorder.clear()
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Reboot the 2 marked nodes in pool pool-a" in screen_text(app)
        await pilot.press("y")
        await pilot_settle(pilot)
        paths = sorted(r.path for r in recorder.mutations())
        assert paths == sorted(f"/pools/pool-a/nodes/{n}/reboot" for n in (nodes[0], nodes[2]))
        assert any("2 nodes done" in message for message, _ in notes)


async def test_remove_marked_nodes_sends_one_request(make_app, seed_pool, recorder):
    nodes = await seed_pool("pool-a", 3)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_nodes(app, pilot)
        await pilot.press("space", "space")  # space marks and moves down
        recorder.clear()
        await pilot.press("ctrl+d", "2", "y")
        await pilot_settle(pilot)
        assert [(r.path, r.body) for r in recorder.mutations()] == [
            (
                "/pools/pool-a/removenodes",
                {"nodeList": [nodes[0], nodes[1]], "nodeDeallocationOption": "terminate"},
            )
        ]


async def test_a_failed_action_is_reported_per_node(make_app, seed_pool, recorder, emulator):
    nodes = await seed_pool("pool-a", 1)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_node(app, pilot, nodes[0])
        # The node starts rebooting behind the screen's back: the service refuses a reimage.
        emulator.engine.node_action(
            emulator.store.nodes["pool-a"][nodes[0].lower()], "reboot", None
        )
        await pilot.press("i", "y")
        await pilot_settle(pilot)
        errors = [message for message, severity in notes if severity == "error"]
        assert errors and nodes[0] in errors[0]
        assert "409" in errors[0]


async def test_add_user_then_ssh_command_copied_with_osc52(
    make_app, seed_pool, recorder, monkeypatch
):
    monkeypatch.delenv("TMUX", raising=False)
    nodes = await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_node(app, pilot, nodes[0])
        recorder.clear()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AddUserScreen)
        await pilot.press(*"alice")
        app.screen.query_one("#user-key").value = "ssh-ed25519 AAAAC3Nz alice@laptop"
        await pilot.press("enter")
        await pilot_settle(pilot)
        posts = recorder.mutations()
        assert [r.path for r in posts] == [f"/pools/pool-a/nodes/{nodes[0]}/users"]
        body = posts[0].body
        assert body["name"] == "alice"
        assert body["sshPublicKey"] == "ssh-ed25519 AAAAC3Nz alice@laptop"
        assert body["isAdmin"] is False and "password" not in body
        assert body["expiryTime"].startswith("2024-10-02T12:00:00")
        assert isinstance(app.screen, SshCommandScreen)
        commands = app.screen.commands
        assert len(commands) == 1 and commands[0].startswith("ssh alice@127.0.0.1 -p 5")
        written: list[str] = []
        monkeypatch.setattr(app._driver, "write", written.append)
        await pilot.press("c")
        await pilot.pause()
        payload = base64.b64encode(commands[0].encode()).decode()
        assert written == [f"\x1b]52;c;{payload}\x07"]


async def test_add_user_needs_a_key_or_password(make_app, seed_pool, recorder):
    nodes = await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_node(app, pilot, nodes[0])
        recorder.clear()
        await pilot.press("a", *"bob", "enter")
        await pilot.pause()
        assert isinstance(app.screen, AddUserScreen)
        assert "SSH public key or a password" in screen_text(app)
        await pilot.press("escape")
        await pilot_settle(pilot)
        assert recorder.mutations() == []


async def failed_start_task_pool(emulator, settle, pool_id="pool-f"):
    """A pool whose one node failed its start task (a real failing start task)."""
    from batch_tui.emulator.ops.pools import add_pool
    from tests.ui.support import pool_body

    start = {"commandLine": "/bin/sh -c 'exit 7'", "waitForSuccess": True}
    add_pool(emulator, pool_body(pool_id, 1, startTask=start))
    await settle(lambda: list(node_states(emulator, pool_id).values()) == ["starttaskfailed"])
    return list(node_states(emulator, pool_id))


async def test_a_node_whose_start_task_failed_can_be_rebooted_and_reimaged(
    make_app, emulator, settle, recorder
):
    [node] = await failed_start_task_pool(emulator, settle)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_node(app, pilot, node, pool_id="pool-f")
        recorder.clear()
        await pilot.press("b")
        await pilot_settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot_settle(pilot)
        assert [r.path for r in recorder.mutations()] == [f"/pools/pool-f/nodes/{node}/reboot"]


async def test_a_key_that_does_not_apply_says_why(make_app, emulator, settle, recorder):
    [node] = await failed_start_task_pool(emulator, settle)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_node(app, pilot, node, pool_id="pool-f")
        recorder.clear()
        await pilot.press("D")  # deallocate: not on a node whose start task failed
        await pilot_settle(pilot)
        assert isinstance(app.screen, NodeDetailScreen)
        assert recorder.mutations() == []
        assert any(
            "Deallocate" in message and "starttaskfailed" in message and "idle, running" in message
            for message, _ in notes
        ), notes


class LosesAnswers(httpx.AsyncBaseTransport):
    """Sends every request on, then loses the answer of the mutating ones (a dropped link
    after the request went out: the emulator applied it)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method not in ("GET", "HEAD"):
            await response.aclose()
            raise httpx.ReadError("connection closed", request=request)
        return response


async def test_a_lost_answer_is_reported_as_unknown_not_failed(
    make_app, seed_pool, recorder, emulator, transport
):
    nodes = await seed_pool("pool-a", 1)
    transport.inner = LosesAnswers(transport.inner)
    app = make_app()
    notes = capture_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_node(app, pilot, nodes[0])
        recorder.clear()
        await pilot.press("b")
        await pilot_settle(pilot)
        await pilot.press("y")
        await pilot_settle(pilot)
        assert [r.path for r in recorder.mutations()] == [f"/pools/pool-a/nodes/{nodes[0]}/reboot"]
        [result] = [message for message, _ in notes if message.startswith("Reboot:")]
        assert "outcome unknown" in result and "may have been applied" in result
        assert "failed" not in result
        assert node_states(emulator, "pool-a")[nodes[0]] == "rebooting"
        # The screen refreshed after the action: it shows what the service did.
        assert "rebooting" in screen_text(app)
