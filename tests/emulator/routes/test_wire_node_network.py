"""Tests that nodes are built from their pool's network configuration, over HTTP: inbound NAT
pools as endpoints, IPv6 on dual-stack pools, the default remote access rule, and the remote
login settings these give."""

from __future__ import annotations

from typing import Any

import httpx

from batch_tui.emulator import Emulator
from tests.emulator.support import BASE_URL, Settle, idle, pool_body

V2025 = "2025-06-01"
"""The 15.x SDK's api-version, the first with dual-stack pools."""

WEB = {
    "name": "web",
    "protocol": "udp",
    "backendPort": 8080,
    "frontendPortRangeStart": 15000,
    "frontendPortRangeEnd": 15100,
}
SSH = {
    "name": "sshpool",
    "protocol": "tcp",
    "backendPort": 22,
    "frontendPortRangeStart": 40000,
    "frontendPortRangeEnd": 40500,
    "networkSecurityGroupRules": [
        {"priority": 1000, "access": "allow", "sourceAddressPrefix": "*"}
    ],
}
LOGIN_METADATA = f"{BASE_URL}/$metadata#Microsoft.Azure.Batch.Protocol.Entities.RemoteLoginSettings"
WINDOWS_VM = {
    "imageReference": {
        "publisher": "MicrosoftWindowsServer",
        "offer": "WindowsServer",
        "sku": "2022-datacenter-smalldisk",
        "version": "latest",
    },
    "nodeAgentSKUId": "batch.node.windows amd64",
}


def network(*nat_pools: dict[str, Any], families: list[str] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"endpointConfiguration": {"inboundNATPools": list(nat_pools)}}
    if families:
        config["publicIPAddressConfiguration"] = {"ipFamilies": families}
    return config


async def ready_nodes(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle, **pool: Any
) -> list[dict[str, Any]]:
    """Adds `pool1` with `pool`, waits for its nodes to be idle and returns them by index.

    The pool is sent with api-version 2025-06-01, whose `ipFamilies` asks for IPv6."""
    created = await http.post("/pools", json=pool_body(**pool), params={"api-version": V2025})
    assert created.status_code == 201, created.text
    await settle(idle(emulator))
    nodes = (await http.get("/pools/pool1/nodes", params={"api-version": V2025})).json()["value"]
    records = emulator.store.pool_nodes("pool1")
    return sorted(nodes, key=lambda n: records[n["id"]].internal["index"])


def endpoints(node: dict[str, Any]) -> list[dict[str, Any]]:
    return list(node["endpointConfiguration"]["inboundEndpoints"])


