"""Provides the job lifecycle: job manager, disable/enable, terminate, delete and completion.

A job ends (`terminating`, then `completed` once its running tasks are gone and its release
tasks have run) when the user terminates it, when its `constraints.maxWallClockTime` passes
(`MaxWallClockTimeExpiry`), when its job manager completes with `killJobOnCompletion`
(`JMComplete`), when all its tasks are complete and `onAllTasksComplete` is `terminatejob`
(`AllTasksComplete`), or by a task's exit condition job action (`TaskFailed`). Active tasks of an
ended job stay active and never run. `scan` runs every tick and settles the states that wait for
something (disabling -> disabled, terminating -> completed, deleting -> gone); it is O(jobs).
"""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.base.errors import conflict
from batch_tui.emulator.base.times import UNLIMITED, duration_seconds, stamp
from batch_tui.emulator.engine.preprelease import PrepRelease
from batch_tui.emulator.engine.runtime import Context, set_state
from batch_tui.emulator.engine.scheduler import JOB_MANAGER_ORDER
from batch_tui.emulator.engine.taskrun import Placement
from batch_tui.emulator.state.store import NodeRecord, Record, TaskRecord

JOB_MANAGER_FIELDS = (
    "displayName",
    "resourceFiles",
    "outputFiles",
    "environmentSettings",
    "containerSettings",
    "applicationPackageReferences",
    "userIdentity",
)
"""Job manager properties that its task carries over as they are."""

ENDED = ("terminating", "completed", "deleting")


