"""Provides pool scaling: resize, stop resize, remove nodes and autoscale.

With the checks the service makes before the allocation state changes. Autoscale evaluations
(on enable, on request and periodically by `Autoscaler`) resize the pool through `rescale`, the
same path as a resize request.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from batch_tui.emulator import autoscale
from batch_tui.emulator.core import Emulator
from batch_tui.emulator.errors import ServiceError, conflict
from batch_tui.emulator.metrics import History
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


def check_interval(interval: str | None) -> None:
    """Refuses an `autoScaleEvaluationInterval` outside 5 minutes to 168 hours (400)."""
    if interval is None:
        return
    seconds = parse_duration(interval) / TICKS
    if not autoscale.MIN_INTERVAL_SECONDS <= seconds <= autoscale.MAX_INTERVAL_SECONDS:
        raise invalid_value(
            "autoScaleEvaluationInterval",
            interval,
            "The interval must be between 5 minutes and 168 hours.",
        )


def apply_autoscale(emu: Emulator, pool: Record) -> None:
    """Evaluates a new pool's formula, takes its targets and starts its periodic evaluation.

    Raises:
        ServiceError: 400 for a formula that does not parse or an interval out of range.
    """
    check_interval(pool.data.get("autoScaleEvaluationInterval"))
    evaluation = autoscale.evaluate(emu, pool, pool.data["autoScaleFormula"])
    pool.data["autoScaleRun"] = evaluation.run
    if evaluation.dedicated is not None and evaluation.low_priority is not None:
        pool.data["targetDedicatedNodes"] = evaluation.dedicated
        pool.data["targetLowPriorityNodes"] = evaluation.low_priority
    emu.periodic.autoscaler.watch(pool)


def rescale(emu: Emulator, pool: Record, evaluation: autoscale.Evaluation) -> None:
    """Applies an evaluation to a live pool: records the run and, when the targets move,
    resizes the pool through the same path as a resize request."""
    pool.data["autoScaleRun"] = evaluation.run
    # A pool that is stopping a resize settles at once; the next evaluation takes it from there.
    stopping = pool.data.get("allocationState") == "stopping"
    if autoscale.targets_changed(evaluation, pool.data) and not stopping:
        pool.data["targetDedicatedNodes"] = evaluation.dedicated
        pool.data["targetLowPriorityNodes"] = evaluation.low_priority
        begin_resize(emu, pool)
        emu.engine.pool_resized(pool, evaluation.option)
    emu.store.touch(pool)


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
    if not pool.data.get("enableAutoScale"):
        # The service refuses to start autoscale while a resize runs (spec).
        require_steady(pool)
    formula = body.get("autoScaleFormula") or pool.data.get("autoScaleFormula")
    if not formula:
        raise missing_property("autoScaleFormula")
    interval = body.get("autoScaleEvaluationInterval")
    check_interval(interval)
    evaluation = autoscale.evaluate(call.emu, pool, formula, _history(call.emu, pool))
    call.emu.periodic.autoscaler.enabled(pool.id)
    pool.data["enableAutoScale"] = True
    pool.data["autoScaleFormula"] = formula
    pool.data["autoScaleEvaluationInterval"] = interval or pool.data.get(
        "autoScaleEvaluationInterval", autoscale.DEFAULT_INTERVAL
    )
    rescale(call.emu, pool, evaluation)
    call.emu.periodic.autoscaler.watch(pool)
    url = pool_url(call.emu, pool) + "/enableautoscale"
    return empty_response(call.request, 200, action_headers(pool, url))


async def _disable_autoscale(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    writable(pool)
    pool.data["enableAutoScale"] = False
    for name in ("autoScaleFormula", "autoScaleEvaluationInterval", "autoScaleRun"):
        pool.data.pop(name, None)
    call.emu.periodic.autoscaler.forget(pool.id)
    call.emu.store.touch(pool)
    url = pool_url(call.emu, pool) + "/disableautoscale"
    return empty_response(call.request, 200, action_headers(pool, url))


def _history(emu: Emulator, pool: Record) -> History | None:
    return emu.periodic.autoscaler.history(pool.id)


async def _evaluate_autoscale(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    body = await call.body("PoolEvaluateAutoScaleParameter")
    if not pool.data.get("enableAutoScale"):
        raise conflict("AutoScaleNotEnabled", "Automatic scaling is not enabled on the pool.")
    formula = body["autoScaleFormula"]
    run = autoscale.evaluate(call.emu, pool, formula, _history(call.emu, pool)).run
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
