"""Provides a new compute node's wire record: its id, address, SSH endpoint and image.

The record is what the service returns for a node that was just allocated (`creating`); the
node manager (`nodes`) moves it through its states from there.
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
        "ipAddress": f"10.0.{host // 256}.{host % 256}",
        "affinityId": f"TVM:{node_id}",
        "vmSize": str(pool.data.get("vmSize") or "").lower(),
        "totalTasksRun": 0,
        "totalTasksSucceeded": 0,
        "runningTasksCount": 0,
        "runningTaskSlotsCount": 0,
        "isDedicated": dedicated,
        "endpointConfiguration": {
            "inboundEndpoints": [
                {
                    "name": "SSHRule.0",
                    "protocol": "tcp",
                    "publicIPAddress": "127.0.0.1",
                    "publicFQDN": "localhost",
                    "frontendPort": FIRST_FRONTEND_PORT + index,
                    "backendPort": 22,
                }
            ]
        },
        "virtualMachineInfo": {"imageReference": image_reference(pool)},
    }
    if pool.data.get("startTask"):
        data["startTask"] = pool.data["startTask"]
    return NodeRecord(data, pool_key=pool.id.lower(), internal={"index": index})
