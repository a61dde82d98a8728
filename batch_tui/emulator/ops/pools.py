"""Provides adding a pool: the body checked, every default the service echoes filled in, and
the engine told to allocate."""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.base.errors import conflict
from batch_tui.emulator.base.times import iso
from batch_tui.emulator.ops.defaults import start_task
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.scaling import apply_autoscale, check_resize_timeout
from batch_tui.emulator.state.store import Record
from batch_tui.emulator.validation.checks import (
    invalid_value,
    missing_property,
    validate,
    validate_id,
)

DEFAULT_RESIZE_TIMEOUT = "PT15M"


def _check_scaling(body: dict[str, Any]) -> None:
    if body.get("enableAutoScale"):
        if not body.get("autoScaleFormula"):
            raise missing_property("autoScaleFormula")
        for name in ("targetDedicatedNodes", "targetLowPriorityNodes"):
            if name in body:
                raise invalid_value(
                    name, body[name], "Target nodes cannot be set when autoscale is enabled."
                )
    elif "autoScaleFormula" in body:
        raise invalid_value(
            "autoScaleFormula", body["autoScaleFormula"], "Autoscale is not enabled."
        )


def _pool_data(emu: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    """Builds the full wire dict of a new pool with every default the service echoes."""
    now = iso(emu.clock.now())
    growing = bool(body.get("targetDedicatedNodes") or body.get("targetLowPriorityNodes"))
    data: dict[str, Any] = {"id": body["id"]}
    if "displayName" in body:
        data["displayName"] = body["displayName"]
    data.update(
        creationTime=now,
        state="active",
        stateTransitionTime=now,
        allocationState="resizing" if growing or body.get("enableAutoScale") else "steady",
        allocationStateTransitionTime=now,
        vmSize=body["vmSize"].lower(),
        virtualMachineConfiguration=body["virtualMachineConfiguration"],
        resizeTimeout=body.get("resizeTimeout", DEFAULT_RESIZE_TIMEOUT),
        currentDedicatedNodes=0,
        currentLowPriorityNodes=0,
        targetDedicatedNodes=body.get("targetDedicatedNodes", 0),
        targetLowPriorityNodes=body.get("targetLowPriorityNodes", 0),
        enableAutoScale=body.get("enableAutoScale", False),
    )
    for name in ("autoScaleFormula", "networkConfiguration"):
        if name in body:
            data[name] = body[name]
    if body.get("enableAutoScale"):
        data["autoScaleEvaluationInterval"] = body.get("autoScaleEvaluationInterval", "PT15M")
    data["enableInterNodeCommunication"] = body.get("enableInterNodeCommunication", False)
    if "startTask" in body:
        data["startTask"] = start_task(body["startTask"])
    for name in ("certificateReferences", "applicationPackageReferences"):
        if name in body:
            data[name] = body[name]
    data["taskSlotsPerNode"] = body.get("taskSlotsPerNode", 1)
    data["taskSchedulingPolicy"] = body.get("taskSchedulingPolicy", {"nodeFillType": "spread"})
    for name in ("userAccounts", "metadata", "mountConfiguration", "upgradePolicy"):
        if name in body:
            data[name] = body[name]
    data["targetNodeCommunicationMode"] = body.get("targetNodeCommunicationMode", "default")
    data["currentNodeCommunicationMode"] = "simplified"
    if "resourceTags" in body:
        data["resourceTags"] = body["resourceTags"]
    return data


def add_pool(emu: Emulator, body: dict[str, Any]) -> Record:
    """Validates a PoolAddParameter, stores the new pool and tells the engine to allocate.

    Args:
        emu: The emulator.
        body: The JSON body of `POST /pools` (not yet validated).

    Returns:
        The stored pool record.

    Raises:
        ServiceError: 400 for an invalid body, 409 PoolExists for a duplicate id.
    """
    body = validate(body, "PoolAddParameter")
    validate_id(body["id"])
    if "virtualMachineConfiguration" not in body:
        raise missing_property("virtualMachineConfiguration")
    _check_scaling(body)
    check_resize_timeout(body)
    if body["id"].lower() in emu.store.pools:
        raise conflict("PoolExists", "The specified pool already exists.")
    record = Record(_pool_data(emu, body))
    if body.get("enableAutoScale"):
        apply_autoscale(emu, record)
    emu.store.add(emu.store.pools, record)
    emu.engine.pool_added(record)
    return record
