"""Tests the `large` scenario at a smaller size: the mix of states, the wire shape, paging at
1,000, state filters, and that its waiting tasks really run on the engine."""

from __future__ import annotations

import gc
import json
from collections import Counter
from datetime import timedelta
from functools import cache
from typing import Any

import httpx
import pytest

from batch_tui.batch.models import Node, Task, decode_page
from batch_tui.cli import build_parser
from batch_tui.emulator import Emulator
from batch_tui.emulator.base.times import parse_iso
from batch_tui.emulator.scenarios.catalog import SCENARIOS, scenario
from batch_tui.emulator.scenarios.large import (
    LARGE_JOB,
    POOL_PLANS,
    LargeSummary,
    seed_large,
    seed_large_scenario,
    seed_million_scenario,
)
from tests.emulator.support import SHARED, Settle

NODES = 200
TASKS = 5000
SPEC = SHARED / "spec" / "batch-2024-07-01.20.0" / "BatchService.json"


@pytest.fixture
def summary(emulator: Emulator) -> LargeSummary:
    return seed_large(emulator, nodes=NODES, tasks=TASKS, seed=3)


def task_states(emulator: Emulator, job: str = LARGE_JOB) -> Counter[str]:
    return Counter(t.data["state"] for t in emulator.store.job_tasks(job).values())


def node_states(emulator: Emulator) -> Counter[str]:
    nodes = [n for pool in emulator.store.nodes.values() for n in pool.values()]
    return Counter(n.data["state"] for n in nodes)


@cache
def definitions() -> dict[str, Any]:
    return dict(json.loads(SPEC.read_text(encoding="utf-8"))["definitions"])


def check_shape(value: Any, definition: str, where: str = "") -> None:
    """Fails when `value` has a property its spec definition lacks, at any depth."""
    props = definitions()[definition].get("properties", {})
    for key, item in value.items():
        assert key in props, f"{where}{key} is not a property of {definition}"
        prop = props[key]
        target = prop.get("$ref") or prop.get("items", {}).get("$ref")
        if target and definitions()[target.split("/")[-1]].get("properties"):
            for element in item if isinstance(item, list) else [item]:
                check_shape(element, target.split("/")[-1], f"{where}{key}.")


async def list_all(http: httpx.AsyncClient, path: str, **query: str) -> list[dict[str, Any]]:
    """Follows `odata.nextLink` to the end; checks every page is full but the last."""
    pages: list[list[dict[str, Any]]] = []
    response = await http.get(path, params={"maxresults": "1000", **query})
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["value"])
        if "odata.nextLink" not in body:
            break
        response = await http.get(body["odata.nextLink"])
    assert all(len(page) == 1000 for page in pages[:-1])
    return [item for page in pages for item in page]


def test_scenario_is_registered() -> None:
    assert "large" in SCENARIOS
    assert scenario("large") == (seed_large_scenario, None)
    args = build_parser().parse_args(["emulator", "--scenario", "large", "--executor", "simulated"])
    assert args.scenario == "large"


async def test_seeds_a_mix_of_node_and_task_states(
    emulator: Emulator, summary: LargeSummary
) -> None:
    assert sum(summary.pools.values()) == NODES
    assert list(summary.pools) == [plan.id for plan in POOL_PLANS]
    assert summary.jobs[LARGE_JOB] == TASKS and len(summary.jobs) == 4
    nodes = node_states(emulator)
    assert {"idle", "offline", "starttaskfailed", "unusable", "preempted"} <= set(nodes)
    tasks = task_states(emulator)
    assert tasks["completed"] > TASKS // 2 and tasks["active"] > TASKS // 4
    await emulator.engine.tick()  # the scheduler places waiting tasks on the free slots
    tasks = task_states(emulator)
    assert tasks["running"] > 0 and tasks["running"] + tasks["active"] > TASKS // 4
    assert node_states(emulator)["running"] > 0
    counts = Counter(
        t.data["executionInfo"].get("result") for t in emulator.store.job_tasks(LARGE_JOB).values()
    )
    # The big job fails a sixth of its completed tasks (10,000 of 60,000: failure triage).
    assert 0.1 < counts["failure"] / tasks["completed"] < 0.25


