"""Provides pool allocation: resize, stop-resize, node removal and pool deletion.

A resize creates nodes (they appear at once in `creating`, as on the service) or picks nodes to
remove, and the pool stays `resizing` until every new node has left `creating` and every
removed node has left the pool; then it is `steady`. If that takes longer than the pool's
`resizeTimeout` (nodes still waiting for their tasks under `taskcompletion`, say), the resize
gives up: nodes not yet created are dropped, pending removals are cancelled, and the pool goes
`steady` with a `resizeErrors` entry `AllocationTimedout`. Stop-resize does the same with
`ResizeStopped` through the `stopping` state. Auto-scale formulas are not evaluated.
"""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.base.times import duration_seconds
from batch_tui.emulator.engine.runtime import Context, Timer
from batch_tui.emulator.state.store import NodeRecord, Record

DEFAULT_RESIZE_TIMEOUT = 15 * 60.0
"""The service's default `resizeTimeout` (PT15M)."""

REMOVAL_ORDER = {
    "preempted": 0,
    "creating": 0,
    "starting": 1,
    "starttaskfailed": 1,
    "unusable": 1,
    "offline": 2,
}
"""Which nodes a shrink removes first: those doing nothing useful, then idle, then busy ones."""

TIMED_OUT = {
    "code": "AllocationTimedout",
    "message": "The Batch service was unable to allocate the desired number of compute nodes "
    "within the resize timeout.",
}
STOPPED = {"code": "ResizeStopped", "message": "The user stopped the resize operation."}


