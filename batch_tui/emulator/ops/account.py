"""Provides the account's counts: nodes of a pool by state, as `poolnodecounts` reports them."""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.state.store import Record

NODE_COUNT_KEYS = {
    "creating": "creating",
    "idle": "idle",
    "offline": "offline",
    "preempted": "preempted",
    "rebooting": "rebooting",
    "reimaging": "reimaging",
    "running": "running",
    "starting": "starting",
    "starttaskfailed": "startTaskFailed",
    "leavingpool": "leavingPool",
    "unknown": "unknown",
    "unusable": "unusable",
    "waitingforstarttask": "waitingForStartTask",
    "upgradingos": "upgradingOS",
    "deallocated": "deallocated",
    "deallocating": "deallocating",
}
"""Node state (as on a node) -> its key in NodeCounts (camelCase there)."""


def node_counts(emu: Emulator, pool: Record) -> dict[str, Any]:
    """Counts a pool's nodes by state, dedicated and low-priority apart."""
    dedicated = dict.fromkeys([*NODE_COUNT_KEYS.values(), "total"], 0)
    low = dict(dedicated)
    for node in emu.store.pool_nodes(pool.id.lower()).values():
        counts = dedicated if node.data.get("isDedicated", True) else low
        key = NODE_COUNT_KEYS.get(str(node.data.get("state")), "unknown")
        counts[key] += 1
        counts["total"] += 1
    return {"poolId": pool.id, "dedicated": dedicated, "lowPriority": low}
