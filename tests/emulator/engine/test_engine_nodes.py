"""Tests the engine's nodes: allocation over time, start tasks, resize, removal, node actions."""

from __future__ import annotations

import re

import pytest

from batch_tui.emulator import Emulator
from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.ops.scaling import resize_pool
from tests.emulator.engine_support import (
    advance,
    job,
    node_of,
    nodes,
    pool,
    ready_pool,
    task,
    task_body,
    tasks,
    until,
)


def node_states(emu: Emulator, pool_id: str = "p1") -> list[str]:
    return [n.data["state"] for n in nodes(emu, pool_id)]


async def test_nodes_go_through_the_allocation_states(emu: Emulator) -> None:
    record = pool(emu, nodes=2)
    assert record.data["allocationState"] == "resizing"
    assert node_states(emu) == ["creating", "creating"]
    assert record.data["currentDedicatedNodes"] == 2
    await advance(emu, 1.0)
    assert node_states(emu) == ["starting", "starting"]
    assert record.data["allocationState"] == "steady"
    await advance(emu, 1.0)
    assert node_states(emu) == ["idle", "idle"]
    first, second = nodes(emu)
    assert re.fullmatch(r"tvmps_[0-9a-f]{64}_d", first.id)
    assert first.data["affinityId"] == f"TVM:{first.id}"
    assert first.data["vmSize"] == "standard_d2s_v3"
    assert (first.data["ipAddress"], second.data["ipAddress"]) == ("10.0.0.4", "10.0.0.5")
    ports = [
        n.data["endpointConfiguration"]["inboundEndpoints"][0]["frontendPort"]
        for n in (first, second)
    ]
    assert ports == [50000, 50001]
    image = first.data["virtualMachineInfo"]["imageReference"]
    assert image["sku"] == "22_04-lts" and "exactVersion" in image
    assert first.data["lastBootTime"] and first.data["nodeAgentInfo"]["version"]
    assert first.data["isDedicated"] is True


async def test_low_priority_nodes_are_counted_apart(emu: Emulator) -> None:
    record = pool(emu, nodes=1, targetLowPriorityNodes=2)
    await advance(emu, 2.0)
    spot = [n for n in nodes(emu) if not n.data["isDedicated"]]
    assert len(spot) == 2 and all(n.id.endswith("_p") for n in spot)
    assert (record.data["currentDedicatedNodes"], record.data["currentLowPriorityNodes"]) == (1, 2)


async def test_start_task_with_wait_for_success_holds_the_node(emu: Emulator) -> None:
    start = {"commandLine": "/bin/sh -c 'sleep 3'", "waitForSuccess": True}
    pool(emu, nodes=1, startTask=start)
    await advance(emu, 2.0)
    (node,) = nodes(emu)
    assert node.data["state"] == "waitingforstarttask"
    assert node.data["startTaskInfo"]["state"] == "running"
    await advance(emu, 3.0)
    assert node.data["state"] == "idle"
    info = node.data["startTaskInfo"]
    assert (info["state"], info["exitCode"], info["result"], info["retryCount"]) == (
        "completed",
        0,
        "success",
        0,
    )


async def test_failing_start_task_retries_then_fails_the_node(emu: Emulator) -> None:
    start = {"commandLine": "/bin/sh -c 'exit 7'", "maxTaskRetryCount": 2, "waitForSuccess": True}
    pool(emu, nodes=1, startTask=start)
    job(emu)
    tasks(emu, "j1", task_body("t1"))
    await until(emu, lambda: node_states(emu) == ["starttaskfailed"])
    (node,) = nodes(emu)
    info = node.data["startTaskInfo"]
    assert (info["exitCode"], info["retryCount"], info["result"]) == (7, 2, "failure")
    assert info["failureInfo"]["code"] == "FailureExitCode"
    assert node.data["errors"][0]["code"] == "FailureExitCode"
    await advance(emu, 10.0)
    assert task(emu, "j1", "t1").data["state"] == "active", "no task runs on a failed node"


async def test_start_task_without_wait_lets_tasks_run_even_if_it_fails(emu: Emulator) -> None:
    start = {"commandLine": "/bin/sh -c 'sleep 2; exit 1'", "waitForSuccess": False}
    pool(emu, nodes=1, startTask=start)
    job(emu)
    tasks(emu, "j1", task_body("t1", "sleep 1"))
    await advance(emu, 2.5)
    assert task(emu, "j1", "t1").data["state"] == "running"
    await advance(emu, 3.0)
    (node,) = nodes(emu)
    assert node.data["state"] == "idle"
    assert node.data["startTaskInfo"]["result"] == "failure"


