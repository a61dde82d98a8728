"""Tests the executors: real processes for `local`, the deterministic rule of `simulated`."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.engine.runtime import Timers
from batch_tui.emulator.node.executors import Outcome, RunSpec
from batch_tui.emulator.node.executors.local import LocalExecutor
from batch_tui.emulator.node.executors.simulated import FAIL_PER_MILLE, SimulatedExecutor, plan_run
from tests.polling import until

NODE = "tvmps_0000_d"


def spec(command: str, **extra: object) -> RunSpec:
    values: dict = {
        "node_id": NODE,
        "pool_id": "p1",
        "task_dir": "workitems/j1/job-1/t1",
        "command_line": command,
        "kind": "task",
        "job_id": "j1",
        "task_id": "t1",
        "env": {"AZ_BATCH_JOB_ID": "j1", "AZ_BATCH_TASK_ID": "t1"},
    }
    values.update(extra)
    return RunSpec(**values)


async def run_local(executor: LocalExecutor, run_spec: RunSpec) -> Outcome:
    done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
    await executor.launch(run_spec, done.set_result)
    return await asyncio.wait_for(done, 10)


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalExecutor]:
    executor = LocalExecutor(tmp_path)
    executor.node_created(NODE)
    yield executor
    await executor.shutdown()
    gc.collect()  # see engine_support.stop: finalizers must not run at a random later time


async def test_local_runs_without_a_shell_and_captures_output(local: LocalExecutor) -> None:
    outcome = await run_local(local, spec("/bin/sh -c 'echo hi; echo oops >&2; exit 3'"))
    assert outcome == Outcome(3)
    tree = local.tree(NODE, "workitems/j1/job-1/t1")
    assert b"".join(tree.read("stdout.txt", 0, None)) == b"hi\n"
    assert b"".join(tree.read("stderr.txt", 0, None)) == b"oops\n"
    assert tree.stat("wd").is_directory
    no_shell = await run_local(local, spec("echo $HOME"))
    assert no_shell == Outcome(0)
    assert b"".join(tree.read("stdout.txt", 0, None)) == b"$HOME\n"


async def test_local_sets_the_batch_environment_and_hides_the_emulators(
    local: LocalExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_BATCH_ACCESS_KEY", "do-not-leak")
    command = "/bin/sh -c 'env > \"$AZ_BATCH_TASK_WORKING_DIR/env.txt\"; pwd'"
    outcome = await run_local(local, spec(command, prep_dir="workitems/j1/job-1/prep"))
    assert outcome.exit_code == 0
    node = tmp_path / "nodes" / NODE
    task = node / "workitems" / "j1" / "job-1" / "t1"
    env = dict(
        line.split("=", 1)
        for line in (task / "wd" / "env.txt").read_text().splitlines()
        if "=" in line
    )
    assert env["AZ_BATCH_NODE_ROOT_DIR"] == str(node)
    assert env["AZ_BATCH_TASK_DIR"] == str(task)
    assert env["AZ_BATCH_TASK_WORKING_DIR"] == str(task / "wd")
    assert env["AZ_BATCH_NODE_SHARED_DIR"] == str(node / "shared")
    assert env["AZ_BATCH_NODE_STARTUP_DIR"] == str(node / "startup")
    assert env["AZ_BATCH_JOB_PREP_DIR"] == str(node / "workitems" / "j1" / "job-1" / "prep")
    assert env["AZ_BATCH_JOB_ID"] == "j1"
    assert "AZURE_BATCH_ACCESS_KEY" not in env
    assert (task / "stdout.txt").read_text().strip() == str(task / "wd")


async def test_local_reports_a_missing_program_as_the_service_does(local: LocalExecutor) -> None:
    outcome = await run_local(local, spec("no-such-program-xyz --flag"))
    assert outcome.exit_code is None
    assert outcome.failure is not None
    assert outcome.failure["code"] == "CommandProgramNotFound"
    assert outcome.failure["category"] == "usererror"
    unbalanced = await run_local(local, spec("/bin/sh -c 'oops"))
    assert unbalanced.failure is not None and unbalanced.failure["code"] == "CommandLaunchFailed"


async def test_local_kill_takes_the_whole_process_group(local: LocalExecutor) -> None:
    marker = "workitems/j1/job-1/t1/wd/child.pid"
    command = "/bin/sh -c 'sleep 30 & echo $! > child.pid; wait'"
    ended: list[Outcome] = []
    handle = await local.launch(spec(command), ended.append)
    pid_file = local.node_root(NODE) / marker
    await until(lambda: pid_file.exists() and bool(pid_file.read_text().strip()))
    child = int(pid_file.read_text())
    handle.kill()
    await local.shutdown()
    await until(lambda: not _alive(child), what="the background child survived the kill")
    assert ended == [], "a killed run reports no outcome"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


async def test_local_shutdown_kills_and_waits(local: LocalExecutor) -> None:
    ended: list[Outcome] = []
    await local.launch(spec("sleep 30"), ended.append)
    await asyncio.wait_for(local.shutdown(), 5)
    assert ended == []


def test_local_node_removal_deletes_its_tree(local: LocalExecutor) -> None:
    assert (local.node_root(NODE) / "shared").is_dir()
    local.node_removed(NODE)
    assert not local.node_root(NODE).exists()


def test_simulated_plan_follows_the_documented_rule() -> None:
    assert plan_run(spec("/bin/sh -c 'echo hi; exit 3'"), 2.0).exit_code == 3
    assert plan_run(spec("sleep 10"), 2.0).duration == pytest.approx(10.0)
    assert plan_run(spec("sleep 10"), 0.2).duration == pytest.approx(1.0)
    plain = plan_run(spec("run-me"), 2.0)
    assert 1.0 <= plain.duration <= 3.0
    assert plain == plan_run(spec("run-me"), 2.0), "the same task always gets the same plan"
    assert "hi" in plan_run(spec("/bin/sh -c 'echo hi'"), 2.0).stdout


def test_simulated_failures_are_a_stable_few_percent() -> None:
    codes = [plan_run(spec("work", task_id=f"task-{i}"), 2.0).exit_code for i in range(2000)]
    failed = sum(1 for code in codes if code != 0)
    assert 0.5 * FAIL_PER_MILLE * 2 <= failed <= 1.5 * FAIL_PER_MILLE * 2
    again = [plan_run(spec("work", task_id=f"task-{i}"), 2.0).exit_code for i in range(2000)]
    assert codes == again
    starts = [plan_run(spec("work", kind="start", node_id=f"n{i}"), 2.0) for i in range(200)]
    assert all(plan.exit_code == 0 for plan in starts), "start tasks only fail when told to"


async def test_simulated_run_ends_on_the_clock_and_its_files_grow() -> None:
    clock = ManualClock()
    timers = Timers(clock)
    executor = SimulatedExecutor(clock, timers.canceller, 2.0)
    ended: list[Outcome] = []
    await executor.launch(spec("/bin/sh -c 'echo hello; sleep 4; exit 2'"), ended.append)
    tree = executor.tree(NODE, "workitems/j1/job-1/t1")
    early = b"".join(tree.read("stdout.txt", 0, None))
    clock.advance(4)
    for timer in timers.pop_due():
        timer.fn()
    assert ended == [Outcome(2)]
    full = b"".join(executor.tree(NODE, "workitems/j1/job-1/t1").read("stdout.txt", 0, None))
    assert full.startswith(early) and len(full) > len(early)
    assert b"hello" in full
    stderr = executor.tree(NODE, "workitems/j1/job-1/t1").stat("stderr.txt")
    assert stderr.size > 0
