"""Provides job preparation and release tasks: once per node before a job's tasks, and at its end.

The preparation task runs on a node before the first task of its job there; with
`waitForSuccess` (the default) that task waits in `preparing`, and if the preparation task
exhausts its retries the task goes back to `active` and the node runs no task of that job until
it is reimaged. After a reboot it runs again if `rerunOnNodeRebootAfterSuccess` (default true)
or if it had not completed; after a reimage always. When the job ends, the release task runs on
every node where the preparation task ran and completed; the job completes when they are done.
Both report through `jobpreparationandreleasetaskstatus`, kept per node in the job's
`internal["prepRelease"]` as the wire items.
"""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.base.times import duration_seconds
from batch_tui.emulator.engine.exitrules import set_result
from batch_tui.emulator.engine.nodes import USABLE
from batch_tui.emulator.engine.runtime import TASK_ENDED, WALL_CLOCK_DETAIL, Context, Timer, failure
from batch_tui.emulator.engine.taskrun import Placement
from batch_tui.emulator.node.executors import KILLED_EXIT_CODE, Outcome, RunHandle, RunSpec
from batch_tui.emulator.node.files import task_dir
from batch_tui.emulator.state.store import NodeRecord, Record

RELEASE_TIMEOUT = 15 * 60.0
"""The default (and maximum) `maxWallClockTime` of a job release task: 15 minutes."""

PREP_INFO = "jobPreparationTaskExecutionInfo"
RELEASE_INFO = "jobReleaseTaskExecutionInfo"


def prep_id(job: Record) -> str:
    return str((job.data.get("jobPreparationTask") or {}).get("id") or "jobpreparation")


def release_id(job: Record) -> str:
    return str((job.data.get("jobReleaseTask") or {}).get("id") or "jobrelease")


