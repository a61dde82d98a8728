"""Tests that requests are validated, and entities shown, as the api-version a request names.

2025-06-01 (the 15.1 SDK's) has no certificates, no resource tags and no node communication mode,
and adds managed data disks, job-level FIFO, IP families and tags, customer-managed keys and the
proxy agent. Each version is held to its own schema: what one version defines and the other does
not is refused by the other, and never shown to its clients.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.emulator.shared_key import SharedKeyAuth
from tests.emulator.support import ACCOUNT, BASE_URL, KEY, assert_error, pool_body

V2025 = "2025-06-01"
V2024 = "2024-07-01.20.0"


@pytest.fixture
async def http25(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A signed client that sends api-version 2025-06-01, as the 15.1 SDK does."""
    auth = SharedKeyAuth(ACCOUNT, KEY, V2025)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, auth=auth) as client:
        yield client


def all_keys(value: Any) -> set[str]:
    """Every property name in a JSON value, at any depth."""
    if isinstance(value, dict):
        return set(value).union(*(all_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(all_keys(v) for v in value))
    return set()


def idle_pool(**changes: Any) -> dict[str, Any]:
    return pool_body(targetDedicatedNodes=0, **changes)


def with_vm(**changes: Any) -> dict[str, Any]:
    """The test pool's virtual machine configuration with `changes`."""
    return {**pool_body()["virtualMachineConfiguration"], **changes}


async def test_update_properties_without_certificates_succeeds_at_2025(
    http: httpx.AsyncClient, http25: httpx.AsyncClient
) -> None:
    assert (await http25.post("/pools", json=idle_pool())).status_code == 201
    body = {"applicationPackageReferences": [], "metadata": [{"name": "a", "value": "b"}]}
    response = await http25.post("/pools/pool1/updateproperties", json=body)
    assert response.status_code == 204, response.text
    assert (await http25.get("/pools/pool1")).json()["metadata"] == [{"name": "a", "value": "b"}]
    # 2024-07-01.20.0 still requires the certificate references of a full replace.
    old = await http.post("/pools/pool1/updateproperties", json=body)
    assert assert_error(old, 400, "MissingRequiredProperty")["PropertyName"] == (
        "certificateReferences"
    )


async def test_managed_data_disks_are_accepted_and_echoed_at_2025(
    http: httpx.AsyncClient, http25: httpx.AsyncClient
) -> None:
    disk = {"lun": 0, "diskSizeGB": 64, "managedDisk": {"storageAccountType": "premium_lrs"}}
    body = idle_pool(virtualMachineConfiguration=with_vm(dataDisks=[disk]))
    response = await http25.post("/pools", json=body)
    assert response.status_code == 201, response.text
    got = (await http25.get("/pools/pool1")).json()["virtualMachineConfiguration"]["dataDisks"]
    assert got == [{**disk, "caching": "none"}]
    # 20.0 has no managedDisk on a data disk: its OData reader refuses the property.
    old = await http.post("/pools", json={**body, "id": "pool2"})
    assert "'managedDisk' does not exist on type 'DataDisk'" in str(
        assert_error(old, 400, "InvalidRequestBody")
    )


ADDITIONS_2025: dict[str, Any] = {
    "taskSchedulingPolicy": {"nodeFillType": "pack", "jobDefaultOrder": "creationtime"},
    "networkConfiguration": {
        "publicIPAddressConfiguration": {
            "provision": "batchmanaged",
            "ipFamilies": ["IPv4", "IPv6"],
            "ipTags": [{"ipTagType": "FirstPartyUsage", "tag": "/NonProd"}],
        },
    },
    "virtualMachineConfiguration": with_vm(
        diskEncryptionConfiguration={
            "targets": ["osdisk"],
            "customerManagedKey": {
                "keyUrl": "https://vault.vault.azure.net/keys/key/0123",
                "identityReference": {"resourceId": "/subscriptions/s/identity"},
                "rotationToLatestKeyVersionEnabled": True,
            },
        },
        osDisk={
            "managedDisk": {
                "storageAccountType": "premium_lrs",
                "diskEncryptionSet": {"id": "/subscriptions/s/des"},
                "securityProfile": {"securityEncryptionType": "DiskWithVMGuestState"},
            }
        },
        securityProfile={
            "securityType": "confidentialvm",
            "encryptionAtHost": True,
            "proxyAgentSettings": {
                "enabled": True,
                "imds": {"mode": "Audit"},
                "wireServer": {"mode": "Enforce", "inVMAccessControlProfileReferenceId": "x"},
            },
        },
    ),
}
"""One of each property 2025-06-01 adds to a pool (the SDK's models and the 15.1.0 changelog)."""


async def test_2025_additions_are_accepted_and_echoed(http25: httpx.AsyncClient) -> None:
    response = await http25.post("/pools", json=idle_pool(**ADDITIONS_2025))
    assert response.status_code == 201, response.text
    pool = (await http25.get("/pools/pool1")).json()
    assert pool["taskSchedulingPolicy"] == {
        "nodeFillType": "Pack",
        "jobDefaultOrder": "creationtime",
    }
    public = pool["networkConfiguration"]["publicIPAddressConfiguration"]
    assert public == ADDITIONS_2025["networkConfiguration"]["publicIPAddressConfiguration"]
    vm = pool["virtualMachineConfiguration"]
    sent = ADDITIONS_2025["virtualMachineConfiguration"]
    for name in ("diskEncryptionConfiguration", "osDisk", "securityProfile"):
        assert vm[name] == sent[name], name


async def test_what_2025_dropped_is_not_shown_to_its_clients(
    http: httpx.AsyncClient, http25: httpx.AsyncClient
) -> None:
    old_only = {
        "certificateReferences": [{"thumbprint": "ab12", "thumbprintAlgorithm": "sha1"}],
        "targetNodeCommunicationMode": "simplified",
        "resourceTags": {"team": "render"},
    }
    assert (await http.post("/pools", json=idle_pool(**old_only))).status_code == 201
    assert old_only.items() <= (await http.get("/pools/pool1")).json().items()
    for response in (await http25.get("/pools/pool1"), await http25.get("/pools")):
        assert not set(old_only) & all_keys(response.json()), response.text
    token = {"authenticationTokenSettings": {"access": ["job"]}}
    job = {"id": "job1", "poolInfo": {"poolId": "pool1"}}
    assert (await http.post("/jobs", json=job)).status_code == 201
    task = {"id": "t1", "commandLine": "true", **token}
    assert (await http.post("/jobs/job1/tasks", json=task)).status_code == 201
    assert (await http.get("/jobs/job1/tasks/t1")).json()["authenticationTokenSettings"]
    assert "authenticationTokenSettings" not in (await http25.get("/jobs/job1/tasks/t1")).json()
    listed = (await http25.get("/jobs/job1/tasks")).json()["value"]
    assert "authenticationTokenSettings" not in listed[0]


async def test_2025_refuses_what_it_dropped(http25: httpx.AsyncClient) -> None:
    for name, value in (
        ("certificateReferences", [{"thumbprint": "ab12", "thumbprintAlgorithm": "sha1"}]),
        ("targetNodeCommunicationMode", "classic"),
        ("resourceTags", {"team": "render"}),
    ):
        response = await http25.post("/pools", json=idle_pool(**{name: value}))
        reason = assert_error(response, 400, "InvalidRequestBody")["Reason"]
        assert f"'{name}' does not exist on type 'PoolAddParameter'" in reason


async def test_what_2025_added_is_not_shown_to_older_clients(
    http: httpx.AsyncClient, http25: httpx.AsyncClient
) -> None:
    policy = {"nodeFillType": "spread", "jobDefaultOrder": "creationtime"}
    response = await http25.post("/pools", json=idle_pool(taskSchedulingPolicy=policy))
    assert response.status_code == 201, response.text
    assert (await http.get("/pools/pool1")).json()["taskSchedulingPolicy"] == {
        "nodeFillType": "Spread"
    }
    assert (await http25.get("/pools/pool1")).json()["taskSchedulingPolicy"] == {
        "nodeFillType": "Spread",
        "jobDefaultOrder": "creationtime",
    }
