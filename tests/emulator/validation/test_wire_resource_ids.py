"""Tests that ARM resource ids in a pool or job are checked as the service checks them.

A `subnetId` must be a subnet's id in the account's own subscription, and a
`virtualMachineImageId` a managed image or an Azure Compute Gallery image (`/galleries/`). The
service answers 400 InvalidPropertyValue with PropertyName, PropertyValue and Reason (the
recorded `test_batch_create_pools` of azure-sdk-for-python shows both answers). The emulator's
account is in subscription `DEFAULT_SUBSCRIPTION_ID` (the settings' `subscription_id`).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from batch_tui.emulator.base.settings import DEFAULT_SUBSCRIPTION_ID
from tests.emulator.support import assert_error, pool_body

OTHER = "00000000-0000-0000-0000-000000000000"


def subnet(subscription: str = DEFAULT_SUBSCRIPTION_ID) -> str:
    return (
        f"/subscriptions/{subscription}/resourceGroups/test/providers/Microsoft.Network"
        "/virtualNetworks/vnet1/subnets/subnet1"
    )


IMAGE_REASON = (
    "The specified resource id must be of the format "
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
    "Microsoft.Compute/images/{imageName}, "
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
    "Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}/versions/"
    "{galleryImageVersionName}, or "
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
    "Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}"
)
"""The Reason the live service gave (recording `test_batch_create_pools[async]`, 2023-09-06)."""


def image_pool(image_id: str) -> dict[str, Any]:
    vm = {"imageReference": {"virtualMachineImageId": image_id},
          "nodeAgentSKUId": "batch.node.ubuntu 22.04"}  # fmt: skip
    return pool_body(targetDedicatedNodes=0, virtualMachineConfiguration=vm)


async def test_a_subnet_in_another_subscription_is_refused(http: httpx.AsyncClient) -> None:
    body = pool_body(networkConfiguration={"subnetId": subnet(OTHER)})
    values = assert_error(await http.post("/pools", json=body), 400, "InvalidPropertyValue")
    assert values == {
        "PropertyName": "subnetId",
        "PropertyValue": subnet(OTHER),
        "Reason": "The specified subnetId is in a different subscription and cannot be used "
        f"with the current Batch account in subscription {DEFAULT_SUBSCRIPTION_ID}",
    }


@pytest.mark.parametrize(
    "bad",
    [
        "subnet1",
        f"/subscriptions/{DEFAULT_SUBSCRIPTION_ID}/resourceGroups/test/providers/"
        "Microsoft.Network/virtualNetworks/vnet1",
        f"/subscriptions/{DEFAULT_SUBSCRIPTION_ID}/resourceGroups/test/providers/"
        "Microsoft.Compute/virtualNetworks/vnet1/subnets/subnet1",
        subnet() + "/extra",
        "/subscriptions/not-a-guid/resourceGroups/test/providers/Microsoft.Network"
        "/virtualNetworks/vnet1/subnets/subnet1",
    ],
)
async def test_a_malformed_subnet_id_is_refused(http: httpx.AsyncClient, bad: str) -> None:
    body = pool_body(networkConfiguration={"subnetId": bad})
    values = assert_error(await http.post("/pools", json=body), 400, "InvalidPropertyValue")
    assert values["PropertyName"] == "subnetId"
    assert values["PropertyValue"] == bad
    assert "/subnets/{subnetName}" in values["Reason"]


async def test_a_subnet_of_the_account_subscription_is_accepted(http: httpx.AsyncClient) -> None:
    upper = subnet().replace("resourceGroups", "resourcegroups").upper()
    for pool_id, subnet_id in (("pool1", subnet()), ("pool2", upper)):
        body = pool_body(id=pool_id, networkConfiguration={"subnetId": subnet_id})
        assert (await http.post("/pools", json=body)).status_code == 201


async def test_a_job_subnet_is_checked_too(http: httpx.AsyncClient) -> None:
    job = {"id": "job1", "poolInfo": {"poolId": "p"}, "networkConfiguration": {}}
    job["networkConfiguration"] = {"subnetId": subnet(OTHER)}
    values = assert_error(await http.post("/jobs", json=job), 400, "InvalidPropertyValue")
    assert values["PropertyName"] == "subnetId"
    auto = {"poolLifetimeOption": "job", "pool": image_pool("x")}
    del auto["pool"]["id"]
    job = {"id": "job2", "poolInfo": {"autoPoolSpecification": auto}}
    values = assert_error(await http.post("/jobs", json=job), 400, "InvalidPropertyValue")
    assert values["PropertyName"] == "virtualMachineImageId"


async def test_an_image_id_that_is_not_a_gallery_path_is_refused(http: httpx.AsyncClient) -> None:
    gallery = (
        f"/subscriptions/{OTHER}/resourceGroups/test/providers/Microsoft.Compute"
        "/gallery/FakeGallery/images/FakeImage/versions/version"
    )
    response = await http.post("/pools", json=image_pool(gallery))
    values = assert_error(response, 400, "InvalidPropertyValue")
    assert values == {
        "PropertyName": "virtualMachineImageId",
        "PropertyValue": gallery,
        "Reason": IMAGE_REASON,
    }


@pytest.mark.parametrize(
    "image_id",
    [
        "/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Compute/images/img",
        "/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i",
        "/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i"
        "/versions/1.0.0",
    ],
)
async def test_image_and_gallery_ids_are_accepted(http: httpx.AsyncClient, image_id: str) -> None:
    body = image_pool(image_id.format(s=OTHER))
    assert (await http.post("/pools", json=body)).status_code == 201
