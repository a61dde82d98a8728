"""Provides pool scaling: resize, stop resize, remove nodes and autoscale.

With the checks the service makes before the allocation state changes.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from batch_tui.emulator import autoscale
from batch_tui.emulator.core import Emulator
from batch_tui.emulator.errors import ServiceError, conflict
from batch_tui.emulator.routes.common import Call, RouteTable, get_pool, pool_url
from batch_tui.emulator.store import Record, iso
from batch_tui.emulator.validation import (
    invalid_value,
    missing_property,
    parse_duration,
    parse_json,
    validate,
)
from batch_tui.emulator.wire import action_headers, empty_response, json_response

MIN_RESIZE_SECONDS = 5 * 60
"""The service refuses resize timeouts under 5 minutes (spec)."""
TICKS = 10_000_000
"""Ticks (100 ns) per second, the unit of `parse_duration`."""


def check_resize_timeout(body: dict[str, Any]) -> None:
    timeout = body.get("resizeTimeout")
    if timeout and parse_duration(timeout) < MIN_RESIZE_SECONDS * TICKS:
        raise invalid_value("resizeTimeout", timeout, "The minimum value is 5 minutes.")


def writable(pool: Record) -> None:
    if pool.data.get("state") == "deleting":
        raise conflict("PoolBeingDeleted", "The specified pool has been marked for deletion.")


def require_steady(pool: Record) -> None:
    writable(pool)
    if pool.data.get("allocationState") != "steady":
        raise conflict(
            "PoolBeingResized", "The specified pool is being resized; wait until it is steady."
        )


def apply_autoscale(emu: Emulator, pool: Record) -> None:
    """Evaluates the pool's formula and takes its targets, as the service does on enable."""
    run = autoscale.evaluate(pool.data["autoScaleFormula"], pool.data, emu.clock.now())
    pool.data["autoScaleRun"] = run
    result = autoscale.targets(run, pool.data)
    if result is not None:
        pool.data["targetDedicatedNodes"], pool.data["targetLowPriorityNodes"], _ = result


def resize_pool(emu: Emulator, pool_id: str, body: dict[str, Any]) -> Record:
    """Validates a PoolResizeParameter, sets the new targets and starts the resize.

    Raises:
        ServiceError: 404 PoolNotFound, 400 for a bad body, 409 when the pool is not steady,
            is being deleted or scales automatically.
    """
    pool = get_pool(emu, pool_id)
    body = validate(body, "PoolResizeParameter")
    check_resize_timeout(body)
    require_steady(pool)
    if pool.data.get("enableAutoScale"):
        raise conflict("AutoScalingEnabled", "The pool has automatic scaling enabled.")
    for name in ("targetDedicatedNodes", "targetLowPriorityNodes", "resizeTimeout"):
        if name in body:
            pool.data[name] = body[name]
    begin_resize(emu, pool)
    emu.engine.pool_resized(pool, body.get("nodeDeallocationOption", "requeue"))
    return pool


def begin_resize(emu: Emulator, pool: Record) -> None:
    pool.data["allocationState"] = "resizing"
    pool.data["allocationStateTransitionTime"] = iso(emu.clock.now())
    pool.data.pop("resizeErrors", None)
    emu.store.touch(pool)


