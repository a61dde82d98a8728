"""Tests that what a client creates comes back as the live service returns it, key by key.

Each test sends the request body a recording of the live service sent (azure-sdk-for-python's
`tests/recordings`, api-version 2023-05-01.17.0, which the emulator also answers), GETs the entity
and compares the answer with the recorded one, property by property at every depth: the same
properties, and the same values except those listed in `VARIES`. The job schedule and its job
are read from `shared/recordings`; the pool and the task come from recordings that are not
there, so their recorded bodies are quoted below (trimmed of nothing but the HTTP envelope).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from batch_tui.emulator import Emulator
from tests.emulator.shared_key import SharedKeyAuth
from tests.emulator.support import ACCOUNT, BASE_URL, KEY, SHARED, Settle

RECORDED_API = "2023-05-01.17.0"

VARIES = frozenset(
    {
        # Where the entity lives: the recorded account's host, not the emulator's.
        "url",
        "recentJob.url",
        # When it was made and changed, and the ETag that changes with it.
        "eTag",
        "lastModified",
        "creationTime",
        "stateTransitionTime",
        "allocationStateTransitionTime",
        "executionInfo.startTime",
        "executionInfo.nextRunTime",
        # A pool of no nodes is `resizing` for about a second after it is made (the recorded
        # GET came 0.4 s after the POST); the emulator settles it at once.
        "allocationState",
    }
)
"""Recorded properties that legitimately differ from the emulator's (paths from the entity)."""


def compare(recorded: Any, actual: Any, path: str = "") -> list[str]:
    """The differences between a recorded JSON value and the emulator's, as readable lines."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        out = [f"{path}.{k}: not recorded" for k in actual if k not in recorded]
        out += [f"{path}.{k}: missing" for k in recorded if k not in actual]
        for key in recorded.keys() & actual.keys():
            sub = f"{path}.{key}".lstrip(".")
            if sub in VARIES or sub.rsplit(".", 1)[-1] in ("url", "eTag", "lastModified"):
                continue
            out += compare(recorded[key], actual[key], sub)
        return out
    if isinstance(recorded, list) and isinstance(actual, list) and len(recorded) == len(actual):
        return [d for r, a in zip(recorded, actual, strict=True) for d in compare(r, a, path)]
    return [] if recorded == actual else [f"{path}: recorded {recorded!r}, got {actual!r}"]


def without_envelope(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "odata.metadata"}


@pytest.fixture
async def http17(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A signed client that sends the recordings' api-version."""
    auth = SharedKeyAuth(ACCOUNT, KEY, RECORDED_API)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, auth=auth) as client:
        yield client


POOL_REQUEST: dict[str, Any] = {
    "id": "batch_disk_3b18228f",
    "vmSize": "standard_d2_v2",
    "virtualMachineConfiguration": {
        "imageReference": {"publisher": "Canonical", "offer": "UbuntuServer", "sku": "18.04-LTS"},
        "nodeAgentSKUId": "batch.node.ubuntu 18.04",
        "dataDisks": [{"lun": 1, "diskSizeGB": 50}],
    },
    "targetNodeCommunicationMode": "classic",
}
POOL_RECORDED: dict[str, Any] = {
    "id": "batch_disk_3b18228f",
    "url": "https://batch1824222e.eastasia.batch.azure.com/pools/batch_disk_3b18228f",
    "eTag": "0x8DBAEAD0202A569",
    "lastModified": "2023-09-06T07:43:48.9360233Z",
    "creationTime": "2023-09-06T07:43:48.9360233Z",
    "state": "active",
    "stateTransitionTime": "2023-09-06T07:43:48.9360233Z",
    "allocationState": "resizing",
    "allocationStateTransitionTime": "2023-09-06T07:43:48.9360233Z",
    "vmSize": "standard_d2_v2",
    "resizeTimeout": "PT15M",
    "currentDedicatedNodes": 0,
    "targetDedicatedNodes": 0,
    "currentLowPriorityNodes": 0,
    "targetLowPriorityNodes": 0,
    "enableAutoScale": False,
    "enableInterNodeCommunication": False,
    "taskSlotsPerNode": 1,
    "taskSchedulingPolicy": {"nodeFillType": "Spread"},
    "virtualMachineConfiguration": {
        "imageReference": {
            "publisher": "Canonical",
            "offer": "UbuntuServer",
            "sku": "18.04-LTS",
            "version": "latest",
        },
        "nodeAgentSKUId": "batch.node.ubuntu 18.04",
        "dataDisks": [
            {"lun": 1, "caching": "none", "diskSizeGB": 50, "storageAccountType": "standard_lrs"}
        ],
    },
    "targetNodeCommunicationMode": "classic",
}
"""`POST /pools` and the `GET` after it, from `test_batch.pyTestBatchtest_batch_create_pools
[async].json` (Azure/azure-sdk-for-python, sdk/batch/azure-batch/tests/recordings, commit
d694abb768ee8a0152e2b5e2912c7ad9a0ce76e9)."""