async def login(http: httpx.AsyncClient, node: dict[str, Any]) -> dict[str, Any]:
    url = f"/pools/pool1/nodes/{node['id']}/remoteloginsettings"
    response = await http.get(url, params={"api-version": V2025})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_each_nat_pool_is_an_endpoint_on_each_node(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    nodes = await ready_nodes(http, emulator, settle, networkConfiguration=network(WEB, SSH))
    for index, node in enumerate(nodes):
        assert [(e["name"], e["protocol"], e["frontendPort"], e["backendPort"])
                for e in endpoints(node)] == [
            (f"web.{index}", "udp", 15000 + index, 8080),
            (f"sshpool.{index}", "tcp", 40000 + index, 22),
        ]  # fmt: skip
        # One public address and name per pool, as behind the service's load balancer.
        assert {(e["publicIPAddress"], e["publicFQDN"]) for e in endpoints(node)} == {
            ("127.0.0.1", "localhost")
        }
        assert "ipv6Address" not in node
        # A NAT pool to port 22 replaces the default SSH rule, and remote login uses it.
        body = await login(http, node)
        assert (body["remoteLoginIPAddress"], body["remoteLoginPort"]) == (
            "127.0.0.1",
            40000 + index,
        )
        assert "ipv6RemoteLoginIPAddress" not in body and "ipv6RemoteLoginPort" not in body


async def test_the_default_ssh_rule_follows_the_nat_pools(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    nodes = await ready_nodes(http, emulator, settle, networkConfiguration=network(WEB))
    names = [
        [(e["name"], e["frontendPort"], e["backendPort"]) for e in endpoints(n)] for n in nodes
    ]
    assert names == [
        [("web.0", 15000, 8080), ("SSHRule.0", 50000, 22)],
        [("web.1", 15001, 8080), ("SSHRule.1", 50001, 22)],
    ]
    assert (await login(http, nodes[1]))["remoteLoginPort"] == 50001


async def test_a_dual_stack_pool_gives_ipv6_addresses_and_login(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    config = network(SSH, families=["IPv4", "IPv6"])
    nodes = await ready_nodes(http, emulator, settle, networkConfiguration=config)
    assert [(n["ipAddress"], n["ipv6Address"]) for n in nodes] == [
        ("10.0.0.4", "fd00::4"),
        ("10.0.0.5", "fd00::5"),
    ]
    second = nodes[1]
    assert [(e["name"], e["publicIPAddress"], e["frontendPort"], e["backendPort"])
            for e in endpoints(second)] == [
        ("sshpool.1", "127.0.0.1", 40001, 22),
        ("sshpool-ipv6.1", "::1", 40001, 22),
    ]  # fmt: skip
    assert await login(http, second) == {
        "odata.metadata": LOGIN_METADATA,
        "remoteLoginIPAddress": "127.0.0.1",
        "remoteLoginPort": 40001,
        "ipv6RemoteLoginIPAddress": "::1",
        "ipv6RemoteLoginPort": 40001,
    }


async def test_a_dual_stack_pool_without_nat_pools_keeps_the_default_rule_in_both_families(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    config = {"publicIPAddressConfiguration": {"ipFamilies": ["IPv4", "IPv6"]}}
    nodes = await ready_nodes(http, emulator, settle, networkConfiguration=config)
    assert [(e["name"], e["publicIPAddress"], e["frontendPort"]) for e in endpoints(nodes[0])] == [
        ("SSHRule.0", "127.0.0.1", 50000),
        ("SSHRule-ipv6.0", "::1", 50000),
    ]
    body = await login(http, nodes[0])
    assert (body["ipv6RemoteLoginIPAddress"], body["ipv6RemoteLoginPort"]) == ("::1", 50000)


async def test_a_windows_node_gets_the_rdp_port(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    nodes = await ready_nodes(http, emulator, settle, virtualMachineConfiguration=WINDOWS_VM)
    # The live service names the rule SSHRule on Windows nodes too (recordings), port 3389.
    assert [(e["name"], e["frontendPort"], e["backendPort"]) for e in endpoints(nodes[0])] == [
        ("SSHRule.0", 50000, 3389)
    ]
    assert (await login(http, nodes[0]))["remoteLoginPort"] == 50000


async def test_a_windows_nat_pool_to_rdp_replaces_the_default_rule(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    rdp = {**SSH, "name": "rdp", "backendPort": 3389, "frontendPortRangeStart": 15000,
           "frontendPortRangeEnd": 15100}  # fmt: skip
    nodes = await ready_nodes(
        http,
        emulator,
        settle,
        virtualMachineConfiguration=WINDOWS_VM,
        networkConfiguration=network(SSH, rdp),
    )
    # On Windows the remote access port is 3389: the NAT pool to 22 is just another endpoint.
    assert [e["name"] for e in endpoints(nodes[0])] == ["sshpool.0", "rdp.0"]
    assert (await login(http, nodes[0]))["remoteLoginPort"] == 15000


async def test_a_node_list_can_select_the_ipv6_address(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    config = network(SSH, families=["IPv4", "IPv6"])
    await ready_nodes(http, emulator, settle, networkConfiguration=config)
    response = await http.get(
        "/pools/pool1/nodes",
        params={"$select": "id,ipv6Address", "api-version": V2025},
    )
    assert response.status_code == 200, response.text
    assert [node["ipv6Address"] for node in response.json()["value"]] == ["fd00::4", "fd00::5"]