async def _resize(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    call.check(pool)
    resize_pool(call.emu, pool.id, parse_json(await call.raw_body()))
    url = pool_url(call.emu, pool) + "/resize"
    return empty_response(call.request, 202, action_headers(pool, url))


async def _stop_resize(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    call.check(pool)
    writable(pool)
    if pool.data.get("allocationState") == "resizing":
        pool.data["allocationState"] = "stopping"
        pool.data["allocationStateTransitionTime"] = iso(call.emu.clock.now())
        call.emu.store.touch(pool)
        call.emu.engine.pool_stop_resize(pool)
    url = pool_url(call.emu, pool) + "/stopresize"
    return empty_response(call.request, 202, action_headers(pool, url))


async def _remove_nodes(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    call.check(pool)
    body = await call.body("NodeRemoveParameter")
    check_resize_timeout(body)
    node_ids: list[str] = body["nodeList"]
    if not 1 <= len(node_ids) <= 100:
        raise invalid_value("nodeList", len(node_ids), "Between 1 and 100 nodes can be removed.")
    require_steady(pool)
    nodes = call.emu.store.pool_nodes(pool.id.lower())
    missing = [n for n in node_ids if n.lower() not in nodes]
    if missing:
        raise ServiceError(
            404, "NodeNotFound", "The specified node does not exist.", {"NodeId": missing[0]}
        )
    if "resizeTimeout" in body:
        pool.data["resizeTimeout"] = body["resizeTimeout"]
    begin_resize(call.emu, pool)
    option = body.get("nodeDeallocationOption", "requeue")
    call.emu.engine.remove_nodes(pool, [nodes[n.lower()].id for n in node_ids], option)
    url = pool_url(call.emu, pool) + "/removenodes"
    return empty_response(call.request, 202, action_headers(pool, url))


async def _enable_autoscale(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    call.check(pool)
    body = await call.body("PoolEnableAutoScaleParameter")
    writable(pool)
    formula = body.get("autoScaleFormula") or pool.data.get("autoScaleFormula")
    if not formula:
        raise missing_property("autoScaleFormula")
    interval = body.get("autoScaleEvaluationInterval")
    if interval and not 5 * 60 <= parse_duration(interval) / TICKS <= 168 * 3600:
        raise invalid_value(
            "autoScaleEvaluationInterval",
            interval,
            "The interval must be between 5 minutes and 168 hours.",
        )
    pool.data["enableAutoScale"] = True
    pool.data["autoScaleFormula"] = formula
    pool.data["autoScaleEvaluationInterval"] = interval or pool.data.get(
        "autoScaleEvaluationInterval", "PT15M"
    )
    before = (pool.data["targetDedicatedNodes"], pool.data["targetLowPriorityNodes"])
    apply_autoscale(call.emu, pool)
    after = (pool.data["targetDedicatedNodes"], pool.data["targetLowPriorityNodes"])
    if after != before and pool.data["allocationState"] == "steady":
        begin_resize(call.emu, pool)
        call.emu.engine.pool_resized(pool, "requeue")
    call.emu.store.touch(pool)
    url = pool_url(call.emu, pool) + "/enableautoscale"
    return empty_response(call.request, 200, action_headers(pool, url))


async def _disable_autoscale(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    writable(pool)
    pool.data["enableAutoScale"] = False
    for name in ("autoScaleFormula", "autoScaleEvaluationInterval", "autoScaleRun"):
        pool.data.pop(name, None)
    call.emu.store.touch(pool)
    url = pool_url(call.emu, pool) + "/disableautoscale"
    return empty_response(call.request, 200, action_headers(pool, url))


async def _evaluate_autoscale(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    body = await call.body("PoolEvaluateAutoScaleParameter")
    if not pool.data.get("enableAutoScale"):
        raise conflict("AutoScaleNotEnabled", "Automatic scaling is not enabled on the pool.")
    run = autoscale.evaluate(body["autoScaleFormula"], pool.data, call.emu.clock.now())
    url = pool_url(call.emu, pool) + "/evaluateautoscale"
    return json_response(
        call.request,
        run,
        metadata="Microsoft.Azure.Batch.Protocol.Entities.AutoScaleRun",
        headers={"DataServiceId": url},
    )


ROUTES: RouteTable = [
    ("POST", "/pools/{pool_id}/resize", _resize),
    ("POST", "/pools/{pool_id}/stopresize", _stop_resize),
    ("POST", "/pools/{pool_id}/removenodes", _remove_nodes),
    ("POST", "/pools/{pool_id}/enableautoscale", _enable_autoscale),
    ("POST", "/pools/{pool_id}/disableautoscale", _disable_autoscale),
    ("POST", "/pools/{pool_id}/evaluateautoscale", _evaluate_autoscale),
]
