"""Tests the compute node operations over HTTP, node files included."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from batch_tui.emulator import Emulator
from tests.emulator.support import BASE_URL, Settle, add_pool, assert_error, idle

EXTENSION = {"name": "health", "publisher": "Microsoft.Azure.Extensions", "type": "CustomScript"}


@pytest.fixture
async def nodes(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> list[dict[str, Any]]:
    """A pool of two idle nodes (with a start task and a VM extension)."""
    vm = {
        "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy",
                           "sku": "22_04-lts", "version": "latest"},
        "nodeAgentSKUId": "batch.node.ubuntu 22.04",
        "extensions": [EXTENSION],
    }  # fmt: skip
    await add_pool(http, virtualMachineConfiguration=vm, startTask={"commandLine": "echo hi"})
    await settle(idle(emulator))
    body = (await http.get("/pools/pool1/nodes")).json()
    return list(body["value"])


def node_path(node: dict[str, Any], suffix: str = "") -> str:
    return f"/pools/pool1/nodes/{node['id']}{suffix}"


async def test_list_and_get_nodes(http: httpx.AsyncClient, nodes: list[dict[str, Any]]) -> None:
    assert len(nodes) == 2
    node = nodes[0]
    assert node["url"] == f"{BASE_URL}{node_path(node)}"
    assert "eTag" not in node and "lastModified" not in node
    response = await http.get(node_path(node), params={"$select": "id,state,startTaskInfo"})
    body = response.json()
    assert body["odata.metadata"] == f"{BASE_URL}/$metadata#nodes/@Element"
    assert set(body) == {"odata.metadata", "id", "state", "startTaskInfo"}
    assert body["startTaskInfo"]["exitCode"] == 0
    assert response.headers["etag"].startswith("0x")
    filtered = await http.get(
        "/pools/pool1/nodes",
        params={"$filter": "state eq 'idle' and startTaskInfo/exitCode eq 0", "maxresults": 1},
    )
    page = filtered.json()
    assert len(page["value"]) == 1 and "$skipToken=" in page["odata.nextLink"]
    rest = (await http.get(page["odata.nextLink"])).json()
    assert [n["id"] for n in page["value"] + rest["value"]] == [n["id"] for n in nodes]
    assert_error(await http.get("/pools/pool1/nodes/tvmps_missing"), 404, "NodeNotFound")
    assert_error(await http.get("/pools/nopool/nodes"), 404, "PoolNotFound")


async def test_users_add_update_delete(
    http: httpx.AsyncClient, nodes: list[dict[str, Any]], emulator: Emulator
) -> None:
    users = node_path(nodes[0], "/users")
    response = await http.post(users, json={"name": "alice", "password": "pw", "isAdmin": True})
    assert response.status_code == 201
    assert response.headers["location"] == f"{BASE_URL}{users}/alice"
    assert_error(await http.post(users, json={"name": "ALICE"}), 409, "NodeUserExists")
    assert_error(await http.post(users, json={"isAdmin": True}), 400, "MissingRequiredProperty")
    record = emulator.store.pool_nodes("pool1")[nodes[0]["id"].lower()]
    assert record.users["alice"]["isAdmin"] is True
    updated = await http.put(f"{users}/alice", json={"sshPublicKey": "ssh-rsa AAA"})
    assert updated.status_code == 200
    assert "password" not in record.users["alice"]
    assert record.users["alice"]["sshPublicKey"] == "ssh-rsa AAA"
    assert_error(await http.put(f"{users}/bob", json={}), 404, "NodeUserNotFound")
    assert (await http.delete(f"{users}/alice")).status_code == 200
    assert record.users == {}


async def test_remote_login_settings(http: httpx.AsyncClient, nodes: list[dict[str, Any]]) -> None:
    response = await http.get(node_path(nodes[0], "/remoteloginsettings"))
    body = response.json()
    endpoint = nodes[0]["endpointConfiguration"]["inboundEndpoints"][0]
    assert body["remoteLoginIPAddress"] == endpoint["publicIPAddress"]
    assert body["remoteLoginPort"] == endpoint["frontendPort"]
    assert body["odata.metadata"].endswith(
        "#Microsoft.Azure.Batch.Protocol.Entities.RemoteLoginSettings"
    )


async def test_node_actions_go_through_the_engine(
    http: httpx.AsyncClient, nodes: list[dict[str, Any]], emulator: Emulator, settle: Settle
) -> None:
    node = nodes[0]
    records = emulator.store.pool_nodes("pool1")
    record = records[node["id"].lower()]
    bad = await http.post(node_path(node, "/reboot"), json={"nodeRebootOption": "later"})
    assert_error(bad, 400, "InvalidPropertyValue")
    response = await http.post(node_path(node, "/reboot"), json={"nodeRebootOption": "requeue"})
    assert response.status_code == 202
    assert response.headers["dataserviceid"] == f"{BASE_URL}{node_path(node, '/reboot')}"
    assert record.data["state"] == "rebooting"
    assert (await http.post(node_path(node, "/start"))).status_code == 409
    await settle(lambda: record.data["state"] == "idle")
    assert (await http.post(node_path(node, "/disablescheduling"))).status_code == 200
    assert record.data["schedulingState"] == "disabled"
    assert (await http.post(node_path(node, "/enablescheduling"))).status_code == 200
    assert record.data["schedulingState"] == "enabled"
    assert (await http.post(node_path(node, "/deallocate"), content=b"")).status_code == 202
    await settle(lambda: record.data["state"] == "deallocated")
    assert (await http.post(node_path(node, "/start"))).status_code == 202
    await settle(lambda: record.data["state"] == "idle")


BATCH_NODE_EXTENSION = {
    "name": "batchNodeExtension",
    "publisher": "Microsoft.Azure.Extensions",
    "type": "CustomScript",
    "typeHandlerVersion": "2.0",
    "autoUpgradeMinorVersion": True,
}
"""The service's own extension on a Linux node (the 2025-06-01 examples, the recordings)."""


