"""Provides a new compute node's wire record: its id, addresses, endpoints and image.

The record is what the service returns for a node that was just allocated (`creating`); the
node manager (`nodes`) moves it through its states from there.

Endpoints come from the pool's network configuration, as the service builds them. Each of the
pool's `inboundNATPools` is an endpoint `<name>.<N>` (N the node's index in the pool) whose
frontend port is the N-th of the pool's range; a node past the end of a range gets no endpoint
from it. Then the service's default remote access rule, `SSHRule.<N>` from port 50000 + N to
22 (3389 on Windows, where the service names it SSHRule too), unless a NAT pool already maps
that backend port: a NAT pool to port 22 is how a pool takes over SSH (the 2025-06-01 dual-stack
example has no SSHRule). A pool whose `publicIPAddressConfiguration.ipFamilies` holds IPv6 is
dual-stack: each node gets an `ipv6Address`, and each endpoint an IPv6 twin `<name>-ipv6.<N>`
with the same ports (the example's `sshpool-ipv6.1`). The public addresses are this machine's
(`127.0.0.1`, `::1`, `localhost`): one per pool, as behind the service's load balancer.
"""

from __future__ import annotations

import hashlib
from typing import Any

from batch_tui.emulator.engine.runtime import Context
from batch_tui.emulator.state.store import NodeRecord, Record

NODE_AGENT_VERSION = "1.11.0"
"""The `nodeAgentInfo.version` emulated nodes report."""

FIRST_FRONTEND_PORT = 50000
"""The SSH NAT rule's first public port (recordings: 50000 for the first node of a pool)."""

DEFAULT_RULE = "SSHRule"
"""The name of the service's default remote access endpoint, on Linux and Windows nodes alike
(recordings: `SSHRule.0` to port 3389 on a Windows Server node)."""

PUBLIC_IPV4 = "127.0.0.1"
PUBLIC_IPV6 = "::1"
PUBLIC_FQDN = "localhost"
"""The public address and name of an emulated pool's endpoints: this machine."""


def is_windows(pool: Record) -> bool:
    """Returns whether the pool's nodes run Windows (its node agent SKU says so)."""
    config = pool.data.get("virtualMachineConfiguration") or {}
    return str(config.get("nodeAgentSKUId") or "").lower().startswith("batch.node.windows")


def remote_access_port(pool: Record) -> int:
    """Returns the port remote login reaches on the pool's nodes: RDP on Windows, else SSH."""
    return 3389 if is_windows(pool) else 22


def dual_stack(pool: Record) -> bool:
    """Returns whether the pool asked for IPv6 (`ipFamilies` with IPv6)."""
    network = pool.data.get("networkConfiguration") or {}
    families = (network.get("publicIPAddressConfiguration") or {}).get("ipFamilies") or []
    return any(str(family).lower() == "ipv6" for family in families)


def _endpoint(name: str, protocol: str, frontend: int, backend: int) -> dict[str, Any]:
    return {
        "name": name,
        "protocol": protocol,
        "publicIPAddress": PUBLIC_IPV4,
        "publicFQDN": PUBLIC_FQDN,
        "frontendPort": frontend,
        "backendPort": backend,
    }


def _nat_rules(pool: Record) -> list[tuple[str, str, int, int, int]]:
    """The pool's NAT pools and then its default rule: (name, protocol, first port, last
    port or -1 for no limit, backend port)."""
    network = pool.data.get("networkConfiguration") or {}
    nat_pools = (network.get("endpointConfiguration") or {}).get("inboundNATPools") or []
    rules = [
        (
            str(nat["name"]),
            str(nat.get("protocol") or "tcp"),
            int(nat["frontendPortRangeStart"]),
            int(nat["frontendPortRangeEnd"]),
            int(nat["backendPort"]),
        )
        for nat in nat_pools
    ]
    access = remote_access_port(pool)
    if all(backend != access for *_, backend in rules):
        rules.append((DEFAULT_RULE, "tcp", FIRST_FRONTEND_PORT, -1, access))
    return rules


