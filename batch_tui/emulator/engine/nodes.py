"""Provides compute nodes: their wire dicts, lifecycle, start task and node actions.

A node goes `creating` -> `starting` -> (`waitingforstarttask` while a start task with
`waitForSuccess` runs) -> `idle`, or `starttaskfailed` when that start task exhausts its
retries. `idle` and `running` follow the tasks on the node; `offline` is a node with scheduling
disabled and nothing running. Actions move it through `rebooting`, `reimaging`,
`deallocating`/`deallocated` and back to `starting`; removal goes through `leavingpool`.

A low-priority node can be preempted (`preemption`): its running tasks are requeued, its disk
and users are lost, and it stays `preempted` until capacity comes back, when it is created again
with the same id (`creating`, `starting`, its start task) as the service restores spot nodes.

The options of reboot, reimage, deallocate, disable scheduling and node removal decide what
happens to running tasks: `requeue` and `terminate` kill them at once, `taskcompletion` and
`retaineddata` (the same thing here: the emulator keeps no retention timers) let them finish
while no new task is scheduled, and the action happens when the node is drained.

Each node's agent log (`agent_log`) records its states, its start task's runs and the tasks
placed on it: the Batch service logs that `uploadbatchservicelogs` copies to a container.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from batch_tui.emulator.base.errors import ServiceError, conflict
from batch_tui.emulator.engine.exitrules import set_result
from batch_tui.emulator.engine.noderecord import (  # re-exported: the scenarios build nodes here
    NODE_AGENT_VERSION as NODE_AGENT_VERSION,
)
from batch_tui.emulator.engine.noderecord import build_node as build_node
from batch_tui.emulator.engine.runtime import EXIT_CODE_FAILURE, Context, Timer
from batch_tui.emulator.node.agent_log import AgentLogs
from batch_tui.emulator.node.executors import Outcome, RunHandle, RunSpec
from batch_tui.emulator.node.files import STARTUP_DIR
from batch_tui.emulator.state.store import NodeRecord, Record

USABLE = ("idle", "running", "offline")
"""States in which a node can run tasks (subject to its scheduling state)."""

REPAIRABLE = ("idle", "running", "offline", "starttaskfailed", "unusable")
"""States in which the service reboots and reimages a node. The spec's text still says idle or
running, but the service also takes both on offline, starttaskfailed and unusable nodes, where
they are the operator's remedy (Azure/batch-shipyard's troubleshooting guide: `pool rebootnode
--all-start-task-failed`)."""

DEALLOCATABLE = ("idle", "running", "offline")
"""States in which the service deallocates a node: idle or running (spec), and offline, which is
an idle node with scheduling disabled. Nothing says it takes a failed node."""

USER_READY = ("idle", "running", "offline", "starttaskfailed")
"""States in which the service adds, updates and deletes node users: idle or running (spec),
offline (disable scheduling, then log in to debug), and starttaskfailed (batch-shipyard's guide
adds an SSH user to a node whose start task failed, to debug it)."""

BUSY_CODES = {
    "creating": ("NodeBeingCreated", "The specified node is being created."),
    "starting": ("NodeBeingStarted", "The specified node is being started."),
    "waitingforstarttask": ("NodeBeingStarted", "The specified node is being started."),
    "rebooting": ("NodeBeingRebooted", "The specified node is being rebooted."),
    "reimaging": ("NodeBeingReimaged", "The specified node is being reimaged."),
    "unusable": ("NodeStateUnusable", "The state of the specified node is unusable."),
}
"""The service's 409 codes for a node action refused in these states (Learn, "Batch Status and
Error Codes"); any other state answers `OperationInvalidForCurrentState`."""


def state_conflict(state: str) -> ServiceError:
    """Returns the service's 409 for a node operation that `state` does not allow.

    Args:
        state: The node's `state`.

    Returns:
        The error, with the state in its `values` as `NodeState`.
    """
    code, message = BUSY_CODES.get(
        state,
        (
            "OperationInvalidForCurrentState",
            "The specified operation is not valid for the current state of the resource.",
        ),
    )
    return conflict(code, message, {"NodeState": state})


