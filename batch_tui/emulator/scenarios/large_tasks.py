"""Provides the task half of the `large` scenario: jobs of many tasks with a real-looking past.

Each task is built as `add` builds one (`build_task`), a collection of 100 at a time sharing a
creation time, then patched into its final state: completed ones ran roughly in order after
the submission, a few minutes each, on the pool's nodes, some failing in one of the ways of
`large_failures` (exit code, `failureInfo` and a `stderr.txt` the simulated executor serves);
the rest wait, `active`. `tasks_added` then queues the active ones with the
scheduler, which places them on free slots on its next tick.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from batch_tui.emulator.base.times import iso
from batch_tui.emulator.engine.exitrules import set_result
from batch_tui.emulator.engine.runtime import TASK_ENDED, failure
from batch_tui.emulator.node.executors.simulated import SimulatedExecutor
from batch_tui.emulator.node.files import task_dir
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.tasks import build_task
from batch_tui.emulator.scenarios.large_failures import FailureKind, pick_failure, stdout_lines
from batch_tui.emulator.scenarios.large_nodes import HISTORY_HOURS, backdate
from batch_tui.emulator.scenarios.shell import sh
from batch_tui.emulator.state.store import NodeRecord, Record, TaskRecord

SUBMIT_MINUTES = 10.0
"""How long a job's submitter took to add all its tasks."""

ADD_COLLECTION_LIMIT = 100
"""Tasks per add-collection call (the service's maximum): a job's tasks arrive in such batches."""


@dataclass(frozen=True)
class JobPlan:
    """How one job of the scenario looks: its pool, size and progress."""

    id: str
    display_name: str
    pool: int
    """The index of its pool in the scenario's pool plans."""
    share: float
    """Its task count as a part of the big job's."""
    done: float
    """The part of its tasks that completed."""
    failed: float
    """The part of its completed tasks that failed."""
    minimum: int = 10
    extra: dict[str, Any] = field(default_factory=dict)
    """More JobAddParameter properties."""


@dataclass
class _Timeline:
    """The big picture of one job's history: when it was submitted and how far it got."""

    rng: random.Random
    start: datetime
    now: datetime

    def __post_init__(self) -> None:
        self.submitted = self.created(1.0)
        self.window = self.now - self.submitted - timedelta(minutes=5)
        self.last_end = self.now - timedelta(seconds=10)

    def created(self, position: float) -> datetime:
        return self.start + timedelta(minutes=SUBMIT_MINUTES * position)

    def run(self, position: float, done: float) -> tuple[datetime, datetime]:
        """Returns (start, end) of a completed task at `position` of a job `done` complete:
        tasks ran roughly in order, from the end of the submission until a few minutes ago."""
        offset = self.rng.uniform(-120, 120)
        begin = self.submitted + self.window * (position / done) + timedelta(seconds=offset)
        begin = max(begin, self.created(position) + timedelta(seconds=1))
        seconds = min(max(self.rng.lognormvariate(math.log(240), 0.5), 20.0), 2400.0)
        end = min(begin + timedelta(seconds=seconds), self.last_end)
        return min(begin, end - timedelta(seconds=1)), end


def _is_done(position: float, done: float, rng: random.Random) -> bool:
    """Whether the task at `position` completed: all before the frontier, none after it, and a
    band around it where tasks finished out of order."""
    band = 0.1 * done
    low, high = done - band / 2, done + band / 2
    if position < low or done >= 1.0:
        return True
    if position >= high:
        return False
    return rng.random() < (high - position) / band


def _node_info(emu: Emulator, node: NodeRecord, pool_id: str) -> dict[str, Any]:
    url = emu.urls.of(f"/pools/{pool_id}/nodes/{node.id}")
    return {
        "affinityId": node.data["affinityId"],
        "nodeUrl": url,
        "poolId": pool_id,
        "nodeId": node.id,
    }


@dataclass
class _JobSeed:
    """What every task of one job needs while it is being built."""

    job: Record
    plan: JobPlan
    nodes: list[NodeRecord]
    infos: list[dict[str, Any]]
    """Each node's nodeInfo without the task's own directory (copied per task)."""
    timeline: _Timeline
    retries: int
    executor: SimulatedExecutor | None
    """Serves the failed runs' files (None under another executor: they have none)."""

    @property
    def rng(self) -> random.Random:
        return self.timeline.rng


def _task(seed: _JobSeed, index: int, count: int, created: tuple[datetime, str]) -> TaskRecord:
    rng = seed.rng
    seconds = 240 + int(rng.random() * 1260)  # how long it runs if the engine runs it
    body = {
        "id": f"task-{index:06d}",
        "commandLine": sh(f"echo processing item {index}; sleep {seconds}"),
        "environmentSettings": [{"name": "ITEM", "value": str(index)}],
    }
    task = build_task(seed.job, body, created[1])
    task.data["stateTransitionTime"] = created[1]
    task.last_modified = created[0]
    position = index / count
    if _is_done(position, seed.plan.done, rng):
        _complete(seed, task, position)
    return task


