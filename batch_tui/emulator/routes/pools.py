"""Provides the pool operations: add, list, get, exists, patch, update properties, delete.

Resizing and autoscale are in `scaling`.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from batch_tui.emulator.core import Emulator
from batch_tui.emulator.errors import conflict
from batch_tui.emulator.filters import POOL_FILTER
from batch_tui.emulator.routes.common import (
    Call,
    ListSpec,
    RouteTable,
    entity_response,
    get_pool,
    list_response,
    pool_url,
    set_state,
)
from batch_tui.emulator.routes.defaults import start_task
from batch_tui.emulator.routes.scaling import (
    apply_autoscale,
    check_resize_timeout,
    resize_pool,
    writable,
)
from batch_tui.emulator.select import POOL_PROPS
from batch_tui.emulator.store import Record, iso
from batch_tui.emulator.validation import (
    invalid_value,
    missing_property,
    parse_json,
    validate,
    validate_id,
)
from batch_tui.emulator.wire import (
    action_headers,
    created_headers,
    empty_response,
    entity,
    entity_headers,
)

__all__ = ["ROUTES", "add_pool", "resize_pool"]

DEFAULT_RESIZE_TIMEOUT = "PT15M"
POOL_LIST = ListSpec("pools", POOL_FILTER, POOL_PROPS, expand=True)


def _check_scaling(body: dict[str, Any]) -> None:
    if body.get("enableAutoScale"):
        if not body.get("autoScaleFormula"):
            raise missing_property("autoScaleFormula")
        for name in ("targetDedicatedNodes", "targetLowPriorityNodes"):
            if name in body:
                raise invalid_value(
                    name, body[name], "Target nodes cannot be set when autoscale is enabled."
                )
    elif "autoScaleFormula" in body:
        raise invalid_value(
            "autoScaleFormula", body["autoScaleFormula"], "Autoscale is not enabled."
        )


def _pool_data(emu: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    """Builds the full wire dict of a new pool with every default the service echoes."""
    now = iso(emu.clock.now())
    growing = bool(body.get("targetDedicatedNodes") or body.get("targetLowPriorityNodes"))
    data: dict[str, Any] = {"id": body["id"]}
    if "displayName" in body:
        data["displayName"] = body["displayName"]
    data.update(
        creationTime=now,
        state="active",
        stateTransitionTime=now,
        allocationState="resizing" if growing or body.get("enableAutoScale") else "steady",
        allocationStateTransitionTime=now,
        vmSize=body["vmSize"].lower(),
        virtualMachineConfiguration=body["virtualMachineConfiguration"],
        resizeTimeout=body.get("resizeTimeout", DEFAULT_RESIZE_TIMEOUT),
        currentDedicatedNodes=0,
        currentLowPriorityNodes=0,
        targetDedicatedNodes=body.get("targetDedicatedNodes", 0),
        targetLowPriorityNodes=body.get("targetLowPriorityNodes", 0),
        enableAutoScale=body.get("enableAutoScale", False),
    )
    for name in ("autoScaleFormula", "networkConfiguration"):
        if name in body:
            data[name] = body[name]
    if body.get("enableAutoScale"):
        data["autoScaleEvaluationInterval"] = body.get("autoScaleEvaluationInterval", "PT15M")
    data["enableInterNodeCommunication"] = body.get("enableInterNodeCommunication", False)
    if "startTask" in body:
        data["startTask"] = start_task(body["startTask"])
    for name in ("certificateReferences", "applicationPackageReferences"):
        if name in body:
            data[name] = body[name]
    data["taskSlotsPerNode"] = body.get("taskSlotsPerNode", 1)
    data["taskSchedulingPolicy"] = body.get("taskSchedulingPolicy", {"nodeFillType": "spread"})
    for name in ("userAccounts", "metadata", "mountConfiguration", "upgradePolicy"):
        if name in body:
            data[name] = body[name]
    data["targetNodeCommunicationMode"] = body.get("targetNodeCommunicationMode", "default")
    data["currentNodeCommunicationMode"] = "simplified"
    if "resourceTags" in body:
        data["resourceTags"] = body["resourceTags"]
    return data


def add_pool(emu: Emulator, body: dict[str, Any]) -> Record:
    """Validates a PoolAddParameter, stores the new pool and tells the engine to allocate.

    Args:
        emu: The emulator.
        body: The JSON body of `POST /pools` (not yet validated).

    Returns:
        The stored pool record.

    Raises:
        ServiceError: 400 for an invalid body, 409 PoolExists for a duplicate id.
    """
    body = validate(body, "PoolAddParameter")
    validate_id(body["id"])
    if "virtualMachineConfiguration" not in body:
        raise missing_property("virtualMachineConfiguration")
    _check_scaling(body)
    check_resize_timeout(body)
    if body["id"].lower() in emu.store.pools:
        raise conflict("PoolExists", "The specified pool already exists.")
    record = Record(_pool_data(emu, body))
    if body.get("enableAutoScale"):
        apply_autoscale(emu, record)
    emu.store.add(emu.store.pools, record)
    emu.engine.pool_added(record)
    return record


def _render(emu: Emulator, pool: Record, expand: bool) -> dict[str, Any]:
    data = entity(pool, pool_url(emu, pool))
    if expand and "stats" not in data:
        data["stats"] = _stats(emu, pool)
    return data


def _stats(emu: Emulator, pool: Record) -> dict[str, Any]:
    """Pool statistics computed from the store (`$expand=stats`)."""
    now = iso(emu.clock.now())
    return {
        "url": pool_url(emu, pool) + "/stats",
        "startTime": pool.data["creationTime"],
        "lastUpdateTime": now,
    }


async def _add(call: Call) -> Response:
    pool = add_pool(call.emu, parse_json(await call.raw_body()))
    return empty_response(call.request, 201, created_headers(pool, pool_url(call.emu, pool)))


async def _list(call: Call) -> Response:
    pools = list(call.emu.store.pools.values())
    return list_response(
        call,
        pools,
        POOL_LIST,
        key=lambda p: p.id.lower(),
        render=lambda p, expand: _render(call.emu, p, expand),
        stored=lambda p: p.data,
    )


async def _get(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    return entity_response(
        call, pool, POOL_PROPS, "pools/@Element", lambda expand: _render(call.emu, pool, expand)
    )


async def _exists(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    call.check(pool)
    return empty_response(call.request, 200, entity_headers(pool))


async def _patch(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    call.check(pool)
    body = await call.body("PoolPatchParameter")
    writable(pool)
    if "startTask" in body:
        body["startTask"] = start_task(body["startTask"])
    if "vmSize" in body:
        body["vmSize"] = body["vmSize"].lower()
    pool.data.update(body)
    call.emu.store.touch(pool)
    return empty_response(call.request, 200, action_headers(pool, pool_url(call.emu, pool)))


async def _update_properties(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    call.check(pool)
    body = await call.body("PoolUpdatePropertiesParameter")
    writable(pool)
    # A full replace: what the body leaves out is cleared or reset to its default.
    pool.data.pop("startTask", None)
    if "startTask" in body:
        pool.data["startTask"] = start_task(body["startTask"])
    for name in ("certificateReferences", "applicationPackageReferences", "metadata"):
        pool.data[name] = body[name]
    pool.data["targetNodeCommunicationMode"] = body.get("targetNodeCommunicationMode", "default")
    call.emu.store.touch(pool)
    url = pool_url(call.emu, pool) + "/updateproperties"
    return empty_response(call.request, 204, action_headers(pool, url))


async def _delete(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    call.check(pool)
    writable(pool)
    set_state(call.emu, pool, "deleting")
    call.emu.engine.pool_deleted(pool)
    return empty_response(call.request, 202)


ROUTES: RouteTable = [
    ("POST", "/pools", _add),
    ("GET", "/pools", _list),
    ("GET", "/pools/{pool_id}", _get),
    ("HEAD", "/pools/{pool_id}", _exists),
    ("PATCH", "/pools/{pool_id}", _patch),
    ("DELETE", "/pools/{pool_id}", _delete),
    ("POST", "/pools/{pool_id}/updateproperties", _update_properties),
]
