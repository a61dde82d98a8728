"""Provides the scheduler: a ready queue per job, task dependencies and slot placement.

Work per pass is proportional to what can change: each job keeps a heap of its ready tasks
(the job manager first, then in the order tasks were added), dependencies are counted (a task
enters the heap when its count of unsatisfied dependencies reaches zero), and each pool keeps
its schedulable nodes in buckets by free slot count, so a placement never scans the pool.

Placement follows the pool's `taskSchedulingPolicy.nodeFillType`: `spread` takes a node with
the most free slots, `pack` the one with the fewest that still fit `requiredSlots`. A task's
`affinityInfo.affinityId` (`TVM:<nodeId>`) is preferred when that node has room. Jobs are served
by `priority` (highest first, then oldest), each up to its `maxParallelTasks`.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from batch_tui.emulator.engine.multiinstance import instances
from batch_tui.emulator.state.store import NodeRecord, Record, TaskRecord

LOOKAHEAD = 16
"""Tasks of one job that may be passed over per pass because no node fits them (e.g. a
`requiredSlots` larger than any free node), so one big task does not block the small ones."""

JOB_MANAGER_ORDER = -1
"""Queue rank of a job manager task: it runs before any other task of its job."""

Assign = Callable[[Record, TaskRecord, list[NodeRecord]], None]
"""Places a task: on `nodes[0]`, with a multi-instance task's subtasks on the others."""


@dataclass
class JobQueue:
    """A job's scheduling state."""

    key: str
    pool_key: str
    seq: int
    ready: list[tuple[int, int, str]] = field(default_factory=list)
    queued: set[str] = field(default_factory=set)
    """Task keys that are really in `ready` (heap entries not in it are stale)."""
    running: int = 0
    """Tasks placed on a node (preparing or running), for `maxParallelTasks`."""
    incomplete: int = 0
    """Tasks not in the completed state, for `onAllTasksComplete`."""
    order: dict[str, tuple[int, int]] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)
    """Task key -> number of dependencies not yet satisfied."""
    dependents: dict[str, list[str]] = field(default_factory=dict)
    int_dependents: dict[int, list[str]] = field(default_factory=dict)
    satisfied: set[str] = field(default_factory=set)
    satisfied_ints: set[int] = field(default_factory=set)
    int_ids: dict[int, set[str]] = field(default_factory=dict)
    ineligible: set[str] = field(default_factory=set)
    """Nodes where the job preparation task failed: they run no task of this job."""


@dataclass
class PoolSlots:
    """A pool's schedulable nodes, bucketed by free slots."""

    key: str
    slots: int
    pack: bool
    buckets: list[dict[str, None]]
    free_of: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, None] = field(default_factory=dict)


def int_id(task_id: str) -> int | None:
    """Returns the number a task id stands for in an id range (`"04"` is 4), or None."""
    return int(task_id) if task_id.isdigit() else None


