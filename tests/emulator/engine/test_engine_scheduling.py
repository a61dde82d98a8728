"""Tests placement: slots, spread and pack, priorities, limits, affinity and dependencies."""

from __future__ import annotations

from collections import Counter

import pytest

from batch_tui.emulator import Emulator
from batch_tui.emulator.ops.jobs import add_job
from tests.emulator.engine_support import (
    IMAGE,
    advance,
    job,
    node_of,
    nodes,
    ready_pool,
    states,
    task,
    task_body,
    tasks,
    until,
)


def placement(emu: Emulator, job_id: str = "j1") -> Counter[str]:
    """Counts running tasks per node."""
    return Counter(
        node_of(emu, t)
        for t in emu.store.job_tasks(job_id).values()
        if t.data["state"] == "running"
    )


@pytest.mark.parametrize(("fill", "expected"), [("spread", [1, 1]), ("pack", [2])])
async def test_spread_and_pack(emu: Emulator, fill: str, expected: list[int]) -> None:
    await ready_pool(emu, taskSlotsPerNode=2, taskSchedulingPolicy={"nodeFillType": fill})
    job(emu)
    tasks(emu, "j1", task_body("a", "sleep 10"), task_body("b", "sleep 10"))
    await advance(emu, 0.5)
    assert sorted(placement(emu).values()) == expected
    busy = {n.id: n.data["runningTaskSlotsCount"] for n in nodes(emu)}
    assert sorted(busy.values()) == sorted([*expected, 0][: len(busy)])


async def test_slots_and_required_slots(emu: Emulator) -> None:
    await ready_pool(emu, count=1, taskSlotsPerNode=3)
    job(emu)
    tasks(
        emu,
        "j1",
        task_body("big", "sleep 10", requiredSlots=2),
        task_body("small1", "sleep 10"),
        task_body("small2", "sleep 1"),
    )
    await advance(emu, 0.5)
    assert states(emu) == {"big": "running", "small1": "running", "small2": "active"}
    (node,) = nodes(emu)
    assert (node.data["runningTasksCount"], node.data["runningTaskSlotsCount"]) == (2, 3)
    too_big = tasks(emu, "j1", task_body("huge", "sleep 1", requiredSlots=4))[0]
    await advance(emu, 12.0)
    assert states(emu)["small2"] == "completed", "a task that can never fit blocks nothing"
    assert too_big.data["state"] == "active"


async def test_higher_priority_jobs_go_first(emu: Emulator) -> None:
    await ready_pool(emu, count=1)
    job(emu, "low", priority=-10)
    job(emu, "high", priority=100)
    tasks(emu, "low", task_body("l1", "sleep 2"))
    tasks(emu, "high", task_body("h1", "sleep 2"), task_body("h2", "sleep 2"))
    await advance(emu, 0.5)
    assert task(emu, "high", "h1").data["state"] == "running"
    await advance(emu, 2.0)
    assert task(emu, "high", "h2").data["state"] == "running"
    assert task(emu, "low", "l1").data["state"] == "active"
    await advance(emu, 2.0)
    assert task(emu, "low", "l1").data["state"] == "running"


async def test_max_parallel_tasks_limits_a_job(emu: Emulator) -> None:
    await ready_pool(emu, count=3)
    job(emu, maxParallelTasks=1)
    tasks(emu, "j1", *(task_body(f"t{i}", "sleep 2") for i in range(3)))
    await advance(emu, 0.5)
    assert list(states(emu).values()).count("running") == 1
    await until(emu, lambda: set(states(emu).values()) == {"completed"})


async def test_affinity_prefers_the_named_node(emu: Emulator) -> None:
    await ready_pool(emu, count=3)
    target = nodes(emu)[2]
    job(emu)
    tasks(
        emu,
        "j1",
        task_body("t1", "sleep 5", affinityInfo={"affinityId": target.data["affinityId"]}),
    )
    await advance(emu, 0.5)
    assert node_of(emu, task(emu, "j1", "t1")) == target.id


async def test_dependencies_by_ids_and_ranges(emu: Emulator) -> None:
    await ready_pool(emu, count=4)
    job(emu, usesTaskDependencies=True)
    tasks(
        emu,
        "j1",
        task_body("1", "sleep 1"),
        task_body("2", "sleep 3"),
        task_body("03", "sleep 1"),
        task_body("after-1", "sleep 1", dependsOn={"taskIds": ["1"]}),
        task_body("after-range", "sleep 1", dependsOn={"taskIdRanges": [{"start": 1, "end": 3}]}),
    )
    await advance(emu, 0.5)
    assert states(emu)["after-1"] == states(emu)["after-range"] == "active"
    await advance(emu, 1.0)
    assert states(emu)["after-1"] == "running"
    assert states(emu)["after-range"] == "active", "task 2 is still running"
    await advance(emu, 2.0)
    assert states(emu)["after-range"] == "running"