WINDOWS_USERS_REQUEST: list[dict[str, Any]] = [
    {"name": "test-user-1", "password": "secret"},
    {"name": "test-user-2", "password": "secret", "elevationLevel": "admin"},
]
WINDOWS_USERS_RECORDED: list[dict[str, Any]] = [
    {"name": "test-user-1", "elevationLevel": "nonadmin",
     "windowsUserConfiguration": {"loginMode": "batch"}},
    {"name": "test-user-2", "elevationLevel": "admin",
     "windowsUserConfiguration": {"loginMode": "batch"}},
]  # fmt: skip
"""The user accounts of the same recording's Windows pool (`batch_iaas_3b18228f`), sent and
listed: no password comes back, and the defaults are filled in."""

TASK_REQUEST: dict[str, Any] = {
    "id": "python_task_with_app_package",
    "commandLine": 'cmd /c "echo hello world"',
    "applicationPackageReferences": [{"applicationId": "application_id", "version": "v1.0"}],
}
TASK_RECORDED: dict[str, Any] = {
    "id": "python_task_with_app_package",
    "url": "https://batch18c82235.eastasia.batch.azure.com/jobs/batch18c82235/tasks/"
    "python_task_with_app_package",
    "eTag": "0x8DBAEAA8D0E3318",
    "creationTime": "2023-09-06T07:26:13.7248536Z",
    "lastModified": "2023-09-06T07:26:13.7248536Z",
    "state": "active",
    "stateTransitionTime": "2023-09-06T07:26:13.7248536Z",
    "commandLine": 'cmd /c "echo hello world"',
    "applicationPackageReferences": [{"applicationId": "application_id", "version": "v1.0"}],
    "userIdentity": {"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}},
    "constraints": {
        "maxWallClockTime": "P10675199DT2H48M5.4775807S",
        "retentionTime": "P7D",
        "maxTaskRetryCount": 0,
    },
    "requiredSlots": 1,
    "executionInfo": {"retryCount": 0, "requeueCount": 0},
}
"""`POST /jobs/{job}/tasks` and the `GET` after it, from
`test_batch.pyTestBatchtest_batch_applications[sync].json` (same folder, commit
0e5724f7045d445179ec78ce44a1c9196c9b43b2)."""


async def test_a_created_pool_reads_back_as_recorded(http17: httpx.AsyncClient) -> None:
    assert (await http17.post("/pools", json=POOL_REQUEST)).status_code == 201
    pool = (await http17.get("/pools/batch_disk_3b18228f")).json()
    assert compare(POOL_RECORDED, without_envelope(pool)) == []


async def test_pool_user_accounts_read_back_as_recorded(http17: httpx.AsyncClient) -> None:
    windows = {
        "imageReference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                           "sku": "2016-Datacenter-smalldisk"},
        "nodeAgentSKUId": "batch.node.windows amd64",
        "windowsConfiguration": {"enableAutomaticUpdates": True},
    }  # fmt: skip
    body = {"id": "batch_iaas_3b18228f", "vmSize": "standard_d2_v2",
            "virtualMachineConfiguration": windows, "userAccounts": WINDOWS_USERS_REQUEST,
            "taskSchedulingPolicy": {"nodeFillType": "pack"}}  # fmt: skip
    assert (await http17.post("/pools", json=body)).status_code == 201
    pool = (await http17.get("/pools/batch_iaas_3b18228f")).json()
    assert compare(WINDOWS_USERS_RECORDED, pool["userAccounts"]) == []
    assert pool["taskSchedulingPolicy"] == {"nodeFillType": "Pack"}
    assert pool["virtualMachineConfiguration"]["windowsConfiguration"] == {
        "enableAutomaticUpdates": True
    }


async def test_a_created_task_reads_back_as_recorded(http17: httpx.AsyncClient) -> None:
    job = {"id": "batch18c82235", "poolInfo": {"poolId": "no-such-pool"}}
    assert (await http17.post("/jobs", json=job)).status_code == 201
    assert (await http17.post("/jobs/batch18c82235/tasks", json=TASK_REQUEST)).status_code == 201
    task = (await http17.get("/jobs/batch18c82235/tasks/python_task_with_app_package")).json()
    assert compare(TASK_RECORDED, without_envelope(task)) == []


def _recorded(method: str, suffix: str) -> dict[str, Any]:
    path = SHARED / "recordings" / "test_batch.pyTestBatchtest_batch_job_schedules[async].json"
    entries = json.loads(path.read_text())["Entries"]
    return next(
        e
        for e in entries
        if e["RequestMethod"] == method and e["RequestUri"].split("?")[0].endswith(suffix)
    )


async def test_a_created_job_schedule_and_its_job_read_back_as_recorded(
    http17: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    schedule_id = "batch_schedule_5dce22e9"
    created = _recorded("POST", "/jobschedules")
    assert (await http17.post("/jobschedules", json=created["RequestBody"])).status_code == 201
    schedule = (await http17.get(f"/jobschedules/{schedule_id}")).json()
    recorded = _recorded("GET", f"/jobschedules/{schedule_id}")["ResponseBody"]
    assert compare(without_envelope(recorded), without_envelope(schedule)) == []
    await settle(lambda: f"{schedule_id}:job-1" in emulator.store.jobs)
    jobs = (await http17.get(f"/jobschedules/{schedule_id}/jobs")).json()["value"]
    recorded_jobs = _recorded("GET", f"/jobschedules/{schedule_id}/jobs")["ResponseBody"]["value"]
    assert compare(recorded_jobs, jobs) == []
