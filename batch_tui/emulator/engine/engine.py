"""Provides the emulator's engine: everything that moves on its own, and the effects of actions.

The engine is a coordinator. The routes validate and store a change, then call one of its hooks
(`pool_added`, `node_action`, `task_terminated`, ...); the hooks hand the change to the part
that owns the rule (`allocation`, `nodes`, `scheduler`, `taskrun`, `exitrules`,
`multiinstance`, `jobflow`, `preprelease`) and the tick loop moves time forward: it fires due
timers (node boots, simulated task ends, wall-clock limits), handles run outcomes that executors
reported, settles job states, places ready tasks on free slots and launches them. The loop
sleeps until the next timer is due or `wake()` is called (at most `Timings.tick`), and an error
in one step is logged, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from batch_tui.emulator.base.clock import Clock
from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.settings import EmulatorSettings
from batch_tui.emulator.engine import restore
from batch_tui.emulator.engine.allocation import Allocator
from batch_tui.emulator.engine.jobflow import JobFlow
from batch_tui.emulator.engine.multiinstance import MultiInstance
from batch_tui.emulator.engine.nodes import NodeManager
from batch_tui.emulator.engine.runtime import Context, Timers
from batch_tui.emulator.engine.scheduler import Scheduler
from batch_tui.emulator.engine.taskrun import TaskRunner
from batch_tui.emulator.node.executors import Executor
from batch_tui.emulator.node.executors.factory import make_executor
from batch_tui.emulator.node.files import FileTree, task_dir
from batch_tui.emulator.state.store import NodeRecord, Record, Store, TaskRecord

log = logging.getLogger("batch_tui.emulator.engine.engine")

MAX_ROUNDS = 20
"""Reconciliation rounds per tick: work one round creates (a launch that fails at once frees a
slot for the next task) is done in the same tick, but a tick always ends."""

NODE_ACTIONS = ("reboot", "reimage", "deallocate", "start", "disablescheduling", "enablescheduling")


def _temp_data_dir(settings: EmulatorSettings) -> Path | None:
    """Without a data dir, `local` node trees live in a temp dir, removed when the engine stops."""
    if settings.data_dir is not None:
        return None
    return Path(tempfile.gettempdir()) / f"batch-emulator-{os.getpid()}-{id(settings)}"


def _executor(
    settings: EmulatorSettings, clock: Clock, timers: Timers, temp_dir: Path | None
) -> Executor:
    data_dir = settings.data_dir or temp_dir
    assert data_dir is not None
    return make_executor(
        settings.executor,
        data_dir=data_dir,
        clock=clock,
        call_later=timers.canceller,
        simulated_seconds=settings.timings.simulated_task_seconds,
    )


class Engine:
    """The emulated Batch service's state machine.

    Args:
        store: The account's entities.
        settings: The emulator settings (executor, timings, base URL).
        clock: The clock; a `ManualClock` makes every state change wait for `advance`.
    """

    def __init__(self, store: Store, settings: EmulatorSettings, clock: Clock) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        timers = Timers(clock)
        self._temp_dir = _temp_data_dir(settings)
        self.executor = _executor(settings, clock, timers, self._temp_dir)
        self.ctx = Context(store, settings, clock, timers, self.executor, wake=self.wake)
        self.ctx.sched = Scheduler()
        self.ctx.tasks = TaskRunner(self.ctx)
        self.ctx.nodes = NodeManager(self.ctx)
        self.ctx.alloc = Allocator(self.ctx)
        self.ctx.jobs = JobFlow(self.ctx)
        self.ctx.multi = MultiInstance(self.ctx)
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # Loop

    async def start(self) -> None:
        """Starts the background loop in the running event loop; idempotent."""
        if self._loop is None or self._loop.done():
            self._wake = asyncio.Event()
            self._loop = asyncio.create_task(self._run(), name="batch-emulator-engine")

    async def stop(self) -> None:
        """Stops the loop and kills every running task process, waiting for them."""
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        await self.executor.shutdown()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def wake(self) -> None:
        """Asks for a tick soon."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
                await self._sleep()
            except Exception:
                # Never let the service stop moving; pause a tick so a persistent fault
                # does not spin.
                log.exception("emulator engine: tick failed")
                await asyncio.sleep(self.settings.timings.tick)

    async def _sleep(self) -> None:
        timeout = self.settings.timings.tick
        deadline = self.ctx.timers.next_deadline()
        if deadline is not None:
            timeout = min(timeout, max(deadline - self.clock.monotonic(), 0.0))
        if self._wake.is_set():
            self._wake.clear()
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    async def tick(self) -> None:
        """Runs one reconciliation step: timers, outcomes, job states, placement, launches."""
        async with self._lock:
            self._guard("job scan", self.ctx.jobs.scan)
            for _ in range(MAX_ROUNDS):
                if not await self._round():
                    break
            self._guard("job scan", self.ctx.jobs.scan)

    async def _round(self) -> bool:
        """Does one round of work; returns whether anything happened."""
        busy = False
        for timer in self.ctx.timers.pop_due():
            busy = True
            self._guard("timer", timer.fn)
        while self.ctx.events:
            busy = True
            self._guard("run outcome", self.ctx.events.popleft())
        placed = self._guard("placement", self._place)
        busy = busy or bool(placed)
        while self.ctx.pending:
            busy = True
            work = self.ctx.pending.popleft()
            try:
                await work()
            except Exception:
                log.exception("emulator engine: launch failed")
        return busy

    def _place(self) -> int:
        store = self.store
        return self.ctx.sched.schedule(store.job_tasks, store.jobs, store.pool_nodes, self._assign)

    def _assign(self, job: Record, task: TaskRecord, nodes: list[NodeRecord]) -> None:
        self.ctx.tasks.assign(job, task, nodes)

    def _guard(self, what: str, step: Any) -> Any:
        try:
            return step()
        except Exception:
            # One bad record must not stop the service: log it and keep going.
            log.exception("emulator engine: %s failed", what)
            return None

    def adopt(self) -> None:
        """Rebuilds the engine's state from a store loaded from disk and restarts its nodes
        (see `restore`); called once, before `start`."""
        restore.adopt(self.ctx)

    # Pools and nodes

    def pool_added(self, pool: Record) -> None:
        """Allocates nodes toward the new pool's targets."""
        self.ctx.alloc.pool_added(pool)

    def pool_resized(self, pool: Record, option: str) -> None:
        """Moves toward the targets the route set (`allocationState` is `resizing`)."""
        self.ctx.alloc.resize(pool, option or "requeue")

    def pool_stop_resize(self, pool: Record) -> None:
        """Stops the ongoing resize (`allocationState` is `stopping`)."""
        self.ctx.alloc.stop_resize(pool)

    def remove_nodes(self, pool: Record, node_ids: list[str], option: str) -> None:
        """Removes the given nodes with the deallocation option."""
        self.ctx.alloc.remove_nodes(pool, node_ids, option or "requeue")

    def pool_deleted(self, pool: Record) -> None:
        """Requeues the pool's tasks, drops its nodes and then the pool (state is `deleting`)."""
        self.ctx.alloc.pool_deleted(pool)

    def node_action(self, node: NodeRecord, action: str, option: str | None) -> None:
        """Applies a node action, or raises the service's 409 if the node's state forbids it.

        Args:
            node: The node.
            action: reboot, reimage, deallocate, start, disablescheduling or enablescheduling.
            option: The action's option (requeue, terminate, taskcompletion, retaineddata).
        """
        if action not in NODE_ACTIONS:
            raise ServiceError(400, "InvalidUri", f"Unknown node action {action!r}.")
        self.ctx.nodes.check_action(node, action)
        self.ctx.nodes.act(node, action, option)

    # Jobs and tasks

    def job_added(self, job: Record) -> None:
        self.ctx.jobs.job_added(job)

    def job_disabled(self, job: Record, disable_tasks: str) -> None:
        self.ctx.jobs.disable(job, disable_tasks)

    def job_enabled(self, job: Record) -> None:
        self.ctx.jobs.enable(job)

    def job_terminated(self, job: Record, reason: str) -> None:
        self.ctx.jobs.terminate(job, reason or "UserTerminate")

    def job_deleted(self, job: Record) -> None:
        self.ctx.jobs.delete(job)

    def tasks_added(self, job: Record, tasks: list[TaskRecord]) -> None:
        self.ctx.jobs.tasks_added(job, tasks)

    def task_terminated(self, task: TaskRecord) -> None:
        job = self.store.jobs.get(task.job_key)
        if job is not None:
            self.ctx.tasks.terminate(job, task)

    def task_reactivated(self, task: TaskRecord) -> None:
        self.ctx.tasks.reactivate(task)

    def task_deleted(self, task: TaskRecord) -> None:
        """Stops the task if it runs, deletes its files and drops it from the store."""
        self.ctx.tasks.delete(task)

    def task_updated(self, task: TaskRecord) -> None:
        """Applies changed constraints (a running task's wall-clock limit)."""
        self.ctx.tasks.constraints_changed(task)

    # Views

    def job_prep_release_status(self, job: Record) -> list[dict[str, Any]]:
        return self.ctx.jobs.status(job)

    def subtasks(self, task: TaskRecord) -> list[dict[str, Any]]:
        return [dict(item) for item in task.internal.get("subtasks") or []]

    def node_files(self, node: NodeRecord) -> FileTree:
        return self.executor.tree(node.id)

    def task_files(self, task: TaskRecord) -> FileTree:
        """Returns the files of the task's directory on the node where it last ran."""
        node_id = (task.data.get("nodeInfo") or {}).get("nodeId")
        job = self.store.jobs.get(task.job_key)
        if not node_id or job is None:
            raise ServiceError(404, "FileNotFound", "The specified file does not exist.")
        if self.store.find_node(str(node_id)) is None:
            raise ServiceError(
                409, "TaskFilesUnavailable", "The files of the specified task are unavailable."
            )
        return self.executor.tree(str(node_id), task_dir(job.id, task.id))
