"""Provides task execution: placing a task on a node, running it, and what its end means.

A placed task is `preparing` while its job preparation task runs on the node, then `running`
(its process starts `task_preparing` seconds later, standing in for the node's own set-up; the
executor then downloads its `resourceFiles` and, after the process, uploads its `outputFiles`).
When it ends, a nonzero exit code is retried up to `constraints.maxTaskRetryCount` (the task
goes back to `active`); otherwise the task completes and its `exitConditions` decide the
dependency action (satisfy/block) and, when the job's `onTaskFailure` is
`performexitoptionsjobaction`, the job action (none/disable/terminate). A run that could not
start (pre-processing error) or whose output files failed to upload is never retried.

A task can also be ended from outside: `requeue` (back to `active`, `requeueCount` + 1),
`terminate` (completed with failureInfo `TaskEnded`), `timeout` (its `maxWallClockTime` passed:
completed with `TaskEnded` and a `Message` detail saying so) or `drop` (it was deleted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from batch_tui.emulator.base.times import duration_seconds, stamp
from batch_tui.emulator.engine.exitrules import exit_options, set_result
from batch_tui.emulator.engine.multiinstance import common_files
from batch_tui.emulator.engine.runtime import (
    TASK_ENDED,
    WALL_CLOCK_DETAIL,
    Context,
    Timer,
    failure,
    set_state,
)
from batch_tui.emulator.node.executors import KILLED_EXIT_CODE, Outcome, RunHandle, RunSpec
from batch_tui.emulator.node.files import task_dir
from batch_tui.emulator.state.store import NodeRecord, Record, TaskRecord

RECENT_TASKS = 10
"""How many tasks a node lists in `recentTasks`."""

EXECUTION_RESULT_FIELDS = ("startTime", "endTime", "exitCode", "result", "failureInfo")
"""What a task loses when it goes back to `active` (the spec sets them only when running or
completed)."""


@dataclass(eq=False)
class Placement:
    """A task placed on a node, from assignment until it ends."""

    job_key: str
    task_key: str
    node_key: str
    pool_key: str
    slots: int
    phase: str = "preparing"
    """`preparing` (waiting for the job preparation task), `launching` or `running`."""
    handle: RunHandle | None = None
    timers: list[Timer] = field(default_factory=list)
    subtask_nodes: dict[int, str] = field(default_factory=dict)
    """A multi-instance task's subtasks (number -> node key) that still hold a slot."""
    instance_nodes: list[str] = field(default_factory=list)
    """Every node of a multi-instance task, primary first, for as long as the task runs (a
    subtask that already finished still counts: the primary's host list names all nodes)."""


