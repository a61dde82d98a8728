"""Provides the restart of an emulator from saved state: the engine's memory rebuilt from the store.

The store comes back exactly as it was written; what the engine kept only in memory (queues,
placements, timers, runs) is rebuilt here, with what a restart means on the service:

- Every node restarts, as after a reboot: a node that was booting, idle, running or offline (or
  rebooting) goes through `starting` again and reruns its start task; a reimaging node finishes
  its reimage the same way (its files are wiped); a deallocating node ends `deallocated`; a node
  leaving its pool leaves; an action that waited for the node's tasks to finish happens now (it
  has none); `deallocated`, `starttaskfailed`, `unusable` and other resting states stay; a
  preempted node comes back when it was due to (at once if that time passed). Job
  preparation results are kept or forgotten as on a reboot.
- Tasks that were `preparing` or `running` are requeued, as when their node restarts: back to
  `active` with `executionInfo.requeueCount` + 1 and `lastRequeueTime`, their run results
  cleared, and the subtasks of a multi-instance task ended. They run again once nodes are up.
- Preparation and release tasks that were running are recorded as ended (`TaskEnded`); a
  terminating job then completes.
- Jobs are queued again with their dependency state; a job's `maxWallClockTime` still counts
  from its `executionInfo.startTime`. Pools whose resize was waiting only for nodes to finish
  `creating` go `steady`; deleting pools finish deleting; autoscale pools are watched again
  (their metric samples start over).
"""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.engine.exitrules import exit_options
from batch_tui.emulator.engine.nodes import USABLE
from batch_tui.emulator.engine.runtime import TASK_ENDED, Context, failure, set_state
from batch_tui.emulator.engine.scheduler import JOB_MANAGER_ORDER, int_id
from batch_tui.emulator.engine.taskrun import EXECUTION_RESULT_FIELDS
from batch_tui.emulator.state.store import NodeRecord, Record, TaskRecord

INTERRUPTED = ("preparing", "running")
"""Task states that need a node process; a restart requeues them."""

REBOOTED = (*USABLE, "creating", "starting", "waitingforstarttask", "rebooting")
"""Node states that come back through `starting`."""

PREP_INFO = "jobPreparationTaskExecutionInfo"
RELEASE_INFO = "jobReleaseTaskExecutionInfo"


def adopt(ctx: Context) -> None:
    """Rebuilds the engine's state from a store loaded from disk, and restarts the nodes.

    Args:
        ctx: The engine's context, its store filled and nothing else started.
    """
    store = ctx.store
    for tasks in store.tasks.values():
        for task in tasks.values():
            if task.data.get("state") in INTERRUPTED:
                requeue(ctx, task)
    for job in store.jobs.values():
        _end_interrupted_runs(ctx, job)
    for pool in store.pools.values():
        ctx.sched.add_pool(pool)
    for job in store.jobs.values():
        _queue_job(ctx, job)
    for pool in list(store.pools.values()):
        _restart_nodes(ctx, pool)
    ctx.wake()


# Tasks


def requeue(ctx: Context, task: TaskRecord) -> None:
    """Sends a task that was on a node back to `active`, counting the requeue."""
    info = task.data.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
    info["requeueCount"] = int(info.get("requeueCount") or 0) + 1
    info["lastRequeueTime"] = ctx.now()
    for key in EXECUTION_RESULT_FIELDS:
        info.pop(key, None)
    for item in task.internal.get("subtasks") or []:
        _end_run(ctx, item)
    set_state(ctx, task, "active")
    ctx.touch(task)


def _end_run(ctx: Context, info: dict[str, Any]) -> bool:
    """Records a run that the restart cut short as ended; returns whether it was running."""
    if info.get("state") != "running":
        return False
    now = ctx.now()
    if "stateTransitionTime" in info:  # a subtask item keeps its state history
        info["previousState"] = info["state"]
        info["previousStateTransitionTime"] = info["stateTransitionTime"]
        info["stateTransitionTime"] = now
    info.update(state="completed", endTime=now, result="failure")
    info["failureInfo"] = failure(*TASK_ENDED)
    return True