class JobFlow:
    """Moves jobs through their states and owns their preparation and release tasks."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.prep = PrepRelease(ctx)
        self._started: dict[str, float] = {}

    # Hooks

    def job_added(self, job: Record) -> None:
        key = job.id.lower()
        now = self.ctx.now()
        info = job.data.setdefault("executionInfo", {})
        info.setdefault("startTime", job.data.get("creationTime") or now)
        pool_id = (job.data.get("poolInfo") or {}).get("poolId")
        if pool_id:
            info.setdefault("poolId", pool_id)
        self._started[key] = self.ctx.clock.monotonic()
        self.ctx.sched.add_job(job)
        existing = list(self.ctx.store.job_tasks(key).values())
        if existing:
            self.ctx.sched.add_tasks(key, existing)
        if job.data.get("jobManagerTask"):
            manager = self._job_manager_task(job)
            self.ctx.store.add(self.ctx.store.job_tasks(key), manager)
            self.ctx.sched.add_tasks(key, [manager], rank=JOB_MANAGER_ORDER)
        self.ctx.touch(job)

    def job_restored(self, job: Record) -> None:
        """Takes back a job loaded from disk (`restore`): its queue, and its wall clock still
        counting from `executionInfo.startTime`."""
        started = stamp((job.data.get("executionInfo") or {}).get("startTime"))
        elapsed = (self.ctx.clock.now() - started).total_seconds() if started else 0.0
        self._started[job.id.lower()] = self.ctx.clock.monotonic() - max(elapsed, 0.0)
        self.ctx.sched.add_job(job)

    def _job_manager_task(self, job: Record) -> TaskRecord:
        spec = job.data["jobManagerTask"]
        now = self.ctx.now()
        limits = job.data.get("constraints") or {}
        constraints = {
            "maxWallClockTime": UNLIMITED,
            "retentionTime": "P7D",
            "maxTaskRetryCount": int(limits.get("maxTaskRetryCount") or 0),
            **(spec.get("constraints") or {}),
        }
        data: dict[str, Any] = {
            "id": spec["id"],
            "creationTime": now,
            "state": "active",
            "stateTransitionTime": now,
            "commandLine": spec.get("commandLine", ""),
            "constraints": constraints,
            "requiredSlots": int(spec.get("requiredSlots") or 1),
            "executionInfo": {"retryCount": 0, "requeueCount": 0},
        }
        data.update({k: spec[k] for k in JOB_MANAGER_FIELDS if k in spec})
        data.setdefault(
            "userIdentity", {"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}}
        )
        internal = {
            "jobManager": True,
            "killJobOnCompletion": spec.get("killJobOnCompletion", True),
            "exclusive": spec.get("runExclusive", True),
        }
        return TaskRecord(data, job_key=job.id.lower(), internal=internal)

    def tasks_added(self, job: Record, tasks: list[TaskRecord]) -> None:
        self.ctx.sched.add_tasks(job.id.lower(), tasks)
        self.ctx.wake()

    def disable(self, job: Record, disable_tasks: str) -> None:
        """Disables a job: running tasks are requeued, terminated or left to finish (`wait`)."""
        set_state(self.ctx, job, "disabling")
        self.ctx.touch(job)
        if disable_tasks in ("requeue", "terminate"):
            self.ctx.tasks.end_job_tasks(job.id.lower(), disable_tasks)
        self.settle(job)

    def enable(self, job: Record) -> None:
        set_state(self.ctx, job, "enabling")
        self.ctx.touch(job)

    def terminate(self, job: Record, reason: str) -> None:
        """Ends a job: its running tasks are terminated and its release tasks run."""
        if job.internal.get("ended") or job.data.get("state") in ("completed", "deleting"):
            return
        job.internal["ended"] = True
        set_state(self.ctx, job, "terminating")
        job.data.setdefault("executionInfo", {})["terminateReason"] = reason
        self.ctx.touch(job)
        self.ctx.tasks.end_job_tasks(job.id.lower(), "terminate")
        self.prep.release(job)
        self.settle(job)

    def delete(self, job: Record) -> None:
        """Deletes a job: tasks stop, release tasks run if it had not ended, then it is gone."""
        if job.data.get("state") != "deleting":
            set_state(self.ctx, job, "deleting")
        self.ctx.tasks.end_job_tasks(job.id.lower(), "drop")
        if not job.internal.get("ended"):
            job.internal["ended"] = True
            self.prep.release(job)
        self.settle(job)

    def job_action(self, job: Record, action: str) -> None:
        """Applies an exit condition's job action (the job's onTaskFailure asked for it)."""
        if job.data.get("state") != "active":
            return
        if action == "terminate":
            self.terminate(job, "TaskFailed")
        elif action == "disable":
            self.disable(job, "requeue")

    # Progress

    def scan(self) -> None:
        """Settles every job whose state waits for a condition; called once per tick."""
        for job in list(self.ctx.store.jobs.values()):
            self.ctx.sched.rebind(job)
            self.settle(job)

    def settle(self, job: Record) -> None:
        """Moves a job on when what its state waits for has happened."""
        key = job.id.lower()
        state = job.data.get("state")
        queue = self.ctx.sched.jobs.get(key)
        running = queue.running if queue else 0
        if state in ("active", "disabling", "disabled", "enabling") and self._expired(job):
            self.terminate(job, "MaxWallClockTimeExpiry")
        elif state == "active" and queue is not None and queue.incomplete == 0:
            if job.data.get("onAllTasksComplete") == "terminatejob":
                self.terminate(job, "AllTasksComplete")
        elif state == "disabling" and running == 0:
            set_state(self.ctx, job, "disabled")
            self.ctx.touch(job)
        elif state == "enabling":
            set_state(self.ctx, job, "active")
            self.ctx.touch(job)
        elif state == "terminating" and running == 0 and not self.prep.pending.get(key):
            set_state(self.ctx, job, "completed")
            job.data.setdefault("executionInfo", {})["endTime"] = self.ctx.now()
            self.ctx.touch(job)
            self._end_auto_pool(job)
        elif state == "deleting" and running == 0 and not self.prep.pending.get(key):
            self._end_auto_pool(job)
            self._drop(job)

    def _end_auto_pool(self, job: Record) -> None:
        """Deletes the job's auto pool when its lifetime is the job's."""
        spec = (job.data.get("poolInfo") or {}).get("autoPoolSpecification") or {}
        if spec.get("poolLifetimeOption") != "job" or spec.get("keepAlive"):
            return
        pool_id = str((job.data.get("executionInfo") or {}).get("poolId") or "")
        pool = self.ctx.store.pools.get(pool_id.lower())
        if pool is not None and pool.data.get("state") != "deleting":
            pool.data["state"] = "deleting"
            pool.data["stateTransitionTime"] = self.ctx.now()
            self.ctx.touch(pool)
            self.ctx.alloc.pool_deleted(pool)

    def _expired(self, job: Record) -> bool:
        limit = duration_seconds((job.data.get("constraints") or {}).get("maxWallClockTime"))
        started = self._started.get(job.id.lower())
        return (
            limit is not None
            and started is not None
            and (self.ctx.clock.monotonic() - started >= limit)
        )

    def _drop(self, job: Record) -> None:
        key = job.id.lower()
        for node_key, pool_key in (job.internal.get("nodes") or {}).items():
            node = self.ctx.store.nodes.get(pool_key, {}).get(node_key)
            if node is not None:
                self.ctx.executor.delete_dir(node.id, f"workitems/{job.id}")
        self.prep.forget_job(key)
        self.ctx.sched.remove_job(key)
        self.ctx.store.remove(self.ctx.store.tasks, key)
        self.ctx.store.remove(self.ctx.store.jobs, key)
        self._started.pop(key, None)
        self.ctx.store.version += 1

    # Nodes and preparation (delegated)

    def task_placed(self, job: Record, node: NodeRecord) -> None:
        """Remembers that the job has files on `node` (deleted with the job)."""
        job.internal.setdefault("nodes", {})[node.id.lower()] = node.pool_key

    def prepare(self, job: Record, node: NodeRecord, p: Placement) -> bool:
        return self.prep.prepare(job, node, p)

    def prep_dir(self, job: Record) -> str | None:
        return self.prep.prep_dir(job)

    def prep_waiter_gone(self, p: Placement) -> None:
        self.prep.waiter_gone(p)

    def node_restarting(self, node: NodeRecord, reimage: bool) -> None:
        self.prep.node_restarting(node, reimage)

    def node_gone(self, node: NodeRecord) -> None:
        self.prep.node_gone(node)
        for job in self.ctx.store.jobs.values():
            (job.internal.get("nodes") or {}).pop(node.id.lower(), None)

    def status(self, job: Record) -> list[dict[str, Any]]:
        """Returns the job's preparation and release status items, one per node."""
        if not job.data.get("jobPreparationTask"):
            raise conflict(
                "JobPreparationTaskNotSpecified",
                "The specified job does not have job preparation task.",
            )
        items = (job.internal.get("prepRelease") or {}).values()
        return [
            {k: (dict(v) if isinstance(v, dict) else v) for k, v in item.items()} for item in items
        ]