class Allocator:
    """Drives pools toward their target node counts."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._deadline: dict[str, Timer] = {}

    def _nodes(self, pool_key: str) -> dict[str, NodeRecord]:
        return self.ctx.store.pool_nodes(pool_key)

    def _staying(self, pool_key: str, dedicated: bool) -> list[NodeRecord]:
        return [
            node
            for node in self._nodes(pool_key).values()
            if node.data["isDedicated"] == dedicated and not node.internal.get("removing")
        ]

    def _set_allocation(self, pool: Record, state: str) -> None:
        if pool.data.get("allocationState") != state:
            pool.data["allocationState"] = state
            pool.data["allocationStateTransitionTime"] = self.ctx.now()

    def _count(self, pool: Record) -> None:
        nodes = self._nodes(pool.id.lower()).values()
        dedicated = sum(1 for node in nodes if node.data["isDedicated"])
        pool.data["currentDedicatedNodes"] = dedicated
        pool.data["currentLowPriorityNodes"] = len(nodes) - dedicated

    # Hooks

    def pool_added(self, pool: Record) -> None:
        self.ctx.sched.add_pool(pool)
        pool.data.setdefault("currentDedicatedNodes", 0)
        pool.data.setdefault("currentLowPriorityNodes", 0)
        self.resize(pool, "requeue")

    def resize(self, pool: Record, option: str) -> None:
        """Starts moving toward the pool's targets (a new resize clears old errors)."""
        key = pool.id.lower()
        pool.data.pop("resizeErrors", None)
        self._set_allocation(pool, "resizing")
        self._arm_timeout(pool)
        for dedicated, field in ((True, "targetDedicatedNodes"), (False, "targetLowPriorityNodes")):
            staying = self._staying(key, dedicated)
            target = int(pool.data.get(field) or 0)
            for _ in range(target - len(staying)):
                self.ctx.nodes.create(pool, dedicated)
            for node in self._pick_removals(staying, len(staying) - target):
                self.ctx.nodes.remove(node, option)
        self._count(pool)
        self.reconcile(key)

    def _pick_removals(self, nodes: list[NodeRecord], count: int) -> list[NodeRecord]:
        if count <= 0:
            return []

        def cost(node: NodeRecord) -> tuple[int, int, int]:
            rank = REMOVAL_ORDER.get(node.data["state"], 3)
            busy = int(node.data.get("runningTasksCount") or 0)
            return rank, busy, -int(node.internal.get("index", 0))

        return sorted(nodes, key=cost)[:count]

    def _arm_timeout(self, pool: Record) -> None:
        key = pool.id.lower()
        old = self._deadline.pop(key, None)
        if old is not None:
            old.cancel()
        timeout = duration_seconds(pool.data.get("resizeTimeout")) or DEFAULT_RESIZE_TIMEOUT
        self._deadline[key] = self.ctx.timers.call_later(timeout, lambda: self._expired(key))

    def stop_resize(self, pool: Record) -> None:
        self._set_allocation(pool, "stopping")
        self._give_up(pool, STOPPED)

    def _expired(self, pool_key: str) -> None:
        self._deadline.pop(pool_key, None)
        pool = self.ctx.store.pools.get(pool_key)
        if pool is not None and pool.data.get("allocationState") == "resizing":
            self._give_up(pool, TIMED_OUT)

    def _give_up(self, pool: Record, error: dict[str, Any]) -> None:
        key = pool.id.lower()
        timer = self._deadline.pop(key, None)
        if timer is not None:
            timer.cancel()
        for node in list(self._nodes(key).values()):
            if node.data["state"] == "creating":
                self.ctx.nodes.leave(node)
            else:
                self.ctx.nodes.cancel_removal(node)
        pool.data["resizeErrors"] = [dict(error)]
        self._count(pool)
        self.ctx.touch(pool)
        self.reconcile(key)

    def remove_nodes(self, pool: Record, node_ids: list[str], option: str) -> None:
        """Removes the named nodes (the route checked them) and lowers the targets to match."""
        key = pool.id.lower()
        nodes = self._nodes(key)
        chosen = [nodes[i.lower()] for i in node_ids if i.lower() in nodes]
        for node in chosen:
            field = "targetDedicatedNodes" if node.data["isDedicated"] else "targetLowPriorityNodes"
            pool.data[field] = max(int(pool.data.get(field) or 0) - 1, 0)
        pool.data.pop("resizeErrors", None)
        self._set_allocation(pool, "resizing")
        self._arm_timeout(pool)
        for node in chosen:
            self.ctx.nodes.remove(node, option)
        self.reconcile(key)

    def pool_deleted(self, pool: Record) -> None:
        """Drains a deleting pool: its tasks are requeued, then its nodes and the pool go."""
        key = pool.id.lower()
        timer = self._deadline.pop(key, None)
        if timer is not None:
            timer.cancel()
        for node in list(self._nodes(key).values()):
            if node.data["state"] != "leavingpool":
                self.ctx.nodes.leave(node)
        self.reconcile(key)

    # Progress

    def node_gone(self, node: NodeRecord) -> None:
        pool = self.ctx.store.pools.get(node.pool_key)
        if pool is not None:
            self._count(pool)
            self.ctx.touch(pool)
            self.reconcile(node.pool_key)

    def reconcile(self, pool_key: str) -> None:
        """Finishes a resize (or the pool's deletion) once no node is still on its way."""
        pool = self.ctx.store.pools.get(pool_key)
        if pool is None:
            return
        nodes = self._nodes(pool_key).values()
        if pool.data.get("state") == "deleting":
            if not nodes:
                self._drop(pool)
            return
        moving = any(
            node.data["state"] in ("creating", "leavingpool") or node.internal.get("removing")
            for node in nodes
        )
        if pool.data.get("allocationState") in ("resizing", "stopping") and not moving:
            timer = self._deadline.pop(pool_key, None)
            if timer is not None:
                timer.cancel()
            self._set_allocation(pool, "steady")
            self._count(pool)
            self.ctx.touch(pool)

    def _drop(self, pool: Record) -> None:
        key = pool.id.lower()
        self.ctx.store.remove(self.ctx.store.pools, key)
        self.ctx.store.remove(self.ctx.store.nodes, key)
        self.ctx.store.version += 1
        self.ctx.sched.remove_pool(key)