class Scheduler:
    """Keeps the queues and places ready tasks on free slots."""

    def __init__(self) -> None:
        self.jobs: dict[str, JobQueue] = {}
        self.pools: dict[str, PoolSlots] = {}
        self.pool_jobs: dict[str, dict[str, None]] = {}
        self._seq = itertools.count()

    # Pools and nodes

    def add_pool(self, pool: Record) -> None:
        slots = max(int(pool.data.get("taskSlotsPerNode") or 1), 1)
        policy = pool.data.get("taskSchedulingPolicy") or {}
        pack = policy.get("nodeFillType") == "pack"
        key = pool.id.lower()
        ps = PoolSlots(key, slots, pack, [{} for _ in range(slots + 1)])
        ps.jobs = self.pool_jobs.setdefault(key, {})
        self.pools[key] = ps

    def remove_pool(self, pool_key: str) -> None:
        self.pools.pop(pool_key, None)

    def node_update(self, pool_key: str, node_key: str, free: int | None) -> None:
        """Records a node's free slots; None takes it out of scheduling."""
        ps = self.pools.get(pool_key)
        if ps is None:
            return
        old = ps.free_of.pop(node_key, None)
        if old is not None:
            ps.buckets[old].pop(node_key, None)
        if free is not None and free > 0:
            free = min(free, ps.slots)
            ps.free_of[node_key] = free
            ps.buckets[free][node_key] = None

    # Jobs and tasks

    def add_job(self, job: Record) -> JobQueue:
        key = job.id.lower()
        queue = JobQueue(key, _pool_key(job), next(self._seq))
        self.jobs[key] = queue
        self.pool_jobs.setdefault(queue.pool_key, {})[key] = None
        return queue

    def rebind(self, job: Record) -> None:
        """Follows a change of the job's `poolInfo.poolId`."""
        queue = self.jobs.get(job.id.lower())
        if queue is None or queue.pool_key == _pool_key(job):
            return
        self.pool_jobs.get(queue.pool_key, {}).pop(queue.key, None)
        queue.pool_key = _pool_key(job)
        self.pool_jobs.setdefault(queue.pool_key, {})[queue.key] = None

    def remove_job(self, job_key: str) -> None:
        queue = self.jobs.pop(job_key, None)
        if queue is not None:
            self.pool_jobs.get(queue.pool_key, {}).pop(job_key, None)

    def add_tasks(self, job_key: str, tasks: Iterable[TaskRecord], rank: int = 0) -> None:
        """Indexes new tasks, counts their dependencies and queues the ready ones."""
        queue = self.jobs.get(job_key)
        if queue is None:
            return  # the job is gone (deleted meanwhile): nothing to schedule
        added = list(tasks)
        for task in added:
            key = task.id.lower()
            queue.order[key] = (rank, next(self._seq))
            number = int_id(task.id)
            if number is not None:
                queue.int_ids.setdefault(number, set()).add(key)
            if task.data.get("state") != "completed":
                queue.incomplete += 1
        for task in added:
            self._register_dependencies(queue, task)
            if task.data.get("state") == "active":
                self.enqueue(job_key, task.id.lower())

    def _register_dependencies(self, queue: JobQueue, task: TaskRecord) -> None:
        depends = task.data.get("dependsOn") or {}
        key = task.id.lower()
        blockers = 0
        for dep in depends.get("taskIds") or []:
            dep_key = str(dep).lower()
            if dep_key not in queue.satisfied:
                queue.dependents.setdefault(dep_key, []).append(key)
                blockers += 1
        for span in depends.get("taskIdRanges") or []:
            for number in _numbers_in(queue, int(span["start"]), int(span["end"])):
                if number not in queue.satisfied_ints:
                    queue.int_dependents.setdefault(number, []).append(key)
                    blockers += 1
        if blockers:
            queue.waiting[key] = blockers

    def enqueue(self, job_key: str, task_key: str) -> None:
        """Makes an active task eligible for placement (unless it waits on dependencies)."""
        queue = self.jobs.get(job_key)
        if queue is None or task_key in queue.waiting or task_key in queue.queued:
            return
        rank, seq = queue.order.get(task_key, (0, next(self._seq)))
        queue.queued.add(task_key)
        heapq.heappush(queue.ready, (rank, seq, task_key))

    def dequeue(self, job_key: str, task_key: str) -> None:
        queue = self.jobs.get(job_key)
        if queue is not None:
            queue.queued.discard(task_key)

    def task_completed(self, job_key: str, task_key: str, satisfies: bool) -> list[str]:
        """Counts a completion; returns dependents that became ready when it `satisfies`."""
        queue = self.jobs.get(job_key)
        if queue is None:
            return []
        queue.incomplete = max(queue.incomplete - 1, 0)
        if not satisfies or task_key in queue.satisfied:
            return []
        queue.satisfied.add(task_key)
        waiters = list(queue.dependents.pop(task_key, []))
        number = int_id(task_key)
        if number is not None and number not in queue.satisfied_ints:
            queue.satisfied_ints.add(number)
            waiters += queue.int_dependents.pop(number, [])
        released = []
        for waiter in waiters:
            left = queue.waiting.get(waiter, 0) - 1
            if left > 0:
                queue.waiting[waiter] = left
            elif waiter in queue.waiting:
                del queue.waiting[waiter]
                released.append(waiter)
        return released

    def task_reopened(self, job_key: str) -> None:
        """Counts a completed task that became active again (reactivated)."""
        queue = self.jobs.get(job_key)
        if queue is not None:
            queue.incomplete += 1

    def task_removed(self, job_key: str, task_key: str, completed: bool) -> None:
        queue = self.jobs.get(job_key)
        if queue is None:
            return
        queue.queued.discard(task_key)
        queue.waiting.pop(task_key, None)
        if not completed:
            queue.incomplete = max(queue.incomplete - 1, 0)

    # Placement

    def schedule(
        self,
        tasks_of: Callable[[str], dict[str, TaskRecord]],
        jobs: dict[str, Record],
        nodes_of: Callable[[str], dict[str, NodeRecord]],
        assign: Assign,
    ) -> int:
        """Places ready tasks on free slots in every pool; returns how many were placed."""
        placed = 0
        for ps in list(self.pools.values()):
            if ps.free_of and ps.jobs:
                placed += self._schedule_pool(ps, tasks_of, jobs, nodes_of(ps.key), assign)
        return placed

    def _schedule_pool(
        self,
        ps: PoolSlots,
        tasks_of: Callable[[str], dict[str, TaskRecord]],
        jobs: dict[str, Record],
        nodes: dict[str, NodeRecord],
        assign: Assign,
    ) -> int:
        candidates = [
            (job, self.jobs[key])
            for key in ps.jobs
            if key in self.jobs
            and self.jobs[key].queued
            and (job := jobs.get(key)) is not None
            and job.data.get("state") == "active"
        ]
        candidates.sort(key=lambda pair: (-int(pair[0].data.get("priority") or 0), pair[1].seq))
        placed = 0
        for job, queue in candidates:
            if not ps.free_of:
                break
            placed += self._serve_job(ps, job, queue, tasks_of(queue.key), nodes, assign)
        return placed

    def _serve_job(
        self,
        ps: PoolSlots,
        job: Record,
        queue: JobQueue,
        tasks: dict[str, TaskRecord],
        nodes: dict[str, NodeRecord],
        assign: Assign,
    ) -> int:
        limit = int(job.data.get("maxParallelTasks", -1) or -1)
        placed, passed, skipped = 0, 0, []
        while queue.ready and ps.free_of and passed < LOOKAHEAD:
            if limit > 0 and queue.running >= limit:
                break
            entry = heapq.heappop(queue.ready)
            task = tasks.get(entry[2])
            if entry[2] not in queue.queued or task is None or task.data.get("state") != "active":
                queue.queued.discard(entry[2])
                continue
            chosen = self._choose(ps, queue, task)
            if chosen is None:
                skipped.append(entry)
                passed += 1
                continue
            queue.queued.discard(entry[2])
            assign(job, task, [nodes[key] for key in chosen])
            placed += 1
        for entry in skipped:
            heapq.heappush(queue.ready, entry)
        return placed

    def required_slots(self, ps_slots: int, task: TaskRecord) -> int:
        """Returns the slots a task needs: `requiredSlots`, or the whole node if exclusive."""
        if task.internal.get("exclusive"):
            return ps_slots
        if instances(task) > 1:
            return 1  # requiredSlots is not supported for multi-instance tasks
        return max(int(task.data.get("requiredSlots") or 1), 1)

    def _choose(self, ps: PoolSlots, queue: JobQueue, task: TaskRecord) -> list[str] | None:
        """Returns the node(s) for a task: one, or one per instance of a multi-instance task."""
        count = instances(task)
        if count == 1:
            key = self._pick(ps, queue, task)
            return None if key is None else [key]
        chosen: list[str] = []
        order = range(1, ps.slots + 1) if ps.pack else range(ps.slots, 0, -1)
        for free in order:
            for node_key in ps.buckets[free]:
                if node_key not in queue.ineligible:
                    chosen.append(node_key)
                    if len(chosen) == count:
                        return chosen
        return None

    def _pick(self, ps: PoolSlots, queue: JobQueue, task: TaskRecord) -> str | None:
        need = self.required_slots(ps.slots, task)
        if need > ps.slots:
            return None
        affinity = str((task.data.get("affinityInfo") or {}).get("affinityId") or "")
        preferred = affinity[4:].lower() if affinity.upper().startswith("TVM:") else ""
        if preferred and ps.free_of.get(preferred, 0) >= need:
            if preferred not in queue.ineligible:
                return preferred
        order = range(need, ps.slots + 1) if ps.pack else range(ps.slots, need - 1, -1)
        for free in order:
            for node_key in ps.buckets[free]:
                if node_key not in queue.ineligible:
                    return node_key
        return None


def _pool_key(job: Record) -> str:
    """Returns the key of the pool a job runs on (an auto pool's id is in `executionInfo`)."""
    named = (job.data.get("poolInfo") or {}).get("poolId")
    actual = (job.data.get("executionInfo") or {}).get("poolId")
    return str(named or actual or "").lower()


def _numbers_in(queue: JobQueue, start: int, end: int) -> list[int]:
    """Returns the numeric task ids present in `start..end`, scanning the smaller side."""
    if end < start:
        return []
    if end - start + 1 <= len(queue.int_ids):
        return [n for n in range(start, end + 1) if n in queue.int_ids]
    return sorted(n for n in queue.int_ids if start <= n <= end)
