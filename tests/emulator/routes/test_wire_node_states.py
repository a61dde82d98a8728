"""Tests, over HTTP, the node states in which each node operation is accepted or refused.

The table (BATCH-API.md section 7, corrected where the service takes more than the spec says):
reboot and reimage in idle, running, offline, starttaskfailed and unusable; deallocate in idle,
running and offline; start only when deallocated; users in idle, running, offline and
starttaskfailed. Refusals are 409 with the service's code for the state (Learn, "Batch Status
and Error Codes") and the state in `values` as `NodeState`.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from batch_tui.emulator import Emulator
from batch_tui.emulator.state.store import NodeRecord
from tests.emulator.support import Settle, add_pool, assert_error, idle

INVALID = "OperationInvalidForCurrentState"


@pytest.fixture
async def node(http: httpx.AsyncClient, emulator: Emulator, settle: Settle) -> NodeRecord:
    """The one idle node of pool1 (its record, which a test may put into any state)."""
    await add_pool(http, targetDedicatedNodes=1)
    await settle(idle(emulator))
    (record,) = emulator.store.pool_nodes("pool1").values()
    return record


def put_in(node: NodeRecord, state: str) -> None:
    """Puts the node in `state` as the service would show it (offline: scheduling disabled)."""
    node.data["state"] = state
    if state == "offline":
        node.data["schedulingState"] = "disabled"


async def post(http: httpx.AsyncClient, node: NodeRecord, suffix: str, **body: Any) -> Any:
    return await http.post(f"/pools/pool1/nodes/{node.id}{suffix}", json=body or None)


@pytest.mark.parametrize("state", ["idle", "offline", "starttaskfailed", "unusable"])
@pytest.mark.parametrize(("action", "then"), [("reboot", "rebooting"), ("reimage", "reimaging")])
async def test_reboot_and_reimage_repair_failed_and_offline_nodes(
    http: httpx.AsyncClient, node: NodeRecord, state: str, action: str, then: str
) -> None:
    put_in(node, state)
    response = await post(http, node, f"/{action}")
    assert response.status_code == 202, response.text
    assert node.data["state"] == then


@pytest.mark.parametrize(
    ("state", "code"),
    [
        ("creating", "NodeBeingCreated"),
        ("starting", "NodeBeingStarted"),
        ("waitingforstarttask", "NodeBeingStarted"),
        ("rebooting", "NodeBeingRebooted"),
        ("reimaging", "NodeBeingReimaged"),
        ("leavingpool", INVALID),
        ("unknown", INVALID),
        ("preempted", INVALID),
        ("deallocating", INVALID),
        ("deallocated", INVALID),
    ],
)
@pytest.mark.parametrize("action", ["reboot", "reimage"])
async def test_reboot_and_reimage_are_refused_elsewhere(
    http: httpx.AsyncClient, node: NodeRecord, state: str, code: str, action: str
) -> None:
    put_in(node, state)
    values = assert_error(await post(http, node, f"/{action}"), 409, code)
    assert values == {"NodeState": state}


async def test_a_node_whose_start_task_failed_reboots_and_runs_it_again(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    start = {"commandLine": "/bin/sh -c 'exit 7'", "waitForSuccess": True}
    await add_pool(http, targetDedicatedNodes=1, startTask=start)
    (node,) = emulator.store.pool_nodes("pool1").values()
    await settle(lambda: node.data["state"] == "starttaskfailed")
    response = await post(http, node, "/reboot", nodeRebootOption="terminate")
    assert response.status_code == 202, response.text
    assert node.data["state"] == "rebooting"
    assert "errors" not in node.data
    await settle(lambda: node.data["state"] == "starttaskfailed")


@pytest.mark.parametrize("state", ["idle", "offline"])
async def test_deallocate_takes_idle_and_offline_nodes(
    http: httpx.AsyncClient, node: NodeRecord, state: str
) -> None:
    put_in(node, state)
    assert (await post(http, node, "/deallocate")).status_code == 202
    assert node.data["state"] == "deallocating"


@pytest.mark.parametrize(
    ("state", "code"),
    [("starttaskfailed", INVALID), ("unusable", "NodeStateUnusable"), ("deallocated", INVALID)],
)
async def test_deallocate_is_refused_on_failed_nodes(
    http: httpx.AsyncClient, node: NodeRecord, state: str, code: str
) -> None:
    put_in(node, state)
    assert assert_error(await post(http, node, "/deallocate"), 409, code) == {"NodeState": state}
    assert node.data["state"] == state


async def test_start_only_takes_a_deallocated_node(
    http: httpx.AsyncClient, node: NodeRecord
) -> None:
    put_in(node, "starttaskfailed")
    assert_error(await post(http, node, "/start"), 409, INVALID)
    put_in(node, "deallocated")
    assert (await post(http, node, "/start")).status_code == 202


@pytest.mark.parametrize("state", ["idle", "offline", "starttaskfailed"])
async def test_users_are_added_to_nodes_one_can_debug(
    http: httpx.AsyncClient, node: NodeRecord, state: str
) -> None:
    put_in(node, state)
    response = await post(http, node, "/users", name="alice", password="pw")
    assert response.status_code == 201, response.text
    assert "alice" in node.users


@pytest.mark.parametrize(
    ("state", "code"),
    [
        ("creating", "NodeBeingCreated"),
        ("rebooting", "NodeBeingRebooted"),
        ("unusable", "NodeStateUnusable"),
        ("deallocated", INVALID),
        ("leavingpool", INVALID),
    ],
)
async def test_users_are_refused_where_no_agent_can_take_them(
    http: httpx.AsyncClient, node: NodeRecord, state: str, code: str
) -> None:
    assert (await post(http, node, "/users", name="alice", password="pw")).status_code == 201
    put_in(node, state)
    users = f"/pools/pool1/nodes/{node.id}/users"
    assert_error(await http.post(users, json={"name": "bob"}), 409, code)
    assert_error(await http.put(f"{users}/alice", json={"password": "new"}), 409, code)
    assert_error(await http.delete(f"{users}/alice"), 409, code)
    assert set(node.users) == {"alice"}