def _tasks(seed: _JobSeed, count: int) -> list[TaskRecord]:
    """Builds the tasks of a job, added a collection at a time: each collection's tasks share
    their creation time, as they do on the service."""
    records: list[TaskRecord] = []
    for first in range(0, count, ADD_COLLECTION_LIMIT):
        when = seed.timeline.created(first / count)
        created = (when, iso(when))
        last = min(first + ADD_COLLECTION_LIMIT, count)
        records.extend(_task(seed, index, count, created) for index in range(first, last))
    return records


def _complete(seed: _JobSeed, task: TaskRecord, position: float) -> None:
    rng = seed.rng
    data, info = task.data, task.data["executionInfo"]
    if rng.random() < 0.003:  # terminated by a user before it ran: no exit code, no node
        end = seed.timeline.run(position, seed.plan.done)[1]
        info["endTime"] = iso(end)
        set_result(info, None, failure(*TASK_ENDED))
        data.update(previousState="active", previousStateTransitionTime=data["creationTime"])
    else:
        begin, end = seed.timeline.run(position, seed.plan.done)
        pick = rng.randrange(len(seed.nodes))
        info.update(startTime=iso(begin), endTime=iso(end))
        kind = _failure(seed, info, begin, rng)
        code = 0 if kind is None else kind.exit_code
        set_result(info, code, None if kind is None else kind.failure_info)
        if kind is not None and kind.one_node:
            pick = len(seed.nodes) // 2  # the bad node: the same one every time
        rel = task_dir(seed.job.id, task.id)
        if kind is not None and seed.executor is not None:
            index = int(task.id.rpartition("-")[2])
            output = (stdout_lines(index), kind.stderr(rng, index, end))
            node_id = seed.infos[pick]["nodeId"]
            seed.executor.record_past_run(node_id, rel, (begin, end), code, output)
        node_info = seed.infos[pick]
        url = f"{node_info['nodeUrl']}/files/{rel}"
        data["nodeInfo"] = {**node_info, "taskRootDirectory": rel, "taskRootDirectoryUrl": url}
        _count_run(seed.nodes[pick], code == 0)
        data.update(previousState="running", previousStateTransitionTime=iso(begin))
    data.update(state="completed", stateTransitionTime=iso(end))
    task.last_modified = end


def _failure(
    seed: _JobSeed, info: dict[str, Any], begin: datetime, rng: random.Random
) -> FailureKind | None:
    """How the task failed, or None when it succeeded."""
    if rng.random() < seed.plan.failed:
        if seed.retries:
            info.update(retryCount=seed.retries, lastRetryTime=iso(begin))
        return pick_failure(rng)
    if rng.random() < 0.01:  # succeeded on its second try
        info.update(retryCount=1, lastRetryTime=iso(begin))
    elif rng.random() < 0.005:  # its first node went away (a preempted spot node)
        info.update(requeueCount=1, lastRequeueTime=iso(begin - timedelta(minutes=3)))
    return None


def _count_run(node: NodeRecord, succeeded: bool) -> None:
    node.data["totalTasksRun"] += 1
    if succeeded:
        node.data["totalTasksSucceeded"] += 1


def seed_job(
    emu: Emulator, plan: JobPlan, count: int, nodes: list[NodeRecord], *, seed: int = 0
) -> Record:
    """Creates a job of `count` tasks on the pool of `nodes`, `plan.done` of them completed.

    Args:
        emu: The emulator.
        plan: The job's id, progress and failure rate.
        count: How many tasks.
        nodes: The nodes of its pool, at least one (completed tasks ran on them).
        seed: Makes the states and timings repeat.

    Returns:
        The job; its active tasks are queued with the scheduler.
    """
    now = emu.clock.now()
    if not nodes:
        raise ValueError(f"job {plan.id!r} needs the nodes of its pool")
    pool_id = emu.store.pools[nodes[0].pool_key].id
    body = {"id": plan.id, "displayName": plan.display_name, "poolInfo": {"poolId": pool_id}}
    job = add_job(emu, {**body, **plan.extra})
    start = now - timedelta(hours=HISTORY_HOURS - 0.5)
    backdate(job, start)
    job.data["executionInfo"]["startTime"] = iso(start)
    timeline = _Timeline(random.Random(f"{seed}/{plan.id}"), start, now)
    retries = int(job.data["constraints"]["maxTaskRetryCount"])
    infos = [_node_info(emu, node, pool_id) for node in nodes]
    executor = emu.engine.executor
    simulated = executor if isinstance(executor, SimulatedExecutor) else None
    job_seed = _JobSeed(job, plan, nodes, infos, timeline, retries, simulated)
    records = _tasks(job_seed, count)
    _store_tasks(emu, job, records)
    return job


def _store_tasks(emu: Emulator, job: Record, records: list[TaskRecord]) -> None:
    table = emu.store.job_tasks(job.id.lower())
    for record in records:
        stamp = record.last_modified
        emu.store.touch(record)  # a fresh ETag; the time it last changed stays in the past
        record.last_modified = stamp
        table[record.id.lower()] = record
    emu.engine.tasks_added(job, records)
