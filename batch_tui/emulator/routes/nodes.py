"""Provides the compute node operations: list, get, users, actions, login, logs, extensions."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.responses import Response

from batch_tui.emulator.base.errors import ServiceError, conflict, not_found
from batch_tui.emulator.base.times import iso, parse_iso
from batch_tui.emulator.engine.noderecord import login_endpoints
from batch_tui.emulator.engine.nodes import USER_READY, state_conflict
from batch_tui.emulator.node.agent_log import LogFile, virtual_directory
from batch_tui.emulator.node.agent_log import upload as upload_logs
from batch_tui.emulator.node.executors.local import LocalExecutor
from batch_tui.emulator.node.storage import CONTAINERS_DIR, StorageError, redact
from batch_tui.emulator.ops.entities import get_node, get_pool
from batch_tui.emulator.query.filter_tables import NODE_FILTER
from batch_tui.emulator.query.select import EXTENSION_PROPS, NODE_PROPS, compile_select, shape
from batch_tui.emulator.routes.common import Call, Handler, ListSpec, RouteTable, list_response
from batch_tui.emulator.routes.wire import (
    action_headers,
    empty_response,
    entity,
    entity_headers,
    json_response,
)
from batch_tui.emulator.state.store import NodeRecord, Record
from batch_tui.emulator.validation.checks import invalid_value

log = logging.getLogger(__name__)

NODE_LIST = ListSpec("nodes", NODE_FILTER, NODE_PROPS)
EXTENSION_LIST = ListSpec("extensions", None, EXTENSION_PROPS)
_ACTION_BODIES = {
    "reboot": ("NodeRebootParameter", "nodeRebootOption", 202),
    "reimage": ("NodeReimageParameter", "nodeReimageOption", 202),
    "deallocate": ("NodeDeallocateParameter", "nodeDeallocateOption", 202),
    "disablescheduling": (
        "NodeDisableSchedulingParameter",
        "nodeDisableSchedulingOption",
        200,
    ),
}
_PLAIN_ACTIONS = {"start": 202, "enablescheduling": 200}


def _render(call: Call, node: NodeRecord) -> dict[str, Any]:
    return entity(node, call.emu.urls.node(call.params["pool_id"], node.id), stamps=False)


async def _list(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    nodes = list(call.emu.store.pool_nodes(pool.id.lower()).values())
    return list_response(
        call,
        nodes,
        NODE_LIST,
        key=lambda n: n.id.lower(),
        render=lambda n, _: _render(call, n),
        stored=lambda n: n.data,
    )


async def _get(call: Call) -> Response:
    node = get_node(call.emu, call.params["pool_id"], call.params["node_id"])
    projector = compile_select(call.query.get("$select"), NODE_PROPS)
    body = shape(_render(call, node), projector, expand_stats=False)
    return json_response(
        call.request, body, metadata="nodes/@Element", headers=entity_headers(node)
    )


def _require_ready(node: NodeRecord) -> None:
    state = node.data.get("state", "")
    if state not in USER_READY:
        raise state_conflict(state)


def _expiry(call: Call, body: dict[str, Any]) -> str:
    if "expiryTime" in body:
        return str(body["expiryTime"])
    return iso(call.emu.clock.now() + timedelta(days=1))


def _user(call: Call, name: str, body: dict[str, Any], is_admin: bool) -> dict[str, Any]:
    user: dict[str, Any] = {"name": name, "isAdmin": is_admin, "expiryTime": _expiry(call, body)}
    for secret in ("password", "sshPublicKey"):
        if secret in body:
            user[secret] = body[secret]
    return user


def _user_url(call: Call, node: NodeRecord, name: str) -> str:
    return call.emu.urls.node(call.params["pool_id"], node.id) + f"/users/{name}"


async def _add_user(call: Call) -> Response:
    node = get_node(call.emu, call.params["pool_id"], call.params["node_id"])
    body = await call.body("ComputeNodeUser")
    _require_ready(node)
    name = body["name"]
    if name.lower() in node.users:
        raise conflict("NodeUserExists", "The specified node user already exists.")
    if "expiryTime" in body and parse_iso(body["expiryTime"]) <= call.emu.clock.now():
        raise invalid_value("expiryTime", body["expiryTime"], "The time must be in the future.")
    node.users[name.lower()] = _user(call, name, body, body.get("isAdmin", False))
    call.emu.store.touch(node)
    url = _user_url(call, node, name)
    return empty_response(call.request, 201, {"Location": url, "DataServiceId": url})


def _get_user(node: NodeRecord, name: str) -> dict[str, Any]:
    user = node.users.get(name.lower())
    if user is None:
        raise ServiceError(404, "NodeUserNotFound", "The specified node user does not exist.")
    return user


async def _update_user(call: Call) -> Response:
    node = get_node(call.emu, call.params["pool_id"], call.params["node_id"])
    body = await call.body("NodeUpdateUserParameter")
    _require_ready(node)
    user = _get_user(node, call.params["user_name"])
    # A full replace: what the body leaves out is removed or reset (spec).
    node.users[user["name"].lower()] = _user(call, user["name"], body, user["isAdmin"])
    call.emu.store.touch(node)
    url = _user_url(call, node, user["name"])
    return empty_response(call.request, 200, {"DataServiceId": url})


async def _delete_user(call: Call) -> Response:
    node = get_node(call.emu, call.params["pool_id"], call.params["node_id"])
    _require_ready(node)
    user = _get_user(node, call.params["user_name"])
    del node.users[user["name"].lower()]
    call.emu.store.touch(node)
    return empty_response(call.request, 200)


def _action_url(call: Call, node: Record, action: str) -> str:
    return call.emu.urls.node(call.params["pool_id"], node.id) + f"/{action}"


async def _option_action(call: Call, action: str) -> Response:
    node = get_node(call.emu, call.params["pool_id"], call.params["node_id"])
    type_name, option_name, status = _ACTION_BODIES[action]
    body = await call.body(type_name, optional=True)
    call.emu.engine.node_action(node, action, body.get(option_name, "requeue"))
    headers = action_headers(node, _action_url(call, node, action))
    return empty_response(call.request, status, headers)


async def _plain_action(call: Call, action: str) -> Response:
    node = get_node(call.emu, call.params["pool_id"], call.params["node_id"])
    call.emu.engine.node_action(node, action, None)
    headers = action_headers(node, _action_url(call, node, action))
    return empty_response(call.request, _PLAIN_ACTIONS[action], headers)


def _action_route(action: str) -> Handler:
    async def handler(call: Call) -> Response:
        if action in _ACTION_BODIES:
            return await _option_action(call, action)
        return await _plain_action(call, action)

    return handler


async def _remote_login(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    node = get_node(call.emu, call.params["pool_id"], call.params["node_id"])
    v4, v6 = login_endpoints(pool, node)
    if v4 is None:
        raise state_conflict(node.data.get("state", ""))
    body = {"remoteLoginIPAddress": v4["publicIPAddress"], "remoteLoginPort": v4["frontendPort"]}
    if v6 is not None:  # a dual-stack pool (2025-06-01 example)
        body["ipv6RemoteLoginIPAddress"] = v6["publicIPAddress"]
        body["ipv6RemoteLoginPort"] = v6["frontendPort"]
    return json_response(
        call.request,
        body,
        metadata="Microsoft.Azure.Batch.Protocol.Entities.RemoteLoginSettings",
        headers={"DataServiceId": _action_url(call, node, "remoteloginsettings")},
    )


async def _upload_logs(call: Call) -> Response:
    pool = get_pool(call.emu, call.params["pool_id"])
    node = get_node(call.emu, call.params["pool_id"], call.params["node_id"])
    body = await call.body("UploadBatchServiceLogsConfiguration")
    now = call.emu.clock.now()
    end = parse_iso(body["endTime"]) if "endTime" in body else now
    logs = call.emu.engine.ctx.nodes.logs
    files = logs.of(node).files(parse_iso(body["startTime"]), end)
    account = call.emu.settings.account
    directory = virtual_directory(account, pool.id, node.id, call.request.state.request_id)
    if files:
        await _upload(call, node, files, str(body["containerUrl"]), directory)
    return json_response(
        call.request,
        {"virtualDirectoryName": directory, "numberOfFilesUploaded": len(files)},
        metadata="Microsoft.Azure.Batch.Protocol.Entities.UploadBatchServiceLogsResult",
        headers={"DataServiceId": _action_url(call, node, "uploadbatchservicelogs")},
    )


async def _upload(
    call: Call, node: NodeRecord, files: list[LogFile], url: str, directory: str
) -> None:
    """Copies the files to the container. The service answers before it uploads, and an upload
    that fails is not reported to the caller: the node agent logs it, and so does the emulator
    (a container off this machine, which the emulator never writes to, is one)."""
    logs = call.emu.engine.ctx.nodes.logs
    try:
        await asyncio.to_thread(upload_logs, files, url, _containers(call), directory)
    except (StorageError, OSError) as err:
        log.warning("emulator: Batch service logs of %s not uploaded: %s", node.id, err)
        logs.note(node, call.emu.clock.now(), f"uploading service logs to {redact(url)}: {err}")
    else:
        done = f"uploaded {len(files)} service log files to {redact(url)}/{directory}"
        logs.note(node, call.emu.clock.now(), done)


def _containers(call: Call) -> Path | None:
    """`<data_dir>/containers`, where loopback containers live (`storage`): the local
    executor's, which has one even without a data dir."""
    executor = call.emu.engine.executor
    if isinstance(executor, LocalExecutor):
        return executor.containers
    data_dir = call.emu.settings.data_dir
    return data_dir / CONTAINERS_DIR if data_dir is not None else None


