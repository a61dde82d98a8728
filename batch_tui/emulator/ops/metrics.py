"""Provides the metric samples autoscale formulas read: what is measured, and each pool's history.

The service records a sample of every metric every 30 seconds; the emulator does the same on its
own clock for the pools that scale automatically (`Autoscaler` calls `measure`). Task metrics
count the tasks of the jobs that run on the pool: `$ActiveTasks` are active tasks whose
dependencies are met (a multi-instance task counts its instances), `$RunningTasks` are
preparing or running, `$PendingTasks` is their sum, `$SucceededTasks` and `$FailedTasks` are the
tasks that completed since the previous sample. Node metrics come from the pool's nodes. The
emulator does not measure CPU, memory, disk or network, so those metrics have no samples and a
formula that needs them fails with InsufficientSampleData, as on a pool with no history.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta

from batch_tui.emulator.base.times import iso
from batch_tui.emulator.engine.runtime import Context
from batch_tui.emulator.state.store import Record

SAMPLE_PERIOD = 30.0
"""Seconds between two samples, as on the service ("samples are recorded every 30 seconds")."""
HISTORY = timedelta(days=1)
"""How far back samples are kept; older ones are dropped (a day covers any usual formula)."""

TASK_METRICS = ("$ActiveTasks", "$RunningTasks", "$PendingTasks", "$SucceededTasks", "$FailedTasks")
NODE_METRICS = (
    "$CurrentDedicatedNodes",
    "$CurrentLowPriorityNodes",
    "$PreemptedNodeCount",
    "$SampleNodeCount",
)
UNMEASURED = (
    "$CPUPercent $WallClockSeconds $MemoryBytes $DiskBytes $DiskReadBytes $DiskWriteBytes "
    "$DiskReadOps $DiskWriteOps $NetworkInBytes $NetworkOutBytes"
).split()
"""Resource metrics the emulator has no data for."""

_ENDED_JOB = ("completed", "deleting")


class History:
    """One pool's samples, oldest first: (time, metric name -> value)."""

    def __init__(self) -> None:
        self.samples: deque[tuple[datetime, dict[str, float]]] = deque()

    def add(self, when: datetime, values: dict[str, float]) -> None:
        self.samples.append((when, values))
        while self.samples and self.samples[0][0] < when - HISTORY:
            self.samples.popleft()

    def last_time(self) -> datetime | None:
        return self.samples[-1][0] if self.samples else None

    def series(self, name: str) -> tuple[tuple[datetime, float], ...]:
        """The samples of one metric."""
        return tuple((when, values[name]) for when, values in self.samples if name in values)


def jobs_on(ctx: Context, pool: Record) -> Iterator[Record]:
    """The jobs whose tasks run on `pool` (its id, or the auto pool made for them)."""
    key = pool.id.lower()
    for job in ctx.store.jobs.values():
        info = job.data.get("executionInfo") or {}
        bound = info.get("poolId") or (job.data.get("poolInfo") or {}).get("poolId")
        if str(bound or "").lower() == key and job.data.get("state") != "deleting":
            yield job


def _instances(task: Record) -> int:
    settings = task.data.get("multiInstanceSettings") or {}
    return int(settings.get("numberOfInstances") or 1)


def _task_counts(ctx: Context, pool: Record, since: str) -> dict[str, float]:
    active = running = succeeded = failed = 0
    for job in jobs_on(ctx, pool):
        key = job.id.lower()
        queue = ctx.sched.jobs.get(key)
        blocked = queue.waiting if queue is not None else {}
        open_job = job.data.get("state") not in _ENDED_JOB
        for task_key, task in ctx.store.job_tasks(key).items():
            state = task.data.get("state")
            if state == "active" and open_job and task_key not in blocked:
                active += _instances(task)
            elif state in ("preparing", "running"):
                running += 1
            elif state == "completed":
                info = task.data.get("executionInfo") or {}
                if str(info.get("endTime") or "") > since:
                    failed += info.get("result") == "failure"
                    succeeded += info.get("result") != "failure"
    return {
        "$ActiveTasks": float(active),
        "$RunningTasks": float(running),
        "$PendingTasks": float(active + running),
        "$SucceededTasks": float(succeeded),
        "$FailedTasks": float(failed),
    }


def _node_counts(ctx: Context, pool: Record) -> dict[str, float]:
    nodes = ctx.store.pool_nodes(pool.id.lower()).values()
    return {
        "$CurrentDedicatedNodes": float(pool.data.get("currentDedicatedNodes") or 0),
        "$CurrentLowPriorityNodes": float(pool.data.get("currentLowPriorityNodes") or 0),
        "$PreemptedNodeCount": float(sum(1 for n in nodes if n.data.get("state") == "preempted")),
        "$SampleNodeCount": float(len(nodes)),
    }


def measure(ctx: Context, pool: Record, since: datetime | None) -> dict[str, float]:
    """Measures every metric of a pool now.

    Args:
        ctx: The engine's context (the store and the task queues).
        pool: The pool.
        since: The previous sample's time: completions after it count as succeeded/failed.

    Returns:
        Metric name -> value, for the task and node metrics (never the unmeasured ones).
    """
    since_text = iso(since) if since is not None else ""
    return {**_task_counts(ctx, pool, since_text), **_node_counts(ctx, pool)}
