"""Provides the pool scaling routes: resize, stop resize, remove nodes and autoscale.

With the checks the service makes before the allocation state changes. Autoscale evaluations
(on enable, on request and periodically by `Autoscaler`) resize the pool through `rescale`, the
same path as a resize request.
"""

from __future__ import annotations

from starlette.responses import Response

from batch_tui.emulator.base.errors import ServiceError, conflict
from batch_tui.emulator.base.times import iso
from batch_tui.emulator.ops import autoscale
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.entities import get_pool
from batch_tui.emulator.ops.metrics import History
from batch_tui.emulator.ops.scaling import (
    begin_resize,
    check_interval,
    check_resize_timeout,
    require_steady,
    rescale,
    resize_pool,
    writable,
)
from batch_tui.emulator.routes.common import Call, RouteTable
from batch_tui.emulator.routes.wire import action_headers, empty_response, json_response
from batch_tui.emulator.state.store import Record
from batch_tui.emulator.validation.checks import invalid_value, missing_property


async def _resize(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    call.check(pool)
    resize_pool(call.emu, pool.id, await call.json(), api_version=call.api_version)
    url = call.emu.urls.pool(pool.id) + "/resize"
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
    url = call.emu.urls.pool(pool.id) + "/stopresize"
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
    url = call.emu.urls.pool(pool.id) + "/removenodes"
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
    url = call.emu.urls.pool(pool.id) + "/enableautoscale"
    return empty_response(call.request, 200, action_headers(pool, url))


async def _disable_autoscale(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    writable(pool)
    pool.data["enableAutoScale"] = False
    for name in ("autoScaleFormula", "autoScaleEvaluationInterval", "autoScaleRun"):
        pool.data.pop(name, None)
    call.emu.periodic.autoscaler.forget(pool.id)
    call.emu.store.touch(pool)
    url = call.emu.urls.pool(pool.id) + "/disableautoscale"
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
    url = call.emu.urls.pool(pool.id) + "/evaluateautoscale"
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
