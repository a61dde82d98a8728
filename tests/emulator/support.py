"""Helpers of the emulator tests: the test account, fast timings, and the common requests.

`CONTRACT` is the emulator the `emulator`, `settings`, `app` and `http` fixtures of
`tests/fixtures/emulator.py` build for this folder (its conftest picks it); the UI tests use
`tests.ui.support.PILOT` instead.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from batch_tui.emulator import Emulator
from batch_tui.emulator.base.settings import Timings

API_VERSION = "2024-07-01.20.0"
ACCOUNT = "testaccount"
KEY = base64.b64encode(b"emulator-test-key-0123456789abcdef" * 2).decode()
BASE_URL = "https://testaccount.westus.batch.azure.com"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
"""The shared reference folder (spec, recordings), read but never copied into the repo."""

Settle = Callable[[Callable[[], bool]], Awaitable[None]]
"""The `settle` fixture: `await settle(condition)` ticks the emulator until it holds."""


def fast_timings() -> Timings:
    """Timings short enough for a whole lifecycle to take well under a second."""
    return Timings(
        tick=0.01,
        node_creating=0.02,
        node_starting=0.02,
        node_rebooting=0.05,
        node_reimaging=0.05,
        node_deallocating=0.05,
        node_leaving=0.02,
        task_preparing=0.01,
        simulated_task_seconds=0.02,
    )


@dataclass(frozen=True)
class EmulatorProfile:
    """The account an emulator fixture serves, and how fast its state machine moves."""

    account: str
    key: str
    base_url: str
    timings: Callable[[], Timings]
    """Builds the timings; a fresh object per emulator, since a test may change them."""


CONTRACT = EmulatorProfile(ACCOUNT, KEY, BASE_URL, fast_timings)
"""The emulator of the contract tests: `testaccount`, and an engine loop that ticks every 10 ms
on its own, so an emulator on a real clock moves without a test driving it."""

POOL_BODY: dict[str, Any] = {
    "id": "pool1",
    "vmSize": "STANDARD_D2S_V3",
    "virtualMachineConfiguration": {
        "imageReference": {
            "publisher": "canonical",
            "offer": "0001-com-ubuntu-server-jammy",
            "sku": "22_04-lts",
            "version": "latest",
        },
        "nodeAgentSKUId": "batch.node.ubuntu 22.04",
    },
    "targetDedicatedNodes": 2,
}

ERROR_METADATA = (
    f"{BASE_URL}/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
)

UNLIMITED = "P10675199DT2H48M5.4775807S"
"""`TimeSpan.MaxValue`, which the service writes for a limit that was not set."""


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Checks a BatchError response and returns its `values` as a dict."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["odata.metadata"] == ERROR_METADATA
    assert body["code"] == code
    assert body["message"]["lang"] == "en-US"
    request_id = response.headers["request-id"]
    assert re.search(rf"\nRequestId:{request_id}\nTime:\d{{4}}-.*Z$", body["message"]["value"])
    return {item["key"]: item["value"] for item in body.get("values", [])}


def pool_body(**changes: Any) -> dict[str, Any]:
    """`POOL_BODY` with `changes` applied (a deep copy: the tests change nested parts)."""
    body = copy.deepcopy(POOL_BODY)
    body.update(changes)
    return body


async def add_pool(http: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    """Adds `pool_body(**changes)` over HTTP and checks that it was created."""
    response = await http.post("/pools", json=pool_body(**changes))
    assert response.status_code == 201, response.text
    return response


def idle(emulator: Emulator, pool_id: str = "pool1") -> Callable[[], bool]:
    """A condition for `settle`: the pool has nodes and every one of them is idle."""
    nodes = emulator.store.pool_nodes(pool_id)
    return lambda: bool(nodes) and all(n.data["state"] == "idle" for n in nodes.values())


async def create_job(http: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    """Adds job `job1` on `pool1` over HTTP, with `changes`, and checks that it was created."""
    body = {"id": "job1", "poolInfo": {"poolId": "pool1"}, **changes}
    response = await http.post("/jobs", json=body)
    assert response.status_code == 201, response.text
    return response