def inbound_endpoints(pool: Record, index: int) -> list[dict[str, Any]]:
    """Returns the `inboundEndpoints` of the pool's node number `index` (module docstring)."""
    ipv6 = dual_stack(pool)
    endpoints: list[dict[str, Any]] = []
    for name, protocol, first, last, backend in _nat_rules(pool):
        port = first + index
        if last != -1 and port > last:
            continue  # the range has no port left for this node
        endpoints.append(_endpoint(f"{name}.{index}", protocol, port, backend))
        if ipv6:
            twin = _endpoint(f"{name}-ipv6.{index}", protocol, port, backend)
            twin["publicIPAddress"] = PUBLIC_IPV6
            endpoints.append(twin)
    return endpoints


def login_endpoints(
    pool: Record, node: NodeRecord
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Returns the node's IPv4 and IPv6 endpoints to its remote access port (either None)."""
    port = remote_access_port(pool)
    config = node.data.get("endpointConfiguration") or {}
    reaching = [e for e in config.get("inboundEndpoints") or [] if e.get("backendPort") == port]
    v4 = next((e for e in reaching if ":" not in str(e.get("publicIPAddress"))), None)
    v6 = next((e for e in reaching if ":" in str(e.get("publicIPAddress"))), None)
    return v4, v6


def node_id_for(pool_id: str, index: int, dedicated: bool) -> str:
    """Returns a stable node id in the service's form, `tvmps_<64 hex>_d` (`_p`: low priority)."""
    digest = hashlib.sha256(f"{pool_id}/{index}".encode()).hexdigest()
    return f"tvmps_{digest}_{'d' if dedicated else 'p'}"


def image_reference(pool: Record) -> dict[str, Any]:
    """Returns the pool's image with the `exactVersion` a node reports."""
    config = pool.data.get("virtualMachineConfiguration") or {}
    image = dict(config.get("imageReference") or {})
    if image and "virtualMachineImageId" not in image:
        version = str(image.get("version") or "latest")
        image["exactVersion"] = "1.0.20241001" if version == "latest" else version
    return image


def addresses(pool: Record, host: int) -> dict[str, str]:
    """Returns the private addresses of the pool's `host`-th address: `ipAddress`, and
    `ipv6Address` only on a dual-stack pool (the spec: absent otherwise)."""
    found = {"ipAddress": f"10.0.{host // 256}.{host % 256}"}
    if dual_stack(pool):
        found["ipv6Address"] = f"fd00::{host:x}"  # 10.0.0.4 and fd00::4 (2025-06-01 example)
    return found


def build_node(ctx: Context, pool: Record, index: int, dedicated: bool) -> NodeRecord:
    """Returns a new node's record in the `creating` state."""
    node_id = node_id_for(pool.id, index, dedicated)
    now = ctx.now()
    host = index + 4  # Azure reserves the first four addresses of a subnet
    data: dict[str, Any] = {
        "id": node_id,
        "state": "creating",
        "schedulingState": "enabled",
        "stateTransitionTime": now,
        "allocationTime": now,
        **addresses(pool, host),
        "affinityId": f"TVM:{node_id}",
        "vmSize": str(pool.data.get("vmSize") or "").lower(),
        "totalTasksRun": 0,
        "totalTasksSucceeded": 0,
        "runningTasksCount": 0,
        "runningTaskSlotsCount": 0,
        "isDedicated": dedicated,
        "endpointConfiguration": {"inboundEndpoints": inbound_endpoints(pool, index)},
        "virtualMachineInfo": {"imageReference": image_reference(pool)},
    }
    if pool.data.get("startTask"):
        data["startTask"] = pool.data["startTask"]
    return NodeRecord(data, pool_key=pool.id.lower(), internal={"index": index})
