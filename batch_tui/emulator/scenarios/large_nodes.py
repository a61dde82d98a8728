"""Provides the node half of the `large` scenario: pools of many nodes in a mix of states.

Each node is built as the engine builds one (`build_node`), then patched into its final state
(idle, offline, starttaskfailed, unusable, preempted) with a boot time in the past, and handed
to the node manager's `sync`, which records the free slots of usable nodes with the scheduler,
exactly as when a node finishes booting.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from batch_tui.emulator.base.times import iso
from batch_tui.emulator.engine.noderecord import NODE_AGENT_VERSION, build_node
from batch_tui.emulator.engine.runtime import EXIT_CODE_FAILURE, failure
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.pools import add_pool
from batch_tui.emulator.scenarios.shell import UBUNTU, sh
from batch_tui.emulator.state.store import NodeRecord, Record

HISTORY_HOURS = 6.0
"""How long ago the pools were allocated (and the big job was submitted, half an hour later)."""


def _unusable_error() -> dict[str, Any]:
    """The error an `unusable` node reports (a fresh copy each: records are edited in place)."""
    return {
        "code": "DiskFull",
        "message": "The node's OS disk is full; the node cannot run tasks.",
        "errorDetails": [{"name": "FreeDiskSpaceMB", "value": "0"}],
    }


@dataclass(frozen=True)
class PoolPlan:
    """How one pool of the scenario looks: its share of the nodes and their states."""

    id: str
    display_name: str
    vm_size: str
    share: float
    """Its part of the scenario's nodes."""
    slots: int = 1
    low_priority: float = 0.0
    """The part of its nodes that are low priority (spot)."""
    start_failed: float = 0.0
    """The part of its nodes whose start task failed (`starttaskfailed`)."""
    offline: float = 0.0
    """The part of its nodes with scheduling disabled (`offline`)."""
    unusable: float = 0.0
    preempted: float = 0.0
    """The part of its low-priority nodes that were preempted."""
    start_task: str = sh("echo installing tools; sleep 60; echo ready")


def _node_state(plan: PoolPlan, dedicated: bool, rng: random.Random) -> str:
    roll = rng.random()
    if not dedicated and roll < plan.preempted:
        return "preempted"
    for state, part in (
        ("starttaskfailed", plan.start_failed),
        ("unusable", plan.unusable),
        ("offline", plan.offline),
    ):
        roll = rng.random()
        if roll < part:
            return state
    return "idle"


def _finish_node(node: NodeRecord, state: str, booted: datetime, now: datetime) -> None:
    """Patches a freshly built node into `state`, booted at `booted`."""
    data = node.data
    data["allocationTime"] = iso(booted - timedelta(minutes=3))
    data["lastBootTime"] = iso(booted)
    data["nodeAgentInfo"] = {"version": NODE_AGENT_VERSION, "lastUpdateTime": iso(booted)}
    changed = booted + (now - booted) * 0.5 if state == "preempted" else booted
    data["state"] = state
    data["stateTransitionTime"] = iso(changed + timedelta(minutes=2))
    node.internal["boot"] = 1
    if state == "offline":
        data["schedulingState"] = "disabled"
    if "startTask" in data:
        data["startTaskInfo"] = _start_task_info(state, booted)
    if state == "starttaskfailed":
        data["errors"] = [{"code": EXIT_CODE_FAILURE[0], "message": EXIT_CODE_FAILURE[1]}]
    elif state == "unusable":
        data["errors"] = [_unusable_error()]


def _start_task_info(state: str, booted: datetime) -> dict[str, Any]:
    started = booted + timedelta(seconds=5)
    info: dict[str, Any] = {
        "state": "completed",
        "startTime": iso(started),
        "endTime": iso(started + timedelta(seconds=65)),
        "retryCount": 0,
        "exitCode": 0,
        "result": "success",
    }
    if state == "starttaskfailed":
        info.update(exitCode=127, result="failure", failureInfo=failure(*EXIT_CODE_FAILURE))
    return info


def seed_pool(
    emu: Emulator, plan: PoolPlan, nodes: int, *, seed: int = 0, hours: float = HISTORY_HOURS
) -> list[NodeRecord]:
    """Creates a pool of `nodes` nodes in the plan's mix of states, allocated `hours` ago.

    Args:
        emu: The emulator (any executor; tasks the engine places on them run under it).
        plan: The pool's id, size and state mix (e.g. a `scenario_large.POOL_PLANS` entry).
        nodes: How many nodes.
        seed: Makes the mix of states repeat.
        hours: How long ago the pool was allocated.

    Returns:
        The nodes, in allocation order; the scheduler knows the free slots of usable ones.
    """
    rng = random.Random(f"{seed}/{plan.id}")
    now = emu.clock.now()
    created = now - timedelta(hours=hours)
    pool = add_pool(emu, _pool_body(plan))
    backdate(pool, created, "allocationStateTransitionTime")
    table = emu.store.pool_nodes(pool.id.lower())
    low = round(nodes * plan.low_priority)
    records: list[NodeRecord] = []
    for index in range(nodes):
        dedicated = index < nodes - low
        node = build_node(emu.engine.ctx, pool, index, dedicated)
        booted = created + timedelta(seconds=rng.uniform(120, 900))
        _finish_node(node, _node_state(plan, dedicated, rng), booted, now)
        emu.store.add(table, node)
        records.append(node)
    pool.internal["allocated"] = nodes
    pool.data.update(
        targetDedicatedNodes=nodes - low,
        targetLowPriorityNodes=low,
        currentDedicatedNodes=nodes - low,
        currentLowPriorityNodes=low,
    )
    for node in records:
        emu.engine.ctx.nodes.sync(node)
    return records


def _pool_body(plan: PoolPlan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "displayName": plan.display_name,
        "vmSize": plan.vm_size,
        "virtualMachineConfiguration": UBUNTU,
        "taskSlotsPerNode": plan.slots,
        "startTask": {"commandLine": plan.start_task, "waitForSuccess": True},
    }


def backdate(record: Record, when: datetime, *fields: str) -> None:
    """Makes a just-created pool or job look created at `when`: its creation, state and the
    named transition times, and its `lastModified`."""
    stamp = iso(when)
    for name in ("creationTime", "stateTransitionTime", *fields):
        record.data[name] = stamp
    record.last_modified = when