async def test_completed_tasks_have_real_looking_history(
    emulator: Emulator, summary: LargeSummary
) -> None:
    now = emulator.clock.now()
    done = [t.data for t in emulator.store.job_tasks(LARGE_JOB).values() if "endTime" in
            t.data["executionInfo"]]  # fmt: skip
    starts = [parse_iso(d["executionInfo"]["startTime"]) for d in done if "nodeInfo" in d]
    assert min(starts) < now - timedelta(hours=4) and max(starts) > now - timedelta(hours=1)
    for data in done:
        info = data["executionInfo"]
        end = parse_iso(info["endTime"])
        assert parse_iso(data["creationTime"]) <= end <= now
        assert data["stateTransitionTime"] == info["endTime"]
        if "nodeInfo" in data:
            assert parse_iso(data["creationTime"]) < parse_iso(info["startTime"]) < end
        if info["result"] == "failure":
            assert info["failureInfo"]["code"] in ("FailureExitCode", "TaskEnded")
            # A process ran (it has an exit code) unless the task was ended before it ran;
            # one ended by its wall-clock limit was killed (137).
            assert ("exitCode" in info) == ("nodeInfo" in data)
            if info["failureInfo"]["code"] == "TaskEnded" and "exitCode" in info:
                assert info["exitCode"] == 137
        else:
            assert info["exitCode"] == 0 and "failureInfo" not in info


async def test_lists_page_at_1000_in_the_spec_shape(
    http: httpx.AsyncClient, emulator: Emulator, summary: LargeSummary
) -> None:
    await emulator.engine.tick()
    tasks = await list_all(http, f"/jobs/{LARGE_JOB}/tasks")
    assert len(tasks) == TASKS
    assert len({t["id"] for t in tasks}) == TASKS
    for task in tasks:
        check_shape(task, "CloudTask")
    pool = POOL_PLANS[0].id
    nodes: list[dict[str, Any]] = []
    for pool_id, count in summary.pools.items():
        found = await list_all(http, f"/pools/{pool_id}/nodes")
        assert len(found) == count
        nodes += found
    for node in nodes:
        check_shape(node, "ComputeNode")
    # Our client's models read what matters from it.
    page = decode_page(json.dumps({"value": tasks}).encode(), Task).value
    failed = [t for t in page if t.execution_info and t.execution_info.result == "failure"]
    assert any(t.execution_info and t.execution_info.exit_code == 137 for t in failed)
    running = [t for t in page if t.state == "running"]
    assert running and all(t.node_info and t.node_info.pool_id == pool for t in running)
    decoded = decode_page(json.dumps({"value": nodes}).encode(), Node).value
    assert any(n.state == "starttaskfailed" and n.errors for n in decoded)


async def test_state_filters_select_and_page(
    http: httpx.AsyncClient, emulator: Emulator, summary: LargeSummary
) -> None:
    await emulator.engine.tick()
    states = task_states(emulator)
    path = f"/jobs/{LARGE_JOB}/tasks"
    for state in ("active", "running", "completed"):
        found = await list_all(
            http, path, **{"$filter": f"state eq '{state}'", "$select": "id,state"}
        )
        assert len(found) == states[state]
        assert {t["state"] for t in found} == {state} and set(found[0]) == {"id", "state"}
    failed = await list_all(http, path, **{"$filter": "executionInfo/result eq 'failure'"})
    assert failed and all(t["executionInfo"]["result"] == "failure" for t in failed)
    offline: list[dict[str, Any]] = []
    for pool_id in summary.pools:
        offline += await list_all(
            http, f"/pools/{pool_id}/nodes", **{"$filter": "state eq 'offline'"}
        )
    assert len(offline) == node_states(emulator)["offline"] > 0
    assert all(n["schedulingState"] == "disabled" for n in offline)


async def test_a_delta_filter_returns_only_what_moved(
    http: httpx.AsyncClient, emulator: Emulator, summary: LargeSummary
) -> None:
    since = emulator.clock.now() - timedelta(seconds=1)
    await emulator.engine.tick()
    stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    moved = await list_all(http, f"/jobs/{LARGE_JOB}/tasks",
                           **{"$filter": f"stateTransitionTime ge datetime'{stamp}'"})  # fmt: skip
    # Only the tasks the engine just placed changed; the seeded history is in the past.
    states = task_states(emulator)
    assert len(moved) == states["running"] and {t["state"] for t in moved} == {"running"}