BATCH_NODE_EXTENSION = {
    "name": "batchNodeExtension",
    "publisher": "Microsoft.Azure.Extensions",
    "type": "CustomScript",
    "typeHandlerVersion": "2.0",
    "autoUpgradeMinorVersion": True,
}
"""The extension through which the service installs its node agent. It is listed before the
pool's extensions, in this shape (recordings of Linux nodes, the 2025-06-01 examples; neither
shows a Windows node's, so Windows nodes report the same)."""

BATCH_NODE_EXTENSION_MESSAGE = "Enable succeeded: Enabling and starting agent and controller"
"""The status message of the service's extension once the node agent runs (the examples)."""


def _extensions(call: Call, node: NodeRecord) -> list[dict[str, Any]]:
    """A node's VM extensions: the service's own, then the pool's
    `virtualMachineConfiguration.extensions`, provisioned once the node has booted."""
    pool = get_pool(call.emu, call.params["pool_id"])
    vm_config = pool.data.get("virtualMachineConfiguration", {})
    booted = node.data.get("state") not in ("creating", "starting")
    own = _extension_view(BATCH_NODE_EXTENSION, booted, node)
    if booted:
        own["instanceView"]["statuses"][0]["message"] = BATCH_NODE_EXTENSION_MESSAGE
    return [own, *(_extension_view(ext, booted, node) for ext in vm_config.get("extensions", []))]