class NodeManager:
    """Moves nodes through their states and applies node actions."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._timers: dict[str, Timer] = {}
        self._start_runs: dict[str, RunHandle] = {}
        self.logs = AgentLogs()
        """What each node's agent did: the Batch service logs it uploads (`agent_log`)."""

    # Lookups

    def pool_of(self, node: NodeRecord) -> Record | None:
        return self.ctx.store.pools.get(node.pool_key)

    def slots_of(self, node: NodeRecord) -> int:
        pool = self.pool_of(node)
        return max(int((pool.data if pool else {}).get("taskSlotsPerNode") or 1), 1)

    def schedulable(self, node: NodeRecord) -> bool:
        pool = self.pool_of(node)
        return (
            node.data["state"] in ("idle", "running")
            and node.data["schedulingState"] == "enabled"
            and not node.internal.get("pending")
            and pool is not None
            and pool.data.get("state", "active") == "active"
        )

    def sync(self, node: NodeRecord) -> None:
        """Refreshes the node's derived fields and its free slots in the scheduler, then runs
        an action that was waiting for the node to drain."""
        running = self.ctx.tasks.placements_on(node.id.lower())
        keys = frozenset((p.job_key, p.task_key) for p in running)
        self.logs.tasks(node, self.ctx.clock.now(), keys, self._task_name)
        used = sum(p.slots for p in running)
        node.data["runningTasksCount"] = len(running)
        node.data["runningTaskSlotsCount"] = used
        if node.data["state"] in USABLE:
            if running:
                self._state(node, "running")
            elif node.data["schedulingState"] == "disabled":
                self._state(node, "offline")
            else:
                self._state(node, "idle")
        free = self.slots_of(node) - used if self.schedulable(node) else None
        self.ctx.sched.node_update(node.pool_key, node.id.lower(), free)
        self.ctx.touch(node)
        if not running and node.internal.get("pending"):
            self._drained(node)

    def _task_name(self, key: tuple[str, str]) -> str:
        job = self.ctx.store.jobs.get(key[0])
        task = self.ctx.store.tasks.get(key[0], {}).get(key[1])
        return f"{job.id if job else key[0]}/{task.id if task else key[1]}"

    def _state(self, node: NodeRecord, state: str) -> None:
        if node.data["state"] != state:
            self.logs.note(node, self.ctx.clock.now(), f"state {state}")
            node.data["state"] = state
            node.data["stateTransitionTime"] = self.ctx.now()

    def _after(self, node: NodeRecord, delay: float, step: Callable[[NodeRecord], None]) -> None:
        key = node.id.lower()
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        self._timers[key] = self.ctx.timers.call_later(delay, lambda: step(node))

    def _cancel(self, node: NodeRecord) -> None:
        old = self._timers.pop(node.id.lower(), None)
        if old is not None:
            old.cancel()
        run = self._start_runs.pop(node.id.lower(), None)
        if run is not None:
            run.kill()

    # Lifecycle

    def create(self, pool: Record, dedicated: bool) -> NodeRecord:
        """Adds a node to `pool` in `creating`; it boots on the engine's clock."""
        index = int(pool.internal.get("allocated", 0))
        pool.internal["allocated"] = index + 1
        node = build_node(self.ctx, pool, index, dedicated)
        self.ctx.store.add(self.ctx.store.pool_nodes(node.pool_key), node)
        self.ctx.executor.node_created(node.id)
        self._after(node, self.ctx.settings.timings.node_creating, self._created)
        return node

    def _created(self, node: NodeRecord) -> None:
        self._begin_start(node)
        self.ctx.alloc.reconcile(node.pool_key)

    def _begin_start(self, node: NodeRecord) -> None:
        self._state(node, "starting")
        self.ctx.touch(node)
        self._after(node, self.ctx.settings.timings.node_starting, self._booted)

    def _booted(self, node: NodeRecord) -> None:
        now = self.ctx.now()
        node.data["lastBootTime"] = now
        node.data["nodeAgentInfo"] = {"version": NODE_AGENT_VERSION, "lastUpdateTime": now}
        node.internal["boot"] = int(node.internal.get("boot", 0)) + 1
        start = node.data.get("startTask")
        if start:
            node.internal["startRetries"] = 0
            waits = start.get("waitForSuccess", True)
            self._state(node, "waitingforstarttask" if waits else "idle")
            self._queue_start_task(node)
        else:
            self._state(node, "idle")
        self.sync(node)

    def _queue_start_task(self, node: NodeRecord) -> None:
        boot = node.internal["boot"]
        self.ctx.defer(lambda: self._run_start_task(node, boot))

    async def _run_start_task(self, node: NodeRecord, boot: int) -> None:
        start = node.data.get("startTask")
        key = node.id.lower()
        alive = key in self.ctx.store.pool_nodes(node.pool_key)
        if not start or not alive or node.internal.get("boot") != boot:
            return  # the node rebooted, left or lost its start task meanwhile
        retries = int(node.internal.get("startRetries", 0))
        info: dict[str, Any] = {"state": "running", "startTime": self.ctx.now()}
        info["retryCount"] = retries
        if retries:
            info["lastRetryTime"] = info["startTime"]
        node.data["startTaskInfo"] = info
        self.ctx.touch(node)
        self.logs.note(node, self.ctx.clock.now(), f"start task running (retry {retries})")
        pool = self.pool_of(node)
        spec = RunSpec(
            node_id=node.id,
            pool_id=pool.id if pool else node.pool_key,
            task_dir=STARTUP_DIR,
            command_line=str(start.get("commandLine", "")),
            kind="start",
            env=self.ctx.tasks.base_env(node, start.get("environmentSettings")),
            resource_files=list(start.get("resourceFiles") or []),
        )
        handle = await self.ctx.executor.launch(
            spec, lambda outcome: self.ctx.report(lambda: self._start_done(node, outcome, boot))
        )
        self._start_runs[key] = handle

    def _start_done(self, node: NodeRecord, outcome: Outcome, boot: int) -> None:
        if node.internal.get("boot") != boot or node.data["state"] in ("leavingpool",):
            return
        self._start_runs.pop(node.id.lower(), None)
        start = node.data.get("startTask") or {}
        info = node.data.get("startTaskInfo") or {}
        code = outcome.exit_code
        info.update(state="completed", endTime=self.ctx.now())
        ok = code == 0 and outcome.failure is None
        retries = int(node.internal.get("startRetries", 0))
        limit = int(start.get("maxTaskRetryCount", 0) or 0)
        if not ok and outcome.failure is None and (limit == -1 or retries < limit):
            info["exitCode"] = code  # the failed try shows until the retry starts
            node.internal["startRetries"] = retries + 1
            self._queue_start_task(node)
            return
        set_result(info, code, outcome.failure)
        ended = f"exit code {code}" if outcome.failure is None else outcome.failure.get("code")
        self.logs.note(node, self.ctx.clock.now(), f"start task completed: {ended}")
        self._start_finished(node, ok=ok)

    def _start_finished(self, node: NodeRecord, ok: bool) -> None:
        waits = (node.data.get("startTask") or {}).get("waitForSuccess", True)
        if node.data["state"] == "waitingforstarttask":
            if ok or not waits:
                self._state(node, "idle")
            else:
                self._state(node, "starttaskfailed")
                # The start task's own failure: an exit code, or a resource file it lacked.
                fail = (node.data.get("startTaskInfo") or {}).get("failureInfo") or {}
                code = fail.get("code", EXIT_CODE_FAILURE[0])
                message = fail.get("message", EXIT_CODE_FAILURE[1])
                node.data["errors"] = [{"code": code, "message": message}]
        self.sync(node)

    # Actions

    def check_action(self, node: NodeRecord, action: str) -> None:
        """Raises the service's 409 when `action` is not allowed in the node's state."""
        state = node.data["state"]
        if node.internal.get("pending") or node.internal.get("removing"):
            raise conflict(
                "OperationInvalidForCurrentState",
                "The specified operation is not valid for the current state of the resource.",
            )
        if action in ("reboot", "reimage") and state not in REPAIRABLE:
            raise state_conflict(state)
        if action == "deallocate" and state not in DEALLOCATABLE:
            raise state_conflict(state)
        if action == "start" and state != "deallocated":
            raise state_conflict(state)
        if action in ("disablescheduling", "enablescheduling"):
            want = "disabled" if action == "disablescheduling" else "enabled"
            if node.data["schedulingState"] == want:
                raise conflict(
                    "NodeAlreadyInTargetSchedulingState",
                    "The specified node is already in the target scheduling state.",
                )
            if state in ("leavingpool", "deallocated", "deallocating"):
                raise state_conflict(state)

    def act(self, node: NodeRecord, action: str, option: str | None) -> None:
        """Applies a validated node action with its option (default `requeue`)."""
        option = option or "requeue"
        if action == "start":
            self._begin_start(node)
            return
        if action == "enablescheduling":
            node.data["schedulingState"] = "enabled"
            self.sync(node)
            return
        if option in ("requeue", "terminate"):
            self.ctx.tasks.evict(node, option)
        if action == "disablescheduling":
            # taskcompletion needs no bookkeeping: the node goes offline once it is empty.
            node.data["schedulingState"] = "disabled"
        else:
            node.internal["pending"] = action
        self.sync(node)

    def _drained(self, node: NodeRecord) -> None:
        """Performs the action that waited for the node's tasks to finish."""
        action = node.internal.pop("pending", None)
        if action == "remove":
            self.leave(node)
        elif action == "reboot":
            self._go(node, "rebooting", self.ctx.settings.timings.node_rebooting)
        elif action == "reimage":
            self._go(node, "reimaging", self.ctx.settings.timings.node_reimaging)
        elif action == "deallocate":
            self._go(node, "deallocating", self.ctx.settings.timings.node_deallocating)

    def _go(self, node: NodeRecord, state: str, delay: float) -> None:
        self._cancel(node)
        self._state(node, state)
        node.data.pop("errors", None)
        self.ctx.jobs.node_restarting(node, reimage=state == "reimaging")
        self.sync(node)
        self._after(node, delay, self._went)

    def _went(self, node: NodeRecord) -> None:
        state = node.data["state"]
        if state == "deallocating":
            self._state(node, "deallocated")
            self.sync(node)
            return
        if state == "reimaging":
            self.ctx.executor.node_reimaged(node.id)
            self.logs.wiped(node)
            node.data.pop("startTaskInfo", None)
        self._begin_start(node)

    # Preemption

    def preempt(self, node: NodeRecord, recover_after: float | None) -> None:
        """Preempts a node: tasks requeued, disk and users lost; back after `recover_after` s."""
        self._cancel(node)
        node.internal.pop("pending", None)
        self.ctx.tasks.evict(node, "requeue")
        self.logs.wiped(node)  # the disk that held them is lost
        self._state(node, "preempted")
        for lost in ("startTaskInfo", "errors", "recentTasks", "nodeAgentInfo"):
            node.data.pop(lost, None)
        node.users.clear()
        self.ctx.jobs.node_restarting(node, reimage=True)
        self.ctx.executor.node_reimaged(node.id)
        if recover_after is not None:
            # Saved with the node: a restart in between re-arms the timer (`resume_recovery`).
            back = self.ctx.clock.now() + timedelta(seconds=recover_after)
            node.internal["recoverAt"] = back.timestamp()
            self.ctx.touch(node)
            self._after(node, recover_after, self._recreate)
        self.sync(node)

    def resume_recovery(self, node: NodeRecord) -> None:
        """Re-arms the return of a preempted node after a restart (its timer was in memory);
        a node whose time has passed comes back now."""
        at = node.internal.get("recoverAt")
        if node.data.get("state") == "preempted" and at is not None:
            self._after(node, max(0.0, at - self.ctx.clock.now().timestamp()), self._recreate)

    def _recreate(self, node: NodeRecord) -> None:
        node.internal.pop("recoverAt", None)
        self._state(node, "creating")
        self.ctx.touch(node)
        self._after(node, self.ctx.settings.timings.node_creating, self._created)

    # Removal

    def remove(self, node: NodeRecord, option: str) -> None:
        """Takes a node out of its pool, honouring the deallocation option."""
        if node.internal.get("removing"):
            return
        node.internal["removing"] = True
        if option in ("requeue", "terminate"):
            self.ctx.tasks.evict(node, option)
        node.internal["pending"] = "remove"
        self.sync(node)

    def cancel_removal(self, node: NodeRecord) -> None:
        """Keeps a node whose removal was still waiting for its tasks (stop or timeout)."""
        if node.internal.get("pending") == "remove" and node.data["state"] != "leavingpool":
            node.internal.pop("pending")
            node.internal.pop("removing", None)
            self.sync(node)

    def leave(self, node: NodeRecord) -> None:
        """Moves a node to `leavingpool`; it is deleted after `node_leaving` seconds."""
        self._cancel(node)
        node.internal["removing"] = True
        self.ctx.tasks.evict(node, "requeue")
        self._state(node, "leavingpool")
        self.sync(node)
        self._after(node, self.ctx.settings.timings.node_leaving, self._gone)

    def _gone(self, node: NodeRecord) -> None:
        key = node.id.lower()
        self._cancel(node)
        self.ctx.sched.node_update(node.pool_key, key, None)
        self.ctx.store.remove(self.ctx.store.pool_nodes(node.pool_key), key)
        self.ctx.store.version += 1
        self.ctx.jobs.node_gone(node)
        self.ctx.executor.node_removed(node.id)
        self.logs.forget(node)
        self.ctx.alloc.node_gone(node)