async def test_running_tasks_finish_and_waiting_ones_start(
    emulator: Emulator, summary: LargeSummary, settle: Settle
) -> None:
    await emulator.engine.tick()
    first = {
        k for k, t in emulator.store.job_tasks(LARGE_JOB).items() if t.data["state"] == "running"
    }
    tasks = emulator.store.job_tasks(LARGE_JOB)

    def moved_on() -> bool:
        finished = any(tasks[k].data["state"] == "completed" for k in first)
        started = any(t.data["state"] == "running" and k not in first for k, t in tasks.items())
        return finished and started

    await settle(moved_on)
    ended = next(tasks[k].data for k in first if tasks[k].data["state"] == "completed")
    assert ended["executionInfo"]["result"] in ("success", "failure")
    assert ended["nodeInfo"]["poolId"] == POOL_PLANS[0].id


def test_the_scenario_refuses_the_local_executor(emulator: Emulator) -> None:
    emulator.settings.executor = "local"
    with pytest.raises(ValueError, match="--executor simulated"):
        seed_large_scenario(emulator)
    assert not emulator.store.pools


async def test_seeded_nodes_take_node_actions(
    http: httpx.AsyncClient, emulator: Emulator, summary: LargeSummary, settle: Settle
) -> None:
    nodes = [n for pool in emulator.store.nodes.values() for n in pool.values()]
    failed = next(n for n in nodes if n.data["state"] == "starttaskfailed")
    offline = next(n for n in nodes if n.data["state"] == "offline")
    pool_of = {n.id: emulator.store.pools[n.pool_key].id for n in (failed, offline)}
    reboot = await http.post(f"/pools/{pool_of[failed.id]}/nodes/{failed.id}/reboot")
    assert reboot.status_code == 202
    enable = await http.post(f"/pools/{pool_of[offline.id]}/nodes/{offline.id}/enablescheduling")
    assert enable.status_code == 200
    usable = ("idle", "running")
    await settle(lambda: failed.data["state"] in usable and offline.data["state"] in usable)
    assert failed.data["startTaskInfo"]["result"] == "success" and "errors" not in failed.data


async def test_failed_tasks_have_the_stderr_of_their_kind_of_failure(
    emulator: Emulator, summary: LargeSummary
) -> None:
    failed = [
        task
        for task in emulator.store.job_tasks(LARGE_JOB).values()
        if task.data["executionInfo"].get("result") == "failure" and "nodeInfo" in task.data
    ]
    last_lines: dict[int, set[str]] = {}
    for task in failed:
        tree = emulator.engine.task_files(task)
        stderr = b"".join(tree.read("stderr.txt", 0, None)).decode()
        code = task.data["executionInfo"]["exitCode"]
        last_lines.setdefault(code, set()).add(stderr.splitlines()[-1])
    assert {1, 2, 137, 139} <= set(last_lines)
    # The numbers vary from task to task, as in real logs: triage normalises them.
    assert len(last_lines[137]) > 1
    assert any("Segmentation fault" in line for line in last_lines[139])
    # The disk-full failures all ran on one node.
    full = {
        task.data["nodeInfo"]["nodeId"]
        for task in failed
        if "No space left"
        in b"".join(emulator.engine.task_files(task).read("stderr.txt", 0, None)).decode()
    }
    assert len(full) == 1


def test_the_million_task_scenario_is_registered() -> None:
    assert "large-1m" in SCENARIOS
    assert scenario("large-1m") == (seed_million_scenario, None)
    args = build_parser().parse_args(["emulator", "--scenario", "large-1m"])
    assert args.scenario == "large-1m"


async def test_the_million_task_scenario_grows_only_the_big_job(
    http: httpx.AsyncClient, emulator: Emulator
) -> None:
    try:
        seed_million_scenario(emulator, tasks=TASKS + 1)  # its full size is 1,000,000
        # The records are out of the collector's sight: its full passes do not walk them.
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert frozen > TASKS
    sizes = {job: len(emulator.store.job_tasks(job)) for job in emulator.store.tasks}
    # The smaller jobs keep their size in the `large` scenario (sized from 100,000 tasks).
    assert sizes == {LARGE_JOB: TASKS + 1, "etl-nightly": 2000, "spot-sweep": 3000,
                     "gpu-train": 24}  # fmt: skip
    tasks = task_states(emulator)
    assert tasks["completed"] > TASKS // 2 and tasks["active"] > TASKS // 4
    listed = await list_all(http, f"/jobs/{LARGE_JOB}/tasks", **{"$select": "id,state"})
    assert len(listed) == TASKS + 1
    assert listed[-1]["id"] == f"task-{TASKS:06d}"


def test_the_million_task_scenario_refuses_the_local_executor(emulator: Emulator) -> None:
    emulator.settings.executor = "local"
    with pytest.raises(ValueError, match="--executor simulated"):
        seed_million_scenario(emulator, tasks=10)
    assert not emulator.store.pools