async def test_extensions(http: httpx.AsyncClient, nodes: list[dict[str, Any]]) -> None:
    listed = (await http.get(node_path(nodes[0], "/extensions"))).json()["value"]
    # The service's own extension first, then the pool's (recordings, spec examples).
    assert [e["vmExtension"] for e in listed] == [BATCH_NODE_EXTENSION, EXTENSION]
    assert {e["provisioningState"] for e in listed} == {"Succeeded"}
    one = await http.get(
        node_path(nodes[0], "/extensions/health"), params={"$select": "vmExtension"}
    )
    assert set(one.json()) == {"odata.metadata", "vmExtension"}
    assert (await http.get(node_path(nodes[0], "/extensions/other"))).status_code == 404


async def test_the_batch_node_extension(
    http: httpx.AsyncClient, nodes: list[dict[str, Any]]
) -> None:
    response = await http.get(node_path(nodes[0], "/extensions/batchNodeExtension"))
    body = response.json()
    assert body["odata.metadata"] == f"{BASE_URL}/$metadata#extensions/@Element"
    assert body["provisioningState"] == "Succeeded"
    assert body["vmExtension"] == BATCH_NODE_EXTENSION
    view = body["instanceView"]
    assert view["name"] == "batchNodeExtension"
    (status,) = view["statuses"]
    assert (status["code"], status["level"], status["displayStatus"]) == (
        "ProvisioningState/succeeded",
        "Info",
        "Provisioning succeeded",
    )
    assert status["message"] == "Enable succeeded: Enabling and starting agent and controller"
    lower = await http.get(node_path(nodes[0], "/extensions/batchnodeextension"))
    assert lower.json()["vmExtension"]["name"] == "batchNodeExtension"


async def test_node_files(http: httpx.AsyncClient, nodes: list[dict[str, Any]]) -> None:
    files = node_path(nodes[0], "/files")
    top = (await http.get(files)).json()["value"]
    assert {"startup", "workitems", "shared"} <= {f["name"] for f in top if f["isDirectory"]}
    everything = (await http.get(files, params={"recursive": "true"})).json()["value"]
    stdout = next(f for f in everything if f["name"] == "startup/stdout.txt")
    assert stdout["url"] == f"{BASE_URL}{files}/startup/stdout.txt"
    size = int(stdout["properties"]["contentLength"])
    assert isinstance(stdout["properties"]["contentLength"], str)
    startup = await http.get(files, params={"recursive": "true", "$filter": "startswith(name,'startup/')"})  # fmt: skip
    assert {f["name"] for f in startup.json()["value"]} >= {
        "startup/stdout.txt",
        "startup/stderr.txt",
    }
    head = await http.head(f"{files}/startup%2Fstdout.txt")
    assert head.status_code == 200 and head.headers["content-length"] == str(size)
    assert head.headers["ocp-batch-file-isdirectory"] == "False"
    content = (await http.get(f"{files}/startup/stdout.txt")).content
    assert len(content) == size and b"hi" in content
    assert (await http.head(f"{files}/startup")).headers["ocp-batch-file-isdirectory"] == "True"
    assert (await http.delete(f"{files}/startup/stdout.txt")).status_code == 200
    assert_error(await http.get(f"{files}/startup/stdout.txt"), 404, "FileNotFound")
    escaped = await http.get(f"{files}/..%2F..%2F..%2Fetc%2Fpasswd")
    assert escaped.status_code in (400, 404) and b"root:" not in escaped.content