def _end_interrupted_runs(ctx: Context, job: Record) -> None:
    ended = False
    for item in (job.internal.get("prepRelease") or {}).values():
        for field in (PREP_INFO, RELEASE_INFO):
            if isinstance(item.get(field), dict):
                ended = _end_run(ctx, item[field]) or ended
    if ended:
        ctx.touch(job)


def satisfies(task: TaskRecord) -> bool:
    """Whether a completed task satisfied its dependents: its exit conditions say so and a
    user did not terminate it (a user's terminate never satisfies)."""
    info = task.data.get("executionInfo") or {}
    code = info.get("exitCode")
    failed = info.get("failureInfo") or {}
    by_user = failed.get("code") == TASK_ENDED[0] and not failed.get("details")
    return not by_user and exit_options(task, code)[1] == "satisfy"


def _queue_job(ctx: Context, job: Record) -> None:
    """Gives a job its queue back: completions first (they satisfy dependents), then tasks."""
    key = job.id.lower()
    ctx.jobs.job_restored(job)
    queue = ctx.sched.jobs[key]
    tasks = list(ctx.store.job_tasks(key).values())
    for task in tasks:
        if task.data.get("state") == "completed" and satisfies(task):
            queue.satisfied.add(task.id.lower())
            number = int_id(task.id)
            if number is not None:
                queue.satisfied_ints.add(number)
    managers = [task for task in tasks if task.internal.get("jobManager")]
    ctx.sched.add_tasks(key, managers, rank=JOB_MANAGER_ORDER)
    ctx.sched.add_tasks(key, [task for task in tasks if not task.internal.get("jobManager")])
    _mark_ineligible(ctx, job)


def _mark_ineligible(ctx: Context, job: Record) -> None:
    """Nodes where the job's preparation task failed run none of its tasks (until reimaged)."""
    if not (job.data.get("jobPreparationTask") or {}).get("waitForSuccess", True):
        return
    key = job.id.lower()
    queue = ctx.sched.jobs[key]
    for nodes in ctx.store.nodes.values():
        for node_key, node in nodes.items():
            if (node.internal.get("prep") or {}).get(key) == "failed":
                queue.ineligible.add(node_key)


# Nodes and pools


def _restart_nodes(ctx: Context, pool: Record) -> None:
    key = pool.id.lower()
    nodes = list(ctx.store.pool_nodes(key).values())
    for node in nodes:
        ctx.executor.node_created(node.id)  # lays out (or finds) its directories
    if pool.data.get("state") == "deleting":
        ctx.alloc.pool_deleted(pool)
        return
    for node in nodes:
        _restart_node(ctx, node)
    ctx.alloc.reconcile(key)


def _restart_node(ctx: Context, node: NodeRecord) -> None:
    state = node.data.get("state")
    node.data.update(runningTasksCount=0, runningTaskSlotsCount=0)  # nothing runs any more
    if "prep" in node.internal:  # preparation results of jobs deleted meanwhile go
        prep = node.internal["prep"]
        node.internal["prep"] = {k: v for k, v in prep.items() if k in ctx.store.jobs}
    if state == "leavingpool":
        ctx.nodes.leave(node)
    elif node.internal.get("pending"):
        ctx.nodes.sync(node)  # nothing runs on it now: the action it waited for happens
    elif state == "reimaging":
        ctx.executor.node_reimaged(node.id)
        node.data.pop("startTaskInfo", None)
        _reboot(ctx, node, reimage=True)
    elif state in REBOOTED:
        _reboot(ctx, node, reimage=False)
    elif state == "deallocating":
        node.data["state"] = "deallocated"
        node.data["stateTransitionTime"] = ctx.now()
        ctx.nodes.sync(node)
    elif state == "preempted":
        ctx.nodes.resume_recovery(node)
        ctx.nodes.sync(node)
    else:
        ctx.nodes.sync(node)


def _reboot(ctx: Context, node: NodeRecord, reimage: bool) -> None:
    ctx.jobs.node_restarting(node, reimage=reimage)
    ctx.nodes.act(node, "start", None)
