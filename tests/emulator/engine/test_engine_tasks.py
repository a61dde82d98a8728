"""Tests task operations and real execution: terminate, reactivate, delete, wall-clock limits,
the `local` executor end to end, the engine loop, and simulated determinism at scale."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from batch_tui.emulator import Emulator, build_emulator
from batch_tui.emulator.base.clock import Clock
from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.settings import EmulatorSettings, Timings
from batch_tui.emulator.ops.tasks import add_tasks
from tests import polling
from tests.emulator.engine_support import (
    advance,
    job,
    make_emulator,
    nodes,
    pool,
    ready_pool,
    states,
    stop,
    task,
    task_body,
    tasks,
    until,
)


def read(emu: Emulator, job_id: str, task_id: str, name: str) -> bytes:
    tree = emu.engine.task_files(task(emu, job_id, task_id))
    return b"".join(tree.read(name, 0, None))


async def test_terminate_a_running_and_an_active_task(emu: Emulator) -> None:
    await ready_pool(emu, count=1)
    job(emu)
    running, waiting = tasks(emu, "j1", task_body("t1", "sleep 30"), task_body("t2", "sleep 1"))
    await advance(emu, 0.5)
    emu.engine.task_terminated(running)
    emu.engine.task_terminated(waiting)
    for record, code in ((running, 137), (waiting, None)):
        info = record.data["executionInfo"]
        assert record.data["state"] == "completed"
        assert info.get("exitCode") == code
        assert info["failureInfo"]["code"] == "TaskEnded"
        assert info["failureInfo"]["message"] == "Task Was Ended by User Request"
    assert record.data["previousState"] == "active"
    assert nodes(emu)[0].data["state"] == "idle"


async def test_reactivate_runs_a_failed_task_again(emu: Emulator) -> None:
    await ready_pool(emu, count=1)
    job(emu)
    (record,) = tasks(
        emu, "j1", task_body("t1", "/bin/sh -c 'exit 2'", constraints={"maxTaskRetryCount": 1})
    )
    await until(emu, lambda: record.data["state"] == "completed")
    assert record.data["executionInfo"]["retryCount"] == 1
    emu.engine.task_reactivated(record)
    info = record.data["executionInfo"]
    assert record.data["state"] == "active"
    assert info["retryCount"] == 0 and "exitCode" not in info and "failureInfo" not in info
    await advance(emu, 0.5)
    assert record.data["state"] == "running"


async def test_delete_a_running_task_frees_its_node_and_files(emu: Emulator) -> None:
    await ready_pool(emu, count=1)
    job(emu)
    (record,) = tasks(emu, "j1", task_body("t1", "sleep 30"))
    await advance(emu, 0.5)
    node = nodes(emu)[0]
    assert any(e.name.endswith("t1/stdout.txt") for e in emu.engine.node_files(node).list(True))
    emu.engine.task_deleted(record)
    assert "t1" not in emu.store.job_tasks("j1")
    assert node.data["state"] == "idle"
    assert not any("t1" in e.name for e in emu.engine.node_files(node).list(True))


async def test_task_wall_clock_limit_and_its_update(emu: Emulator) -> None:
    await ready_pool(emu, count=2)
    job(emu)
    limited, updated = tasks(
        emu,
        "j1",
        task_body("t1", "sleep 100", constraints={"maxWallClockTime": "PT5S"}),
        task_body("t2", "sleep 100"),
    )
    await advance(emu, 1.0)
    updated.data["constraints"]["maxWallClockTime"] = "PT3S"
    emu.engine.task_updated(updated)
    await advance(emu, 2.5)
    assert updated.data["state"] == "completed"
    assert limited.data["state"] == "running"
    await advance(emu, 2.0)
    info = limited.data["executionInfo"]
    assert limited.data["state"] == "completed" and info["exitCode"] == 137
    assert info["failureInfo"]["code"] == "TaskEnded"
    assert info["failureInfo"]["details"][0]["value"].startswith("The maximum execution time")


async def test_task_files_before_and_after_running(emu: Emulator) -> None:
    await ready_pool(emu, count=1)
    job(emu)
    (record,) = tasks(emu, "j1", task_body("t1", "/bin/sh -c 'echo simulated hello'"))
    with pytest.raises(ServiceError) as err:
        emu.engine.task_files(record)
    assert err.value.status == 404
    await until(emu, lambda: record.data["state"] == "completed")
    assert b"simulated hello" in read(emu, "j1", "t1", "stdout.txt")
    assert emu.engine.subtasks(record) == []


async def test_simulated_runs_are_deterministic(tmp_path: Path) -> None:
    outcomes = []
    for run in ("a", "b"):
        emu = make_emulator(tmp_path / run)
        await ready_pool(emu, count=4)
        job(emu)
        tasks(emu, "j1", *(task_body(f"t{i}", "work") for i in range(60)))
        await until(emu, lambda emu=emu: set(states(emu).values()) == {"completed"})
        outcomes.append(
            {
                t.id: (t.data["executionInfo"]["exitCode"], t.data["executionInfo"]["endTime"])
                for t in emu.store.job_tasks("j1").values()
            }
        )
        await stop(emu)
    assert outcomes[0] == outcomes[1]
    assert any(code != 0 for code, _ in outcomes[0].values()) or len(outcomes[0]) == 60


async def test_many_simulated_tasks_are_cheap(emu: Emulator) -> None:
    pool(emu, nodes=100, taskSlotsPerNode=4)
    job(emu)
    started = time.perf_counter()
    for batch in range(50):
        add_tasks(emu, "j1", [task_body(f"t{batch}-{i}", "sleep 1") for i in range(100)])
    done = emu.store.job_tasks("j1").values()
    await until(emu, lambda: all(t.data["state"] == "completed" for t in done), step=1.0)
    assert time.perf_counter() - started < 15, "work must stay proportional to what changes"


async def test_local_task_runs_for_real(local: Emulator) -> None:
    await ready_pool(local, count=1)
    job(local, commonEnvironmentSettings=[{"name": "FROM_JOB", "value": "j"}])
    command = "/bin/sh -c 'echo \"$AZ_BATCH_TASK_ID $FROM_JOB $MINE\"; echo err >&2; exit 3'"
    (record,) = tasks(
        local, "j1", task_body("t1", command, environmentSettings=[{"name": "MINE", "value": "m"}])
    )
    await until(local, lambda: record.data["state"] == "completed")
    info = record.data["executionInfo"]
    assert (info["exitCode"], info["result"]) == (3, "failure")
    assert read(local, "j1", "t1", "stdout.txt") == b"t1 j m\n"
    assert read(local, "j1", "t1", "stderr.txt") == b"err\n"


async def test_local_missing_program_fails_the_task_not_the_emulator(local: Emulator) -> None:
    await ready_pool(local, count=1)
    record = job(local, onTaskFailure="performexitoptionsjobaction")
    conditions = {"preProcessingError": {"jobAction": "disable"}}
    (bad,) = tasks(
        local, "j1", task_body("bad", "definitely-not-a-program", exitConditions=conditions)
    )
    await until(local, lambda: bad.data["state"] == "completed")
    info = bad.data["executionInfo"]
    assert info["failureInfo"]["code"] == "CommandProgramNotFound"
    assert "exitCode" not in info and info["result"] == "failure"
    assert info["retryCount"] == 0
    await until(local, lambda: record.data["state"] == "disabled")


async def test_local_terminate_kills_and_timeout_ends_a_sleep(local: Emulator) -> None:
    await ready_pool(local, count=2)
    job(local)
    killed, timed = tasks(
        local,
        "j1",
        task_body("killed", "sleep 30"),
        task_body("timed", "sleep 30", constraints={"maxWallClockTime": "PT2S"}),
    )
    await until(local, lambda: killed.data["state"] == timed.data["state"] == "running")
    local.engine.task_terminated(killed)
    assert killed.data["executionInfo"]["exitCode"] == 137
    await until(local, lambda: timed.data["state"] == "completed")
    assert timed.data["executionInfo"]["failureInfo"]["code"] == "TaskEnded"


async def test_engine_loop_runs_on_its_own_and_stop_kills_processes(tmp_path: Path) -> None:
    timings = Timings(
        tick=0.01, node_creating=0.01, node_starting=0.01, node_leaving=0.01, task_preparing=0
    )
    settings = EmulatorSettings(executor="local", data_dir=tmp_path, timings=timings)
    emu = build_emulator(settings, Clock())
    await emu.start()
    await emu.start()
    pool(emu, nodes=1)
    job(emu)
    (record,) = tasks(emu, "j1", task_body("t1", "sleep 60"))

    def started() -> bool:
        placement = emu.engine.ctx.tasks.placement(record)
        return (
            record.data["state"] == "running"
            and placement is not None
            and (placement.handle is not None)
        )

    await polling.until(started)
    handle = emu.engine.ctx.tasks.placement(record).handle
    started = time.perf_counter()
    await stop(emu)
    assert time.perf_counter() - started < 5
    assert handle.process.returncode is not None, "stop() waited for the killed process"


async def test_tick_survives_a_failing_step(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    await ready_pool(emu, count=1)
    job(emu)
    emu.engine.ctx.timers.call_later(0, lambda: 1 / 0)
    tasks(emu, "j1", task_body("t1", "sleep 1"))
    await advance(emu, 2.0)
    assert task(emu, "j1", "t1").data["state"] == "completed"
    assert "timer failed" in caplog.text


async def test_local_start_and_prep_tasks_prepare_the_node(local: Emulator) -> None:
    start = {"commandLine": "/bin/sh -c 'echo booted > \"$AZ_BATCH_NODE_SHARED_DIR/boot.txt\"'"}
    await ready_pool(local, count=1, startTask=start)
    prep = {"id": "prep", "commandLine": "/bin/sh -c 'echo prepared > prep.txt'"}
    job(local, jobPreparationTask=prep)
    command = (
        '/bin/sh -c \'cat "$AZ_BATCH_NODE_SHARED_DIR/boot.txt" '
        '"$AZ_BATCH_JOB_PREP_WORKING_DIR/prep.txt"\''
    )
    (record,) = tasks(local, "j1", task_body("t1", command))
    await until(local, lambda: record.data["state"] == "completed")
    assert record.data["executionInfo"]["exitCode"] == 0
    assert read(local, "j1", "t1", "stdout.txt") == b"booted\nprepared\n"
    node = nodes(local)[0]
    assert node.data["startTaskInfo"]["exitCode"] == 0
    names = {e.name for e in local.engine.node_files(node).list(True)}
    assert {"startup/stdout.txt", "workitems/j1/job-1/prep/wd/prep.txt"} <= names


async def test_local_multi_instance_sees_its_hosts(local: Emulator) -> None:
    await ready_pool(local, count=2)
    job(local)
    settings = {
        "numberOfInstances": 2,
        "coordinationCommandLine": "/bin/sh -c 'echo $AZ_BATCH_IS_CURRENT_NODE_MASTER'",
    }
    # The primary outlives the quick coordination command, which then ends on its own.
    command = "/bin/sh -c 'sleep 0.5; echo $AZ_BATCH_HOST_LIST $AZ_BATCH_IS_CURRENT_NODE_MASTER'"
    (record,) = tasks(local, "j1", task_body("mpi", command, multiInstanceSettings=settings))
    await until(local, lambda: record.data["state"] == "completed")
    assert read(local, "j1", "mpi", "stdout.txt") == b"10.0.0.4,10.0.0.5 true\n"
    (subtask,) = local.engine.subtasks(record)
    assert subtask["exitCode"] == 0
    helper = local.store.find_node(subtask["nodeInfo"]["nodeId"])
    assert helper is not None
    tree = local.engine.node_files(helper)
    assert b"".join(tree.read("workitems/j1/job-1/mpi/1/stdout.txt", 0, None)) == b"false\n"
