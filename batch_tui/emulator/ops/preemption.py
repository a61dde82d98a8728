"""Provides low-priority (spot) node preemption on demand: a function for tests and an endpoint.

Azure reclaims spot capacity whenever it needs it; the emulator does so when asked.
`preempt(emu, pool_id, ...)` (or `POST /_emulator/pools/{poolId}/preempt`) preempts
low-priority nodes of a pool. As on the service (spec: ComputeNodeState, CloudPool; Learn, "Use
Spot VMs with Batch workloads"):

- a preempted node goes `preempted`; the tasks running on it are requeued (`requeueCount` + 1)
  and rescheduled on other nodes; its disk, users and start task state are lost;
- it stays in the pool and keeps counting in `currentLowPriorityNodes` (the spec says preempted
  nodes are included there) and under `preempted` in the node counts;
- the pool seeks back to its target: after `recover_after` seconds (by default
  `RECOVERY_BOOTS` node boot times of the emulator's timings) the node is created again with
  the same id and goes `creating`, `starting`, then runs its start task.

The endpoint takes an optional JSON body: `{"count": N}` preempts N nodes (running ones first),
`{"nodeIds": [...]}` those nodes; without either, every low-priority node that can be
preempted. `"recoverAfter": seconds` sets the delay and `"recover": false` keeps the nodes
preempted until the pool is resized or they are removed. It answers `{"poolId": ...,
"preempted": [node ids]}`, or `{"error": ...}` with 400, 403 (not a loopback client), 404 or
409. Like the fault control endpoint it lives outside the Batch namespace, but a request must be
signed with the account's SharedKey and sent as `application/json` (`http/control.refusal`
checks both before `preempt_endpoint` runs).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from batch_tui.emulator.base.settings import Timings
from batch_tui.emulator.node.storage import is_loopback
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.state.store import NodeRecord, Record

PREEMPT_PATH = "/_emulator/pools/{pool_id}/preempt"
"""The control endpoint's route (Starlette path syntax)."""

RECOVERY_BOOTS = 5
"""How many node boot times (`node_creating + node_starting`) a preempted node waits before the
pool gets it back: long enough to be seen in the demo (10 s), short on fast test timings."""

NOT_PREEMPTIBLE = ("preempted", "leavingpool", "deallocating", "deallocated")
"""States of low-priority nodes that cannot be preempted: already gone or already stopped."""

BODY_KEYS = frozenset({"count", "nodeIds", "recoverAfter", "recover"})


