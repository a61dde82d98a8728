"""Provides adding a pool: the body checked, every default the service echoes filled in, and
the engine told to allocate."""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.base.errors import conflict
from batch_tui.emulator.base.times import iso
from batch_tui.emulator.ops.defaults import (
    DEFAULT_AUTOSCALE_INTERVAL,
    DEFAULT_RESIZE_TIMEOUT,
    account_subscription,
    pool_settings,
    scheduling_policy,
)
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.scaling import apply_autoscale, check_resize_timeout
from batch_tui.emulator.state.store import Record
from batch_tui.emulator.validation.checks import (
    invalid_value,
    missing_property,
    validate,
    validate_id,
)


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


_AFTER_SCALING = (
    "startTask",
    "certificateReferences",
    "applicationPackageReferences",
    "userAccounts",
)
_AFTER_VM = (
    "networkConfiguration",
    "metadata",
    "mountConfiguration",
    "upgradePolicy",
    "targetNodeCommunicationMode",
    "resourceTags",
)


def _pool_data(emu: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    """Builds the full wire dict of a new pool with every default the service echoes, in the
    recorded order. `targetNodeCommunicationMode` is echoed only when it was sent, and a new
    pool has no `currentNodeCommunicationMode` yet (recording)."""
    now = iso(emu.clock.now())
    growing = bool(body.get("targetDedicatedNodes") or body.get("targetLowPriorityNodes"))
    settings = pool_settings(body)
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
        resizeTimeout=body.get("resizeTimeout", DEFAULT_RESIZE_TIMEOUT),
        currentDedicatedNodes=0,
        targetDedicatedNodes=body.get("targetDedicatedNodes", 0),
        currentLowPriorityNodes=0,
        targetLowPriorityNodes=body.get("targetLowPriorityNodes", 0),
        enableAutoScale=body.get("enableAutoScale", False),
    )
    if body.get("enableAutoScale"):
        data["autoScaleFormula"] = body["autoScaleFormula"]
        interval = body.get("autoScaleEvaluationInterval", DEFAULT_AUTOSCALE_INTERVAL)
        data["autoScaleEvaluationInterval"] = interval
    data["enableInterNodeCommunication"] = body.get("enableInterNodeCommunication", False)
    data.update((k, settings[k]) for k in _AFTER_SCALING if k in settings)
    data["taskSlotsPerNode"] = body.get("taskSlotsPerNode", 1)
    data["taskSchedulingPolicy"] = scheduling_policy(body.get("taskSchedulingPolicy"))
    data["virtualMachineConfiguration"] = settings["virtualMachineConfiguration"]
    data.update((k, settings[k]) for k in _AFTER_VM if k in settings)
    return data


def add_pool(emu: Emulator, body: dict[str, Any], *, api_version: str | None = None) -> Record:
    """Validates a PoolAddParameter, stores the new pool and tells the engine to allocate.

    Args:
        emu: The emulator.
        body: The JSON body of `POST /pools` (not yet validated).
        api_version: The request's api-version, whose schema checks the body; None (a pool the
            emulator makes from a checked specification) accepts any version's properties.

    Returns:
        The stored pool record.

    Raises:
        ServiceError: 400 for an invalid body, 409 PoolExists for a duplicate id.
    """
    subscription = account_subscription(emu)
    body = validate(body, "PoolAddParameter", version=api_version, subscription=subscription)
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