def _extension_view(ext: dict[str, Any], booted: bool, node: NodeRecord) -> dict[str, Any]:
    state = "Succeeded" if booted else "Creating"
    status = {
        "code": f"ProvisioningState/{state.lower()}",
        "level": "Info",
        "displayStatus": "Provisioning succeeded" if booted else "Provisioning in progress",
    }
    if "lastBootTime" in node.data:
        status["time"] = node.data["lastBootTime"]
    view = {"name": ext["name"], "statuses": [status]}
    # protectedSettings hold secrets: the service takes them but never sends them back.
    shown = {k: v for k, v in ext.items() if k != "protectedSettings"}
    return {"provisioningState": state, "vmExtension": shown, "instanceView": view}


async def _list_extensions(call: Call) -> Response:
    node = get_node(call.emu, call.params["pool_id"], call.params["node_id"])
    items = _extensions(call, node)
    return list_response(
        call,
        items,
        EXTENSION_LIST,
        key=lambda e: str(e["vmExtension"]["name"]).lower(),
        render=lambda e, _: e,
    )


async def _get_extension(call: Call) -> Response:
    node = get_node(call.emu, call.params["pool_id"], call.params["node_id"])
    name = call.params["extension_name"].lower()
    found = [e for e in _extensions(call, node) if str(e["vmExtension"]["name"]).lower() == name]
    if not found:
        raise not_found("Extension")
    projector = compile_select(call.query.get("$select"), EXTENSION_PROPS)
    body = shape(found[0], projector, expand_stats=False)
    return json_response(call.request, body, metadata="extensions/@Element")


_NODE = "/pools/{pool_id}/nodes/{node_id}"
ROUTES: RouteTable = [
    ("GET", "/pools/{pool_id}/nodes", _list),
    ("GET", _NODE, _get),
    ("POST", f"{_NODE}/users", _add_user),
    ("PUT", f"{_NODE}/users/{{user_name}}", _update_user),
    ("DELETE", f"{_NODE}/users/{{user_name}}", _delete_user),
    ("GET", f"{_NODE}/remoteloginsettings", _remote_login),
    ("POST", f"{_NODE}/uploadbatchservicelogs", _upload_logs),
    ("GET", f"{_NODE}/extensions", _list_extensions),
    ("GET", f"{_NODE}/extensions/{{extension_name}}", _get_extension),
] + [
    ("POST", f"{_NODE}/{action}", _action_route(action))
    for action in [*_ACTION_BODIES, *_PLAIN_ACTIONS]
]