class PreemptionError(Exception):
    """A preemption request that cannot be carried out; `status` is the endpoint's answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def default_recovery(timings: Timings) -> float:
    """Returns how long a preempted node waits for capacity by default, in seconds."""
    return RECOVERY_BOOTS * (timings.node_creating + timings.node_starting)


def preemptible(node: NodeRecord) -> bool:
    """Returns whether a node is a low-priority node that can be preempted now."""
    return (
        not node.data.get("isDedicated", True)
        and node.data.get("state") not in NOT_PREEMPTIBLE
        and not node.internal.get("removing")
    )


def preempt(
    emu: Emulator,
    pool_id: str,
    *,
    count: int | None = None,
    node_ids: Sequence[str] | None = None,
    recover_after: float | None = None,
    recover: bool = True,
) -> list[str]:
    """Preempts low-priority nodes of a pool.

    Args:
        emu: The emulator.
        pool_id: The pool.
        count: How many nodes to preempt (running nodes first, then in allocation order);
            every preemptible node when neither this nor `node_ids` is given.
        node_ids: The nodes to preempt (each must be a preemptible low-priority node).
        recover_after: Seconds until the pool gets the nodes back; `default_recovery` if None.
        recover: False keeps them preempted until they are removed.

    Returns:
        The ids of the nodes preempted, in the order chosen.

    Raises:
        PreemptionError: 404 for an unknown pool or node, 409 for a pool being deleted or a node
            that cannot be preempted, 400 for a bad argument.
    """
    pool = _pool(emu, pool_id)
    chosen = _named(emu, pool, node_ids) if node_ids is not None else _pick(emu, pool, count)
    delay = default_recovery(emu.settings.timings) if recover_after is None else recover_after
    if delay < 0:
        raise PreemptionError(400, "recoverAfter must not be negative")
    for node in chosen:
        emu.engine.ctx.nodes.preempt(node, delay if recover else None)
    return [node.id for node in chosen]


def _pool(emu: Emulator, pool_id: str) -> Record:
    pool = emu.store.pools.get(pool_id.lower())
    if pool is None:
        raise PreemptionError(404, f"the pool {pool_id!r} does not exist")
    if pool.data.get("state") == "deleting":
        raise PreemptionError(409, f"the pool {pool_id!r} is being deleted")
    return pool


def _named(emu: Emulator, pool: Record, node_ids: Sequence[str]) -> list[NodeRecord]:
    nodes = emu.store.pool_nodes(pool.id.lower())
    chosen: list[NodeRecord] = []
    for node_id in dict.fromkeys(i.lower() for i in node_ids):
        node = nodes.get(node_id)
        if node is None:
            raise PreemptionError(404, f"the node {node_id!r} is not in the pool {pool.id!r}")
        if not preemptible(node):
            kind = "dedicated" if node.data.get("isDedicated", True) else node.data.get("state")
            raise PreemptionError(409, f"the node {node.id!r} cannot be preempted ({kind})")
        chosen.append(node)
    return chosen


def _pick(emu: Emulator, pool: Record, count: int | None) -> list[NodeRecord]:
    if count is not None and count < 1:
        raise PreemptionError(400, "count must be at least 1")
    candidates = [n for n in emu.store.pool_nodes(pool.id.lower()).values() if preemptible(n)]
    # Busy nodes first: preempting them is what shows (tasks requeue), and the order is stable.
    candidates.sort(key=lambda n: (n.data.get("state") != "running", n.internal.get("index", 0)))
    return candidates if count is None else candidates[:count]


async def preempt_endpoint(request: Request) -> JSONResponse:
    """Serves `POST PREEMPT_PATH` (see the module docstring)."""
    if not is_loopback(request.client.host if request.client else None):
        return _error(403, "the preemption endpoint answers loopback clients only")
    emu: Emulator = request.app.state.emulator
    try:
        options = _options(await request.body())
        await emu.start()
        preempted = preempt(emu, request.path_params["pool_id"], **options)
    except PreemptionError as err:
        return _error(err.status, str(err))
    pool_id = emu.store.pools[request.path_params["pool_id"].lower()].id
    return JSONResponse({"poolId": pool_id, "preempted": preempted})


def _options(raw: bytes) -> dict[str, Any]:
    """Reads the endpoint's body into `preempt`'s keyword arguments."""
    try:
        body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError as err:  # UnicodeDecodeError and JSONDecodeError alike
        raise PreemptionError(400, f"the body is not valid JSON: {err}") from None
    if not isinstance(body, dict) or set(body) - BODY_KEYS:
        raise PreemptionError(400, f"give a JSON object with keys among {sorted(BODY_KEYS)}")
    if "count" in body and "nodeIds" in body:
        raise PreemptionError(400, "give count or nodeIds, not both")
    options: dict[str, Any] = {}
    if "count" in body:
        options["count"] = _typed(body["count"], int, "count")
    if "nodeIds" in body:
        ids = body["nodeIds"]
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or not ids:
            raise PreemptionError(400, "nodeIds must be a non-empty list of node ids")
        options["node_ids"] = ids
    if "recoverAfter" in body:
        options["recover_after"] = float(_typed(body["recoverAfter"], (int, float), "recoverAfter"))
    if "recover" in body:
        options["recover"] = _typed(body["recover"], bool, "recover")
    return options


def _typed(value: Any, kind: type | tuple[type, ...], name: str) -> Any:
    # bool is an int in Python, never a count or a delay here.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise PreemptionError(400, f"{name} has the wrong type")
    return value


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