async def test_resize_up_and_down(emu: Emulator) -> None:
    record = await ready_pool(emu, count=1)
    resize_pool(emu, "p1", {"targetDedicatedNodes": 3})
    assert len(nodes(emu)) == 3
    await advance(emu, 2.0)
    assert node_states(emu) == ["idle"] * 3 and record.data["allocationState"] == "steady"
    resize_pool(emu, "p1", {"targetDedicatedNodes": 1})
    assert sorted(node_states(emu)) == ["idle", "leavingpool", "leavingpool"]
    assert record.data["allocationState"] == "resizing"
    await advance(emu, 1.0)
    assert len(nodes(emu)) == 1 and record.data["allocationState"] == "steady"
    assert record.data["currentDedicatedNodes"] == 1


async def test_stop_resize_drops_nodes_still_being_created(emu: Emulator) -> None:
    record = await ready_pool(emu, count=1)
    resize_pool(emu, "p1", {"targetDedicatedNodes": 4})
    record.data["allocationState"] = "stopping"
    emu.engine.pool_stop_resize(record)
    assert record.data["resizeErrors"][0]["code"] == "ResizeStopped"
    await advance(emu, 1.0)
    assert record.data["allocationState"] == "steady"
    assert node_states(emu) == ["idle"]


async def test_shrink_waiting_for_tasks_times_out(emu: Emulator) -> None:
    record = await ready_pool(emu, count=1, resizeTimeout="PT5M")
    job(emu)
    tasks(emu, "j1", task_body("long", "sleep 3600"))
    await advance(emu, 0.5)
    resize_pool(emu, "p1", {"targetDedicatedNodes": 0, "nodeDeallocationOption": "taskcompletion"})
    await advance(emu, 60.0, step=10)
    assert record.data["allocationState"] == "resizing"
    assert node_states(emu) == ["running"]
    await advance(emu, 250.0, step=10)
    assert record.data["allocationState"] == "steady"
    assert record.data["resizeErrors"][0]["code"] == "AllocationTimedout"
    assert node_states(emu) == ["running"], "the node whose removal timed out stays"
    assert task(emu, "j1", "long").data["state"] == "running"


async def test_remove_nodes_requeues_their_tasks_and_lowers_the_target(emu: Emulator) -> None:
    record = await ready_pool(emu, count=2)
    job(emu)
    tasks(emu, "j1", task_body("t1", "sleep 30"))
    await advance(emu, 0.5)
    victim = node_of(emu, task(emu, "j1", "t1"))
    record.data["allocationState"] = "resizing"
    emu.engine.remove_nodes(record, [victim], "requeue")
    assert record.data["targetDedicatedNodes"] == 1
    await advance(emu, 1.0)
    moved = task(emu, "j1", "t1")
    assert moved.data["state"] == "running"
    assert moved.data["executionInfo"]["requeueCount"] == 1
    assert node_of(emu, moved) != victim
    assert [n.id for n in nodes(emu)] != [victim] and len(nodes(emu)) == 1
    assert record.data["allocationState"] == "steady"


async def _busy_node(emu: Emulator, command: str = "sleep 10") -> tuple:
    await ready_pool(emu, count=1, startTask={"commandLine": "/bin/sh -c 'sleep 1'"})
    await advance(emu, 1.0)
    job(emu)
    tasks(emu, "j1", task_body("t1", command))
    await advance(emu, 0.5)
    (node,) = nodes(emu)
    assert node.data["state"] == "running"
    return node, task(emu, "j1", "t1")


async def test_reboot_requeue_kills_requeues_and_reruns_the_start_task(emu: Emulator) -> None:
    node, record = await _busy_node(emu)
    boot = node.data["lastBootTime"]
    emu.engine.node_action(node, "reboot", "requeue")
    assert node.data["state"] == "rebooting"
    assert record.data["state"] == "active"
    assert record.data["executionInfo"]["requeueCount"] == 1
    await advance(emu, 3.0)
    assert node.data["state"] == "waitingforstarttask"
    assert node.data["lastBootTime"] != boot
    await until(emu, lambda: record.data["state"] == "running")


