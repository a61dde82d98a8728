"""Provides the pool routes: add, list, get, exists, patch, update properties, delete.

Resizing and autoscale are in `scaling`.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from batch_tui.emulator.base.times import iso
from batch_tui.emulator.engine.runtime import set_state
from batch_tui.emulator.ops.defaults import pool_settings, start_task
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.entities import get_pool
from batch_tui.emulator.ops.pools import add_pool
from batch_tui.emulator.ops.scaling import resize_pool, writable
from batch_tui.emulator.query.filter_tables import POOL_FILTER
from batch_tui.emulator.query.select import POOL_PROPS
from batch_tui.emulator.routes.common import (
    Call,
    ListSpec,
    RouteTable,
    entity_response,
    list_response,
)
from batch_tui.emulator.routes.wire import (
    action_headers,
    created_headers,
    empty_response,
    entity,
    entity_headers,
)
from batch_tui.emulator.state.store import Record
from batch_tui.emulator.validation.schemas import schemas_for

__all__ = ["ROUTES", "add_pool", "resize_pool"]

POOL_LIST = ListSpec("pools", POOL_FILTER, POOL_PROPS, expand=True)


def _render(call: Call, pool: Record, expand: bool) -> dict[str, Any]:
    emu = call.emu
    data = entity(pool, emu.urls.pool(pool.id), data=call.shown(pool.data, "pool"))
    if expand and "stats" not in data:
        data["stats"] = _stats(emu, pool)
    return data


def _stats(emu: Emulator, pool: Record) -> dict[str, Any]:
    """Pool statistics computed from the store (`$expand=stats`)."""
    now = iso(emu.clock.now())
    return {
        "url": emu.urls.pool(pool.id) + "/stats",
        "startTime": pool.data["creationTime"],
        "lastUpdateTime": now,
    }


async def _add(call: Call) -> Response:
    pool = add_pool(call.emu, await call.json(), api_version=call.api_version)
    return empty_response(call.request, 201, created_headers(pool, call.emu.urls.pool(pool.id)))


async def _list(call: Call) -> Response:
    pools = list(call.emu.store.pools.values())
    view = call.viewer("pool")
    return list_response(
        call,
        pools,
        POOL_LIST,
        key=lambda p: p.id.lower(),
        render=lambda p, expand: _render(call, p, expand),
        stored=lambda p: view(p.data),
    )


async def _get(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    return entity_response(
        call, pool, POOL_PROPS, "pools/@Element", lambda expand: _render(call, pool, expand)
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
    body = pool_settings(body)
    if "vmSize" in body:
        body["vmSize"] = body["vmSize"].lower()
    pool.data.update(body)
    call.emu.store.touch(pool)
    return empty_response(call.request, 200, action_headers(pool, call.emu.urls.pool(pool.id)))


async def _update_properties(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    call.check(pool)
    body = await call.body("PoolUpdatePropertiesParameter")
    writable(pool)
    # A full replace: what the body leaves out is cleared or reset to its default.
    pool.data.pop("startTask", None)
    if "startTask" in body:
        pool.data["startTask"] = start_task(body["startTask"])
    # What the request's version defines is replaced (2025-06-01 has no certificates and no
    # communication mode: a 2025-06-01 client leaves those as they were).
    fields = schemas_for(call.api_version)["PoolUpdatePropertiesParameter"]
    for name in ("certificateReferences", "applicationPackageReferences", "metadata"):
        if name in fields:
            pool.data[name] = body[name]
    if "targetNodeCommunicationMode" in fields:
        pool.data["targetNodeCommunicationMode"] = body.get(
            "targetNodeCommunicationMode", "default"
        )
    call.emu.store.touch(pool)
    url = call.emu.urls.pool(pool.id) + "/updateproperties"
    return empty_response(call.request, 204, action_headers(pool, url))


async def _delete(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    call.check(pool)
    writable(pool)
    set_state(call.emu.engine.ctx, pool, "deleting")
    call.emu.engine.ctx.touch(pool)
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
