"""Tests job behaviour: exit conditions and job actions, completion, limits, disable, delete,
and the job preparation and release tasks."""

from __future__ import annotations

import pytest

from batch_tui.emulator import Emulator
from batch_tui.emulator.base.errors import ServiceError
from tests.emulator.engine_support import (
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

PREP = {"id": "prep", "commandLine": "/bin/sh -c 'sleep 2'"}
RELEASE = {"id": "release", "commandLine": "/bin/sh -c 'sleep 1'"}


def failing(task_id: str, code: int, **extra: object) -> dict:
    return task_body(task_id, f"/bin/sh -c 'exit {code}'", **extra)


async def test_retries_up_to_the_limit(emu: Emulator) -> None:
    await ready_pool(emu, count=1)
    job(emu)
    record = tasks(emu, "j1", failing("t1", 4, constraints={"maxTaskRetryCount": 2}))[0]
    await until(emu, lambda: record.data["state"] == "completed")
    info = record.data["executionInfo"]
    assert (info["retryCount"], info["exitCode"], info["result"]) == (2, 4, "failure")
    assert info["failureInfo"] == {
        "category": "usererror",
        "code": "FailureExitCode",
        "message": "The task exited with an exit code representing a failure",
    }
    assert info["lastRetryTime"] == info["startTime"]
    (node,) = nodes(emu)
    assert node.data["totalTasksRun"] == 3 and node.data["totalTasksSucceeded"] == 0
    assert node.data["recentTasks"][-1]["taskId"] == "t1"


@pytest.mark.parametrize(
    ("conditions", "job_state", "reason"),
    [
        (
            {"exitCodes": [{"code": 3, "exitOptions": {"jobAction": "terminate"}}]},
            "completed",
            "TaskFailed",
        ),
        (
            {"exitCodeRanges": [{"start": 1, "end": 5, "exitOptions": {"jobAction": "disable"}}]},
            "disabled",
            None,
        ),
        ({"default": {"jobAction": "none"}}, "active", None),
        ({}, "completed", "TaskFailed"),
    ],
)
async def test_exit_conditions_drive_job_actions(
    emu: Emulator, conditions: dict, job_state: str, reason: str | None
) -> None:
    await ready_pool(emu, count=1)
    record = job(emu, onTaskFailure="performexitoptionsjobaction")
    tasks(emu, "j1", failing("t1", 3, exitConditions=conditions))
    tasks(emu, "j1", task_body("later", "sleep 1"))
    await until(emu, lambda: task(emu, "j1", "t1").data["state"] == "completed")
    await advance(emu, 0.5)
    assert record.data["state"] == job_state
    assert record.data.get("executionInfo", {}).get("terminateReason") == reason


async def test_no_job_action_unless_the_job_asks_for_it(emu: Emulator) -> None:
    await ready_pool(emu, count=1)
    record = job(emu)
    conditions = {"exitCodes": [{"code": 3, "exitOptions": {"jobAction": "terminate"}}]}
    tasks(emu, "j1", failing("t1", 3, exitConditions=conditions))
    await until(emu, lambda: task(emu, "j1", "t1").data["state"] == "completed")
    assert record.data["state"] == "active"


async def test_all_tasks_complete_terminates_the_job(emu: Emulator) -> None:
    await ready_pool(emu, count=2)
    record = job(emu)
    tasks(emu, "j1", task_body("a", "sleep 1"), task_body("b", "sleep 2"))
    record.data["onAllTasksComplete"] = "terminatejob"
    await advance(emu, 1.5)
    assert record.data["state"] == "active"
    await advance(emu, 1.0)
    assert record.data["state"] == "completed"
    info = record.data["executionInfo"]
    assert info["terminateReason"] == "AllTasksComplete" and info["endTime"]


async def test_job_wall_clock_limit(emu: Emulator) -> None:
    await ready_pool(emu, count=1)
    record = job(emu, constraints={"maxWallClockTime": "PT10S"})
    tasks(emu, "j1", task_body("t1", "sleep 100"), task_body("t2", "sleep 1"))
    await advance(emu, 10.0)
    assert record.data["state"] == "completed"
    assert record.data["executionInfo"]["terminateReason"] == "MaxWallClockTimeExpiry"
    assert states(emu) == {"t1": "completed", "t2": "active"}, "active tasks stay active"


@pytest.mark.parametrize(
    ("option", "t1_state"), [("requeue", "active"), ("terminate", "completed"), ("wait", "running")]
)
async def test_job_disable_options(emu: Emulator, option: str, t1_state: str) -> None:
    await ready_pool(emu, count=1)
    record = job(emu)
    tasks(emu, "j1", task_body("t1", "sleep 3"), task_body("t2", "sleep 1"))
    await advance(emu, 0.5)
    record.data["state"] = "disabling"
    emu.engine.job_disabled(record, option)
    await emu.engine.tick()
    assert task(emu, "j1", "t1").data["state"] == t1_state
    expected = "disabling" if option == "wait" else "disabled"
    assert record.data["state"] == expected
    await advance(emu, 4.0)
    assert record.data["state"] == "disabled"
    assert task(emu, "j1", "t2").data["state"] == "active", "a disabled job starts nothing"
    emu.engine.job_enabled(record)
    await advance(emu, 0.5)
    assert record.data["state"] == "active"
    await until(emu, lambda: task(emu, "j1", "t2").data["state"] == "completed")


async def test_terminate_and_delete_a_job(emu: Emulator) -> None:
    await ready_pool(emu, count=1)
    record = job(emu)
    tasks(emu, "j1", task_body("t1", "sleep 30"), task_body("t2", "sleep 1"))
    await advance(emu, 0.5)
    node = nodes(emu)[0]
    record.data["state"] = "terminating"
    emu.engine.job_terminated(record, "UserTerminate")
    await emu.engine.tick()
    assert record.data["state"] == "completed"
    assert record.data["executionInfo"]["terminateReason"] == "UserTerminate"
    assert states(emu) == {"t1": "completed", "t2": "active"}
    assert any("workitems/j1" in e.name for e in emu.engine.node_files(node).list(True))
    record.data["state"] = "deleting"
    emu.engine.job_deleted(record)
    await emu.engine.tick()
    assert "j1" not in emu.store.jobs and not emu.store.tasks.get("j1")
    assert not any("workitems/j1" in e.name for e in emu.engine.node_files(node).list(True))


async def test_prep_runs_once_per_node_and_release_at_the_end(emu: Emulator) -> None:
    await ready_pool(emu, count=2)
    record = job(emu, jobPreparationTask=PREP, jobReleaseTask=RELEASE)
    tasks(emu, "j1", *(task_body(f"t{i}", "sleep 1") for i in range(4)))
    await advance(emu, 0.5)
    assert sorted(states(emu).values()) == ["active", "active", "preparing", "preparing"]
    status = emu.engine.job_prep_release_status(record)
    assert len(status) == 2
    assert {s["jobPreparationTaskExecutionInfo"]["state"] for s in status} == {"running"}
    await advance(emu, 2.0)
    assert sorted(states(emu).values()) == ["active", "active", "running", "running"]
    first_runs = [s["jobPreparationTaskExecutionInfo"]["startTime"] for s in status]
    await advance(emu, 1.0)
    assert sorted(states(emu).values()) == ["completed", "completed", "running", "running"]
    await until(emu, lambda: set(states(emu).values()) == {"completed"})
    again = emu.engine.job_prep_release_status(record)
    assert [s["jobPreparationTaskExecutionInfo"]["startTime"] for s in again] == first_runs
    for item in emu.engine.job_prep_release_status(record):
        prep = item["jobPreparationTaskExecutionInfo"]
        assert (prep["state"], prep["exitCode"], prep["retryCount"]) == ("completed", 0, 0)
        assert prep["taskRootDirectory"] == "workitems/j1/job-1/prep"
        assert item["nodeUrl"].endswith(f"/pools/p1/nodes/{item['nodeId']}")
        assert "jobReleaseTaskExecutionInfo" not in item
    emu.engine.job_terminated(record, "UserTerminate")
    await emu.engine.tick()
    assert record.data["state"] == "terminating", "waits for the release tasks"
    await advance(emu, 1.0)
    assert record.data["state"] == "completed"
    releases = [
        s["jobReleaseTaskExecutionInfo"] for s in emu.engine.job_prep_release_status(record)
    ]
    assert [(r["state"], r["exitCode"]) for r in releases] == [("completed", 0)] * 2


async def test_failed_prep_sends_the_task_back_and_bars_the_node(emu: Emulator) -> None:
    await ready_pool(emu, count=2)
    bad = {
        "id": "prep",
        "commandLine": "/bin/sh -c 'exit 9'",
        "constraints": {"maxTaskRetryCount": 1},
    }
    record = job(emu, jobPreparationTask=bad)
    tasks(emu, "j1", task_body("t1", "sleep 1"))
    await until(emu, lambda: len(emu.engine.job_prep_release_status(record)) == 2)
    statuses = emu.engine.job_prep_release_status(record)
    await until(
        emu,
        lambda: all(
            s["jobPreparationTaskExecutionInfo"]["state"] == "completed"
            for s in emu.engine.job_prep_release_status(record)
        ),
    )
    for item in emu.engine.job_prep_release_status(record):
        prep = item["jobPreparationTaskExecutionInfo"]
        assert (prep["exitCode"], prep["retryCount"], prep["result"]) == (9, 1, "failure")
    assert len(statuses) == 2, "the task was tried on the other node too"
    await advance(emu, 5.0)
    assert task(emu, "j1", "t1").data["state"] == "active"


async def test_prep_rerun_after_reboot_follows_the_setting(emu: Emulator) -> None:
    await ready_pool(emu, count=1)
    prep = {**PREP, "rerunOnNodeRebootAfterSuccess": False}
    job(emu, jobPreparationTask=prep)
    tasks(emu, "j1", task_body("t1", "sleep 1"))
    await until(emu, lambda: task(emu, "j1", "t1").data["state"] == "completed")
    (node,) = nodes(emu)
    emu.engine.node_action(node, "reboot", None)
    await until(emu, lambda: node.data["state"] == "idle")
    tasks(emu, "j1", task_body("t2", "sleep 1"))
    await advance(emu, 0.5)
    assert task(emu, "j1", "t2").data["state"] == "running", "no rerun after a reboot"
    await until(emu, lambda: task(emu, "j1", "t2").data["state"] == "completed")
    emu.engine.node_action(node, "reimage", None)
    await until(emu, lambda: node.data["state"] == "idle")
    tasks(emu, "j1", task_body("t3", "sleep 1"))
    await advance(emu, 0.5)
    assert task(emu, "j1", "t3").data["state"] == "preparing", "a reimage always reruns it"
    assert node_of(emu, task(emu, "j1", "t3")) == node.id


async def test_status_without_a_prep_task_is_a_conflict(emu: Emulator) -> None:
    record = job(emu)
    with pytest.raises(ServiceError) as err:
        emu.engine.job_prep_release_status(record)
    assert (err.value.status, err.value.code) == (409, "JobPreparationTaskNotSpecified")