async def test_reboot_terminate_completes_the_task_as_ended(emu: Emulator) -> None:
    node, record = await _busy_node(emu)
    emu.engine.node_action(node, "reboot", "terminate")
    info = record.data["executionInfo"]
    assert record.data["state"] == "completed"
    assert info["failureInfo"]["code"] == "TaskEnded"
    assert info["result"] == "failure"


@pytest.mark.parametrize("option", ["taskcompletion", "retaineddata"])
async def test_reboot_waits_for_running_tasks(emu: Emulator, option: str) -> None:
    node, record = await _busy_node(emu, "sleep 4")
    emu.engine.node_action(node, "reboot", option)
    assert node.data["state"] == "running"
    tasks(emu, "j1", task_body("t2", "sleep 1"))
    await advance(emu, 2.0)
    assert task(emu, "j1", "t2").data["state"] == "active", "no new task while waiting"
    await advance(emu, 2.0)
    assert record.data["executionInfo"]["result"] == "success"
    assert node.data["state"] == "rebooting"


async def test_reimage_wipes_the_node_and_deallocate_start_cycle(emu: Emulator) -> None:
    node, record = await _busy_node(emu, "sleep 1")
    await advance(emu, 1.0)
    assert any("t1" in e.name for e in emu.engine.node_files(node).list(True))
    emu.engine.node_action(node, "reimage", None)
    assert node.data["state"] == "reimaging"
    await advance(emu, 3.0)
    assert not any("t1" in e.name for e in emu.engine.node_files(node).list(True))
    await until(emu, lambda: node.data["state"] == "idle")
    emu.engine.node_action(node, "deallocate", "requeue")
    assert node.data["state"] == "deallocating"
    await advance(emu, 2.0)
    assert node.data["state"] == "deallocated"
    emu.engine.node_action(node, "start", None)
    assert node.data["state"] == "starting"
    await until(emu, lambda: node.data["state"] == "idle")


async def test_disable_scheduling_options(emu: Emulator) -> None:
    node, record = await _busy_node(emu, "sleep 3")
    emu.engine.node_action(node, "disablescheduling", "taskcompletion")
    assert (node.data["state"], node.data["schedulingState"]) == ("running", "disabled")
    await advance(emu, 3.0)
    assert node.data["state"] == "offline"
    assert record.data["executionInfo"]["result"] == "success"
    emu.engine.node_action(node, "enablescheduling", None)
    assert node.data["state"] == "idle"
    tasks(emu, "j1", task_body("t2", "sleep 30"))
    await advance(emu, 0.5)
    emu.engine.node_action(node, "disablescheduling", "requeue")
    assert node.data["state"] == "offline"
    assert task(emu, "j1", "t2").data["state"] == "active"
    await advance(emu, 2.0)
    assert task(emu, "j1", "t2").data["state"] == "active", "an offline node runs nothing"


async def test_node_actions_refused_in_the_wrong_state(emu: Emulator) -> None:
    pool(emu, nodes=1)
    (node,) = nodes(emu)
    with pytest.raises(ServiceError) as creating:
        emu.engine.node_action(node, "reboot", None)
    assert (creating.value.status, creating.value.code) == (409, "NodeBeingCreated")
    await advance(emu, 2.0)
    with pytest.raises(ServiceError) as start:
        emu.engine.node_action(node, "start", None)
    assert start.value.status == 409
    with pytest.raises(ServiceError) as enable:
        emu.engine.node_action(node, "enablescheduling", None)
    assert enable.value.code == "NodeAlreadyInTargetSchedulingState"
    emu.engine.node_action(node, "reboot", None)
    with pytest.raises(ServiceError) as again:
        emu.engine.node_action(node, "reimage", None)
    assert again.value.code == "NodeBeingRebooted"


async def test_pool_delete_requeues_tasks_and_drops_everything(emu: Emulator) -> None:
    record = await ready_pool(emu, count=2)
    job(emu)
    tasks(emu, "j1", task_body("t1", "sleep 30"))
    await advance(emu, 0.5)
    record.data["state"] = "deleting"
    emu.engine.pool_deleted(record)
    assert task(emu, "j1", "t1").data["state"] == "active"
    assert set(node_states(emu)) == {"leavingpool"}
    await advance(emu, 1.0)
    assert "p1" not in emu.store.pools and not emu.store.nodes.get("p1")
