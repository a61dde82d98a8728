"""Provides the checks the service makes of the ARM resource ids in a body: subnets and images.

A pool's or job's `subnetId` must be a subnet's id in the Batch account's own subscription; an
image's `virtualMachineImageId` must be a managed image or an Azure Compute Gallery image. The
Reasons are the live service's (the recorded `test_batch_create_pools` of azure-sdk-for-python,
2023-09-06) where a recording shows them.
"""

from __future__ import annotations

import re

_GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_NAME = r"[^/]+"
_SUBNET = re.compile(
    rf"/subscriptions/(?P<subscription>{_GUID})/resourceGroups/{_NAME}/providers/"
    rf"Microsoft\.Network/virtualNetworks/{_NAME}/subnets/{_NAME}",
    re.IGNORECASE,
)
_IMAGE = re.compile(
    rf"/subscriptions/{_NAME}/resourceGroups/{_NAME}/providers/Microsoft\.Compute/"
    rf"(?:images/{_NAME}|galleries/{_NAME}/images/{_NAME}(?:/versions/{_NAME})?)",
    re.IGNORECASE,
)

SUBNET_FORMAT = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
    "Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}"
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
"""The live service's Reason for a `virtualMachineImageId` it cannot use (recording)."""


def subnet_problem(value: str, subscription: str | None) -> str | None:
    """Says why the service refuses a `subnetId`, or None.

    Args:
        value: The subnet's ARM resource id.
        subscription: The account's subscription; None skips the subscription check (a body
            checked again after it was accepted).
    """
    match = _SUBNET.fullmatch(value)
    if match is None:
        return (
            "The specified subnetId is not a valid subnet resource id; it must be of the "
            f"format {SUBNET_FORMAT}"
        )
    if subscription is not None and match["subscription"].lower() != subscription.lower():
        return (
            "The specified subnetId is in a different subscription and cannot be used with "
            f"the current Batch account in subscription {subscription}"
        )
    return None


def image_problem(value: str) -> str | None:
    """Says why the service refuses a `virtualMachineImageId`, or None."""
    return None if _IMAGE.fullmatch(value) else IMAGE_REASON