@pytest.mark.parametrize(("action", "runs"), [(None, False), ("satisfy", True), ("block", False)])
async def test_dependency_action_of_a_failed_parent(
    emu: Emulator, action: str | None, runs: bool
) -> None:
    await ready_pool(emu, count=1)
    job(emu, usesTaskDependencies=True)
    conditions = {"default": {"dependencyAction": action}} if action else {}
    parent = task_body("parent", "/bin/sh -c 'exit 3'", exitConditions=conditions)
    tasks(emu, "j1", parent, task_body("child", "sleep 1", dependsOn={"taskIds": ["parent"]}))
    await until(emu, lambda: states(emu)["parent"] == "completed")
    await advance(emu, 2.0)
    assert (states(emu)["child"] != "active") is runs


async def test_job_manager_runs_first_and_alone(emu: Emulator) -> None:
    await ready_pool(emu, count=1, taskSlotsPerNode=4)
    manager = {"id": "jm", "commandLine": "sleep 3", "killJobOnCompletion": False}
    record = job(emu, jobManagerTask=manager)
    tasks(emu, "j1", task_body("t1", "sleep 1"))
    await advance(emu, 0.5)
    assert states(emu) == {"jm": "running", "t1": "active"}, "the manager has the node alone"
    await advance(emu, 3.0)
    assert states(emu)["t1"] == "running"
    assert record.data["state"] == "active"


async def test_job_manager_completion_ends_the_job(emu: Emulator) -> None:
    await ready_pool(emu, count=2)
    record = job(emu, jobManagerTask={"id": "jm", "commandLine": "sleep 2"})
    tasks(emu, "j1", task_body("slow", "sleep 100"))
    await advance(emu, 3.0)
    assert record.data["state"] == "completed"
    assert record.data["executionInfo"]["terminateReason"] == "JMComplete"
    slow = task(emu, "j1", "slow").data
    assert slow["state"] == "completed"
    assert slow["executionInfo"]["failureInfo"]["code"] == "TaskEnded"


async def test_a_job_on_an_auto_pool_runs_there(emu: Emulator) -> None:
    spec = {
        "poolLifetimeOption": "job",
        "pool": {
            "vmSize": "STANDARD_D2S_V3",
            "virtualMachineConfiguration": IMAGE,
            "targetDedicatedNodes": 1,
        },
    }
    record = add_job(emu, {"id": "auto", "poolInfo": {"autoPoolSpecification": spec}})
    tasks(emu, "auto", task_body("t1", "sleep 1"))
    await until(emu, lambda: task(emu, "auto", "t1").data["state"] == "completed")
    pool_id = record.data["executionInfo"]["poolId"]
    assert task(emu, "auto", "t1").data["nodeInfo"]["poolId"] == pool_id
    emu.engine.job_terminated(record, "UserTerminate")
    await until(emu, lambda: pool_id.lower() not in emu.store.pools)
    assert record.data["state"] == "completed", "an auto pool with the job's lifetime goes with it"


async def test_multi_instance_task_takes_several_nodes(emu: Emulator) -> None:
    await ready_pool(emu, count=3)
    job(emu)
    settings = {"numberOfInstances": 3, "coordinationCommandLine": "sleep 1"}
    wide, too_wide = tasks(
        emu,
        "j1",
        task_body("mpi", "sleep 3", multiInstanceSettings=settings),
        task_body("huge", "sleep 1", multiInstanceSettings={**settings, "numberOfInstances": 4}),
    )
    await advance(emu, 0.5)
    assert wide.data["state"] == "running" and too_wide.data["state"] == "active"
    assert {n.data["state"] for n in nodes(emu)} == {"running"}
    subtasks = emu.engine.subtasks(wide)
    assert [s["id"] for s in subtasks] == [1, 2]
    used = {node_of(emu, wide), *(s["nodeInfo"]["nodeId"] for s in subtasks)}
    assert len(used) == 3, "every instance has its own node"
    assert subtasks[0]["nodeInfo"]["taskRootDirectory"] == "workitems/j1/job-1/mpi/1"
    await advance(emu, 1.0)
    done = emu.engine.subtasks(wide)
    assert [(s["state"], s["exitCode"], s["previousState"]) for s in done] == [
        ("completed", 0, "running")
    ] * 2
    assert sorted(n.data["state"] for n in nodes(emu)) == ["idle", "idle", "running"]
    await advance(emu, 2.0)
    assert wide.data["executionInfo"]["result"] == "success"