class PrepRelease:
    """Runs preparation and release tasks and keeps their status items."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._runs: dict[tuple[str, str, str], RunHandle] = {}
        """(kind, node key, job key) -> the preparation or release run in progress."""
        self._gen: dict[tuple[str, str, str], int] = {}
        self._waiters: dict[tuple[str, str], list[Placement]] = {}
        self._timers: dict[tuple[str, str, str], Timer] = {}
        self.pending: dict[str, set[str]] = {}
        """Job key -> nodes whose release task has not finished."""

    def _item(self, job: Record, node: NodeRecord) -> dict[str, Any]:
        items: dict[str, Any] = job.internal.setdefault("prepRelease", {})
        pool = self.ctx.store.pools.get(node.pool_key)
        pool_id = pool.id if pool else node.pool_key
        item: dict[str, Any] = items.setdefault(
            node.id.lower(),
            {"poolId": pool_id, "nodeId": node.id, "nodeUrl": self.ctx.urls.node(pool_id, node.id)},
        )
        return item

    def _info(self, job: Record, node: NodeRecord, kind: str, run_id: str) -> dict[str, Any]:
        item = self._item(job, node)
        rel = task_dir(job.id, run_id)
        info: dict[str, Any] = {
            "state": "running",
            "startTime": self.ctx.now(),
            "taskRootDirectory": rel,
            "taskRootDirectoryUrl": f"{item['nodeUrl']}/files/{rel}",
        }
        field = PREP_INFO if kind == "prep" else RELEASE_INFO
        if kind == "prep":
            info["retryCount"] = 0
        item[field] = info
        self.ctx.touch(job)
        return info

    # Preparation

    def prep_dir(self, job: Record) -> str | None:
        return task_dir(job.id, prep_id(job)) if job.data.get("jobPreparationTask") else None

    def prepare(self, job: Record, node: NodeRecord, p: Placement) -> bool:
        """Starts the job's preparation task on `node` if needed; True if `p` must wait."""
        prep = job.data.get("jobPreparationTask")
        if not prep:
            return False
        status = node.internal.setdefault("prep", {}).get(job.id.lower())
        if status in ("succeeded", "failed"):
            return False
        if status != "running":
            node.internal["prep"][job.id.lower()] = "running"
            self._info(job, node, "prep", prep_id(job))
            self._launch("prep", job, node)
        if not prep.get("waitForSuccess", True):
            return False
        self._waiters.setdefault((node.id.lower(), job.id.lower()), []).append(p)
        return True

    def waiter_gone(self, p: Placement) -> None:
        waiters = self._waiters.get((p.node_key, p.job_key))
        if waiters and p in waiters:
            waiters.remove(p)

    def _launch(self, kind: str, job: Record, node: NodeRecord) -> None:
        key = (kind, node.id.lower(), job.id.lower())
        gen = self._gen.get(key, 0) + 1
        self._gen[key] = gen
        self.ctx.defer(lambda: self._run(kind, job, node, gen))

    async def _run(self, kind: str, job: Record, node: NodeRecord, gen: int) -> None:
        key = (kind, node.id.lower(), job.id.lower())
        if self._gen.get(key) != gen:
            return
        spec_task = job.data.get("jobPreparationTask" if kind == "prep" else "jobReleaseTask") or {}
        run_id = prep_id(job) if kind == "prep" else release_id(job)
        pool = self.ctx.store.pools.get(node.pool_key)
        spec = RunSpec(
            node_id=node.id,
            pool_id=pool.id if pool else node.pool_key,
            task_dir=task_dir(job.id, run_id),
            command_line=str(spec_task.get("commandLine", "")),
            kind=kind,
            job_id=job.id,
            task_id=run_id,
            env=self.ctx.tasks.job_env(job, node, spec_task.get("environmentSettings"), run_id),
            prep_dir=self.prep_dir(job) if kind == "release" else None,
            resource_files=list(spec_task.get("resourceFiles") or []),
        )
        self._arm_timeout(kind, job, node, gen, spec_task)
        handle = await self.ctx.executor.launch(
            spec, lambda outcome: self.ctx.report(lambda: self._done(kind, job, node, gen, outcome))
        )
        if self._gen.get(key) != gen:
            handle.kill()  # stopped while it was being launched
            return
        self._runs[key] = handle

    def _arm_timeout(
        self, kind: str, job: Record, node: NodeRecord, gen: int, spec_task: dict[str, Any]
    ) -> None:
        key = (kind, node.id.lower(), job.id.lower())
        if kind == "prep":
            limit = duration_seconds((spec_task.get("constraints") or {}).get("maxWallClockTime"))
        else:
            limit = duration_seconds(spec_task.get("maxWallClockTime")) or RELEASE_TIMEOUT
        if limit is not None:
            timeout = Outcome(None, failure(*TASK_ENDED, WALL_CLOCK_DETAIL))
            self._timers[key] = self.ctx.timers.call_later(
                limit, lambda: self._done(kind, job, node, gen, timeout, killed=True)
            )

    def _finish_run(self, key: tuple[str, str, str], killed: bool) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        handle = self._runs.pop(key, None)
        if handle is not None and killed:
            handle.kill()

    def _done(
        self,
        kind: str,
        job: Record,
        node: NodeRecord,
        gen: int,
        outcome: Outcome,
        killed: bool = False,
    ) -> None:
        key = (kind, node.id.lower(), job.id.lower())
        if self._gen.get(key) != gen:
            return
        self._gen[key] = gen + 1  # later reports of this run are stale
        self._finish_run(key, killed)
        item = self._item(job, node)
        info = item.get(PREP_INFO if kind == "prep" else RELEASE_INFO) or {}
        info.update(state="completed", endTime=self.ctx.now())
        set_result(info, KILLED_EXIT_CODE if killed else outcome.exit_code, outcome.failure)
        ok = info["result"] == "success"
        self.ctx.touch(job)
        if kind == "prep":
            self._prep_settled(job, node, info, ok, retryable=outcome.failure is None)
        else:
            self.pending.get(job.id.lower(), set()).discard(node.id.lower())
            self.ctx.jobs.settle(job)

    def _prep_settled(
        self, job: Record, node: NodeRecord, info: dict[str, Any], ok: bool, retryable: bool
    ) -> None:
        prep = job.data.get("jobPreparationTask") or {}
        job_key, node_key = job.id.lower(), node.id.lower()
        limit = int((prep.get("constraints") or {}).get("maxTaskRetryCount") or 0)
        retries = int(info.get("retryCount", 0))
        if not ok and retryable and (limit == -1 or retries < limit):
            retry = self._info(job, node, "prep", prep_id(job))
            retry["retryCount"] = retries + 1
            retry["lastRetryTime"] = retry["startTime"]
            self._launch("prep", job, node)
            return
        node.internal.setdefault("prep", {})[job_key] = "succeeded" if ok else "failed"
        waiters = self._waiters.pop((node_key, job_key), [])
        waits = prep.get("waitForSuccess", True)
        if not ok and waits and job_key in self.ctx.sched.jobs:
            self.ctx.sched.jobs[job_key].ineligible.add(node_key)
        for p in waiters:
            if ok:
                self.ctx.tasks.start(p)
            else:
                self.ctx.tasks.kill(p, "revert")

    # Release

    def release(self, job: Record) -> None:
        """Runs the release task on every node where the preparation task completed."""
        if not job.data.get("jobReleaseTask") or job.internal.get("released"):
            return
        job.internal["released"] = True
        pending = self.pending.setdefault(job.id.lower(), set())
        for node_key, item in (job.internal.get("prepRelease") or {}).items():
            node = self._node(node_key, item)
            prep = item.get(PREP_INFO) or {}
            if node is None or prep.get("state") != "completed":
                continue
            if node.data["state"] not in USABLE:
                continue
            pending.add(node_key)
            self._info(job, node, "release", release_id(job))
            self._launch("release", job, node)

    def _node(self, node_key: str, item: dict[str, Any]) -> NodeRecord | None:
        return self.ctx.store.nodes.get(str(item.get("poolId", "")).lower(), {}).get(node_key)

    # Nodes

    def node_restarting(self, node: NodeRecord, reimage: bool) -> None:
        """Forgets preparation results that a reboot or reimage invalidates."""
        node_key = node.id.lower()
        statuses: dict[str, str] = node.internal.setdefault("prep", {})
        for job_key, status in list(statuses.items()):
            job = self.ctx.store.jobs.get(job_key)
            prep = (job.data.get("jobPreparationTask") or {}) if job else {}
            rerun = prep.get("rerunOnNodeRebootAfterSuccess", True)
            if reimage or status == "running" or (status == "succeeded" and rerun):
                del statuses[job_key]
            if reimage and job_key in self.ctx.sched.jobs:
                self.ctx.sched.jobs[job_key].ineligible.discard(node_key)
        self._stop_runs(node_key)

    def node_gone(self, node: NodeRecord) -> None:
        node_key = node.id.lower()
        self._stop_runs(node_key)
        for job in self.ctx.store.jobs.values():
            items = job.internal.get("prepRelease") or {}
            if items.pop(node_key, None) is not None:
                self.ctx.touch(job)
        for pending in self.pending.values():
            pending.discard(node_key)

    def _stop_runs(self, node_key: str) -> None:
        """Kills the node's preparation and release runs; they end as terminated."""
        for key in [k for k in self._gen if k[1] == node_key]:
            self._gen[key] += 1
            self._finish_run(key, killed=True)
            job = self.ctx.store.jobs.get(key[2])
            item = (job.internal.get("prepRelease") or {}).get(node_key) if job else None
            info = (item or {}).get(PREP_INFO if key[0] == "prep" else RELEASE_INFO) or {}
            if info.get("state") == "running":
                info.update(state="completed", endTime=self.ctx.now(), result="failure")
                info["failureInfo"] = failure(*TASK_ENDED)
            if key[0] == "release":
                self.pending.get(key[2], set()).discard(node_key)
        for waiting in [k for k in self._waiters if k[0] == node_key]:
            del self._waiters[waiting]

    def forget_job(self, job_key: str) -> None:
        for key in [k for k in self._gen if k[2] == job_key]:
            self._finish_run(key, killed=True)
            del self._gen[key]
        self.pending.pop(job_key, None)
        for node_map in self.ctx.store.nodes.values():
            for node in node_map.values():
                node.internal.get("prep", {}).pop(job_key, None)