class TaskRunner:
    """Runs placed tasks and settles how they end."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.placements: dict[tuple[str, str], Placement] = {}
        self.by_node: dict[str, dict[tuple[str, str], Placement]] = {}

    # Lookups

    def placements_on(self, node_key: str) -> list[Placement]:
        return list(self.by_node.get(node_key, {}).values())

    def placement(self, task: TaskRecord) -> Placement | None:
        return self.placements.get((task.job_key, task.id.lower()))

    def _records(self, p: Placement) -> tuple[Record | None, TaskRecord | None, NodeRecord | None]:
        store = self.ctx.store
        job = store.jobs.get(p.job_key)
        task = store.tasks.get(p.job_key, {}).get(p.task_key)
        node = store.nodes.get(p.pool_key, {}).get(p.node_key)
        return job, task, node

    def base_env(self, node: NodeRecord, settings: Any) -> dict[str, str]:
        """Returns the `AZ_BATCH_*` variables every task on `node` sees, plus `settings`."""
        env = {str(s["name"]): str(s.get("value", "")) for s in settings or [] if "name" in s}
        pool = self.ctx.store.pools.get(node.pool_key)
        env.update(
            AZ_BATCH_ACCOUNT_NAME=self.ctx.settings.account,
            AZ_BATCH_ACCOUNT_URL=f"{self.ctx.settings.base_url}/",
            AZ_BATCH_POOL_ID=pool.id if pool else node.pool_key,
            AZ_BATCH_NODE_ID=node.id,
            AZ_BATCH_NODE_IS_DEDICATED="true" if node.data.get("isDedicated") else "false",
        )
        return env

    def job_env(self, job: Record, node: NodeRecord, settings: Any, task_id: str) -> dict[str, str]:
        """Returns a job task's environment: the job's common settings, then the task's own."""
        merged = [*(job.data.get("commonEnvironmentSettings") or []), *(settings or [])]
        env = self.base_env(node, merged)
        env.update(AZ_BATCH_JOB_ID=job.id, AZ_BATCH_TASK_ID=task_id)
        return env

    # Placement

    def assign(self, job: Record, task: TaskRecord, nodes: list[NodeRecord]) -> None:
        """Places `task` on `nodes[0]` (and its subtasks on the others) and starts it."""
        node = nodes[0]
        ps_slots = self.ctx.nodes.slots_of(node)
        p = Placement(
            job.id.lower(),
            task.id.lower(),
            node.id.lower(),
            node.pool_key,
            self.ctx.sched.required_slots(ps_slots, task),
        )
        p.subtask_nodes = {n: other.id.lower() for n, other in enumerate(nodes[1:], start=1)}
        p.instance_nodes = [p.node_key, *p.subtask_nodes.values()] if len(nodes) > 1 else []
        self.placements[(p.job_key, p.task_key)] = p
        for key in (p.node_key, *p.subtask_nodes.values()):
            self.by_node.setdefault(key, {})[(p.job_key, p.task_key)] = p
        self.ctx.sched.jobs[p.job_key].running += 1
        pool = self.ctx.store.pools.get(node.pool_key)
        url = self.ctx.urls.node(pool.id if pool else node.pool_key, node.id)
        rel = task_dir(job.id, task.id)
        task.data["nodeInfo"] = {
            "affinityId": node.data["affinityId"],
            "nodeUrl": url,
            "poolId": pool.id if pool else node.pool_key,
            "nodeId": node.id,
            "taskRootDirectory": rel,
            "taskRootDirectoryUrl": f"{url}/files/{rel}",
        }
        self.ctx.jobs.task_placed(job, node)
        if self.ctx.jobs.prepare(job, node, p):
            set_state(self.ctx, task, "preparing")
            self.ctx.touch(task)
        else:
            self.start(p)
        for each in nodes:
            self.ctx.nodes.sync(each)

    def start(self, p: Placement) -> None:
        """Moves a placed task to `running`; its process starts after `task_preparing`."""
        job, task, node = self._records(p)
        if task is None or node is None or self.placements.get((p.job_key, p.task_key)) is not p:
            return
        p.phase = "launching"
        info = task.data.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
        info["startTime"] = self.ctx.now()
        if int(info.get("retryCount") or 0) > 0:
            info["lastRetryTime"] = info["startTime"]
        set_state(self.ctx, task, "running")
        self.ctx.touch(task)
        self._recent(node, task)
        delay = self.ctx.settings.timings.task_preparing
        self._arm_wall_clock(p, task)
        if p.subtask_nodes and job is not None:
            self.ctx.multi.start(job, task, p)
        if delay > 0:
            p.timers.append(self.ctx.timers.call_later(delay, lambda: self._queue_launch(p)))
        else:
            self._queue_launch(p)

    def _queue_launch(self, p: Placement) -> None:
        self.ctx.defer(lambda: self._launch(p))

    async def _launch(self, p: Placement) -> None:
        job, task, node = self._records(p)
        current = self.placements.get((p.job_key, p.task_key)) is p
        if not current or p.phase != "launching" or job is None or task is None or node is None:
            return
        prep = self.ctx.jobs.prep_dir(job)
        spec = RunSpec(
            node_id=node.id,
            pool_id=str(task.data["nodeInfo"]["poolId"]),
            task_dir=task_dir(job.id, task.id),
            command_line=str(task.data.get("commandLine", "")),
            kind="task",
            job_id=job.id,
            task_id=task.id,
            env={
                **self.job_env(job, node, task.data.get("environmentSettings"), task.id),
                **self.ctx.multi.env(p, node),
            },
            prep_dir=prep,
            resource_files=list(task.data.get("resourceFiles") or []),
            common_resource_files=common_files(task),
            output_files=list(task.data.get("outputFiles") or []),
        )
        handle = await self.ctx.executor.launch(
            spec, lambda outcome: self.ctx.report(lambda: self._ended(p, outcome))
        )
        if self.placements.get((p.job_key, p.task_key)) is not p:
            handle.kill()  # ended (terminated, deleted) while it was being launched
            return
        p.handle = handle
        p.phase = "running"

    def _arm_wall_clock(self, p: Placement, task: TaskRecord) -> None:
        limit = duration_seconds((task.data.get("constraints") or {}).get("maxWallClockTime"))
        if limit is not None:
            p.timers.append(self.ctx.timers.call_later(limit, lambda: self.kill(p, "timeout")))

    def constraints_changed(self, task: TaskRecord) -> None:
        """Re-arms the wall-clock limit of a running task whose constraints were updated."""
        p = self.placement(task)
        if p is None or p.phase == "preparing":
            return
        for timer in p.timers:
            timer.cancel()
        p.timers.clear()
        limit = duration_seconds((task.data.get("constraints") or {}).get("maxWallClockTime"))
        if limit is not None:
            started = stamp((task.data.get("executionInfo") or {}).get("startTime"))
            now = self.ctx.clock.now()
            elapsed = 0.0 if started is None else (now - started).total_seconds()
            p.timers.append(
                self.ctx.timers.call_later(limit - elapsed, lambda: self.kill(p, "timeout"))
            )

    # Endings

    def _release(self, p: Placement) -> None:
        for timer in p.timers:
            timer.cancel()
        self.placements.pop((p.job_key, p.task_key), None)
        self.by_node.get(p.node_key, {}).pop((p.job_key, p.task_key), None)
        if p.subtask_nodes:
            self.ctx.multi.stop(p, self.ctx.store.tasks.get(p.job_key, {}).get(p.task_key))
            for number in list(p.subtask_nodes):
                self.free_subtask_slot(p, number)
        queue = self.ctx.sched.jobs.get(p.job_key)
        if queue is not None:
            queue.running = max(queue.running - 1, 0)
        self.ctx.jobs.prep_waiter_gone(p)

    def _ended(self, p: Placement, outcome: Outcome) -> None:
        if self.placements.get((p.job_key, p.task_key)) is not p:
            return  # killed after the process had already exited
        self._release(p)
        job, task, node = self._records(p)
        if job is None or task is None:
            return
        info = task.data.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
        code = outcome.exit_code
        if node is not None:
            node.data["totalTasksRun"] = int(node.data.get("totalTasksRun") or 0) + 1
            if code == 0 and outcome.failure is None:
                node.data["totalTasksSucceeded"] = int(node.data["totalTasksSucceeded"]) + 1
        retries = int(info.get("retryCount") or 0)
        limit = int((task.data.get("constraints") or {}).get("maxTaskRetryCount") or 0)
        if outcome.failure is None and code != 0 and (limit == -1 or retries < limit):
            info["retryCount"] = retries + 1
            self._back_to_active(task)
        else:
            info["endTime"] = self.ctx.now()
            set_result(info, code, outcome.failure)
            ran = outcome.failure is None or outcome.upload_failed
            self._complete(job, task, code if ran else None, upload_failed=outcome.upload_failed)
        self._after_end(node, task)

    def _after_end(self, node: NodeRecord | None, task: TaskRecord) -> None:
        if node is not None:
            self._recent(node, task)
            self.ctx.nodes.sync(node)

    def _back_to_active(self, task: TaskRecord) -> None:
        info = task.data.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
        for key in EXECUTION_RESULT_FIELDS:
            info.pop(key, None)
        set_state(self.ctx, task, "active")
        self.ctx.touch(task)
        self.ctx.sched.enqueue(task.job_key, task.id.lower())

    def _complete(
        self,
        job: Record,
        task: TaskRecord,
        exit_code: int | None,
        by_user: bool = False,
        upload_failed: bool = False,
    ) -> None:
        """Completes a task and applies what its completion means to dependents and the job."""
        set_state(self.ctx, task, "completed")
        self.ctx.touch(task)
        job_action, dependency = exit_options(task, exit_code, upload_failed=upload_failed)
        satisfies = dependency == "satisfy" and not by_user
        for key in self.ctx.sched.task_completed(task.job_key, task.id.lower(), satisfies):
            waiter = self.ctx.store.tasks.get(task.job_key, {}).get(key)
            if waiter is not None and waiter.data.get("state") == "active":
                self.ctx.sched.enqueue(task.job_key, key)
        if task.internal.get("jobManager") and task.internal.get("killJobOnCompletion", True):
            self.ctx.jobs.terminate(job, "JMComplete")
        elif not by_user and job.data.get("onTaskFailure") == "performexitoptionsjobaction":
            self.ctx.jobs.job_action(job, job_action)

    def kill(self, p: Placement, mode: str) -> None:
        """Ends a placed task from outside: `requeue`, `revert`, `terminate`, `timeout`, `drop`.

        `revert` sends it back to `active` without counting a requeue (its job preparation
        task failed on the node).
        """
        if self.placements.get((p.job_key, p.task_key)) is not p:
            return
        if p.handle is not None:
            p.handle.kill()
        ran = p.phase == "running"
        self._release(p)
        job, task, node = self._records(p)
        if job is None or task is None or mode == "drop":
            if node is not None:
                self.ctx.nodes.sync(node)
            return
        info = task.data.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
        if mode in ("requeue", "revert"):
            if mode == "requeue":
                info["requeueCount"] = int(info.get("requeueCount") or 0) + 1
                info["lastRequeueTime"] = self.ctx.now()
            self._back_to_active(task)
        else:
            info["endTime"] = self.ctx.now()
            detail = WALL_CLOCK_DETAIL if mode == "timeout" else None
            code = KILLED_EXIT_CODE if ran else None
            set_result(info, code, failure(*TASK_ENDED, detail))
            if code is not None and node is not None:
                node.data["totalTasksRun"] = int(node.data.get("totalTasksRun") or 0) + 1
            self._complete(job, task, code, by_user=mode == "terminate")
        self._after_end(node, task)

    def free_subtask_slot(self, p: Placement, number: int) -> None:
        """Gives back the slot a finished subtask held on its node."""
        key = p.subtask_nodes.pop(number, None)
        if key is None:
            return
        self.by_node.get(key, {}).pop((p.job_key, p.task_key), None)
        node = self.ctx.store.nodes.get(p.pool_key, {}).get(key)
        if node is not None:
            self.ctx.nodes.sync(node)

    def evict(self, node: NodeRecord, option: str) -> None:
        """Ends every task on a node: `requeue` or `terminate` (node actions, removal)."""
        for p in self.placements_on(node.id.lower()):
            self.kill(p, "terminate" if option == "terminate" else "requeue")

    def end_job_tasks(self, job_key: str, mode: str) -> None:
        """Ends every placed task of a job (disable, terminate, delete)."""
        for p in [p for p in self.placements.values() if p.job_key == job_key]:
            self.kill(p, mode)

    # Task operations

    def terminate(self, job: Record, task: TaskRecord) -> None:
        """Terminates a task (API): a placed one is killed, an active one just completes."""
        p = self.placement(task)
        if p is not None:
            self.kill(p, "terminate")
            return
        if task.data.get("state") == "completed":
            return
        self.ctx.sched.dequeue(task.job_key, task.id.lower())
        info = task.data.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
        info["endTime"] = self.ctx.now()
        set_result(info, None, failure(*TASK_ENDED))
        self._complete(job, task, None, by_user=True)

    def reactivate(self, task: TaskRecord) -> None:
        """Makes a completed, failed task active again with its retry count reset."""
        info = task.data.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
        info["retryCount"] = 0
        if task.data.get("state") == "completed":
            self.ctx.sched.task_reopened(task.job_key)
        self._back_to_active(task)

    def delete(self, task: TaskRecord) -> None:
        """Forgets a task: kills it if placed, deletes its files, drops the record."""
        p = self.placement(task)
        if p is not None:
            self.kill(p, "drop")
        completed = task.data.get("state") == "completed"
        self.ctx.sched.task_removed(task.job_key, task.id.lower(), completed)
        node_id = (task.data.get("nodeInfo") or {}).get("nodeId")
        job = self.ctx.store.jobs.get(task.job_key)
        if node_id and job is not None:
            self.ctx.executor.delete_dir(str(node_id), task_dir(job.id, task.id))
        self.ctx.store.remove(self.ctx.store.tasks.get(task.job_key, {}), task.id.lower())
        self.ctx.store.version += 1

    def _recent(self, node: NodeRecord, task: TaskRecord) -> None:
        job = self.ctx.store.jobs.get(task.job_key)
        job_id = job.id if job else task.job_key
        entry = {
            "taskUrl": self.ctx.urls.task(job_id, task.id),
            "jobId": job_id,
            "taskId": task.id,
            "taskState": task.data.get("state"),
            # A shallow copy is enough: nested values (failureInfo) are replaced, never edited.
            "executionInfo": dict(task.data.get("executionInfo") or {}),
        }
        recent = [
            item
            for item in node.data.get("recentTasks") or []
            if (item["jobId"], item["taskId"]) != (job_id, task.id)
        ]
        node.data["recentTasks"] = [*recent, entry][-RECENT_TASKS:]
