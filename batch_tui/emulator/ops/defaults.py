"""Provides the defaults the service fills into new entities and echoes on GET.

Start tasks, job and task constraints, the job's preparation, release and manager tasks, and a
pool's settings: its image's version, data disks, user accounts (whose secrets are never
echoed), scheduling policy and network, in a pool and in an auto pool specification alike. The
account's subscription is here too, the one a subnet must be in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from batch_tui.emulator.base.times import UNLIMITED
from batch_tui.emulator.state.store import Record

if TYPE_CHECKING:
    from batch_tui.emulator.ops.emulator import Emulator

DEFAULT_RESIZE_TIMEOUT = "PT15M"
DEFAULT_AUTOSCALE_INTERVAL = "PT15M"

DEFAULT_AUTO_USER = {"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}}
"""The identity the service echoes for a task that names none."""


def job_constraints(constraints: dict[str, Any] | None) -> dict[str, Any]:
    """Returns job constraints with the service's defaults filled in."""
    given = constraints or {}
    return {
        "maxWallClockTime": given.get("maxWallClockTime", UNLIMITED),
        "maxTaskRetryCount": given.get("maxTaskRetryCount", 0),
    }


def task_constraints(constraints: dict[str, Any] | None, job: Record) -> dict[str, Any]:
    """Returns task constraints with defaults; the retry count defaults to the job's."""
    given = constraints or {}
    job_retries = job.data.get("constraints", {}).get("maxTaskRetryCount", 0)
    return {
        "maxWallClockTime": given.get("maxWallClockTime", UNLIMITED),
        "retentionTime": given.get("retentionTime", "P7D"),
        "maxTaskRetryCount": given.get("maxTaskRetryCount", job_retries),
    }


def with_defaults(task: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {**task, **{k: v for k, v in defaults.items() if k not in task}}


def prep_task(task: dict[str, Any]) -> dict[str, Any]:
    defaults = {
        "id": "jobpreparation",
        "constraints": {
            "maxWallClockTime": UNLIMITED,
            "retentionTime": "P7D",
            "maxTaskRetryCount": 0,
        },
        "waitForSuccess": True,
        "userIdentity": DEFAULT_AUTO_USER,
        "rerunOnNodeRebootAfterSuccess": True,
    }
    return with_defaults(task, defaults)


def release_task(task: dict[str, Any]) -> dict[str, Any]:
    defaults = {
        "id": "jobrelease",
        "maxWallClockTime": "PT15M",
        "retentionTime": "P7D",
        "userIdentity": DEFAULT_AUTO_USER,
    }
    return with_defaults(task, defaults)


def manager_task(task: dict[str, Any]) -> dict[str, Any]:
    defaults = {
        "constraints": {
            "maxWallClockTime": UNLIMITED,
            "retentionTime": "P7D",
            "maxTaskRetryCount": 0,
        },
        "requiredSlots": 1,
        "killJobOnCompletion": True,
        "userIdentity": DEFAULT_AUTO_USER,
        "runExclusive": True,
        "allowLowPriorityNode": True,
    }
    return with_defaults(task, defaults)


def start_task(task: dict[str, Any]) -> dict[str, Any]:
    """Returns a start task with the defaults the service echoes on GET."""
    defaults = {
        "userIdentity": {"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}},
        "maxTaskRetryCount": 0,
        "waitForSuccess": True,
    }
    return {**task, **{k: v for k, v in defaults.items() if k not in task}}


def account_subscription(emu: Emulator) -> str:
    """The subscription the emulator's Batch account is in (its settings' `subscription_id`)."""
    return emu.settings.subscription_id


def _data_disk(disk: dict[str, Any]) -> dict[str, Any]:
    """A data disk as the service echoes it: `caching` `none` and, without a managed disk,
    `storageAccountType` `standard_lrs` (recording)."""
    out: dict[str, Any] = {"lun": disk["lun"], "caching": disk.get("caching", "none")}
    out["diskSizeGB"] = disk["diskSizeGB"]
    if "managedDisk" not in disk:
        out["storageAccountType"] = disk.get("storageAccountType", "standard_lrs")
    return {**out, **{k: v for k, v in disk.items() if k not in out}}


def vm_configuration(config: dict[str, Any]) -> dict[str, Any]:
    """A virtual machine configuration with the defaults the service echoes: a Marketplace
    image's `version` `latest`, and its data disks' defaults (recording)."""
    out = dict(config)
    image = config.get("imageReference")
    if isinstance(image, dict) and "publisher" in image and "version" not in image:
        out["imageReference"] = {**image, "version": "latest"}
    if "dataDisks" in config:
        out["dataDisks"] = [_data_disk(disk) for disk in config["dataDisks"]]
    return out


def _is_windows(config: dict[str, Any] | None) -> bool:
    return str((config or {}).get("nodeAgentSKUId", "")).lower().startswith("batch.node.windows")


def user_accounts(accounts: list[dict[str, Any]], windows: bool) -> list[dict[str, Any]]:
    """A pool's user accounts with the defaults the service lists: the elevation level's and,
    on Windows, the login mode's (recording). Their passwords are kept (an auto pool is made
    from them again) but never shown (`validation.views`)."""
    out: list[dict[str, Any]] = []
    for account in accounts:
        user = {k: v for k, v in account.items() if k in ("name", "password")}
        user["elevationLevel"] = account.get("elevationLevel", "nonadmin")
        if windows or "windowsUserConfiguration" in account:
            login = {"loginMode": "batch", **account.get("windowsUserConfiguration", {})}
            user["windowsUserConfiguration"] = login
        out.append({**user, **{k: v for k, v in account.items() if k not in user}})
    return out


def scheduling_policy(policy: dict[str, Any] | None) -> dict[str, Any]:
    """How tasks are spread over nodes, with the defaults: `spread`, and (2025-06-01) jobs in
    no particular order (`jobDefaultOrder` `none`)."""
    given = policy or {}
    return {
        "nodeFillType": given.get("nodeFillType", "spread"),
        "jobDefaultOrder": given.get("jobDefaultOrder", "none"),
    }


def network_configuration(config: dict[str, Any]) -> dict[str, Any]:
    """A pool's network configuration with `dynamicVNetAssignmentScope` `none` filled in."""
    return {
        **config,
        "dynamicVNetAssignmentScope": config.get("dynamicVNetAssignmentScope", "none"),
    }


def pool_settings(body: dict[str, Any]) -> dict[str, Any]:
    """The defaults of those of a pool's settings that `body` (a pool, a patch or a pool
    specification) carries: its VM configuration, network, start task, user accounts and
    scheduling policy. Other properties are returned as they are."""
    out = dict(body)
    config = body.get("virtualMachineConfiguration")
    if config is not None:
        out["virtualMachineConfiguration"] = vm_configuration(config)
    if "networkConfiguration" in body:
        out["networkConfiguration"] = network_configuration(body["networkConfiguration"])
    if "startTask" in body:
        out["startTask"] = start_task(body["startTask"])
    if "userAccounts" in body:
        out["userAccounts"] = user_accounts(body["userAccounts"], _is_windows(config))
    if "taskSchedulingPolicy" in body:
        out["taskSchedulingPolicy"] = scheduling_policy(body["taskSchedulingPolicy"])
    return out


def pool_specification(spec: dict[str, Any]) -> dict[str, Any]:
    """An auto pool's pool specification with the defaults the service echoes, in its order
    (recording: the job's `poolInfo.autoPoolSpecification.pool`)."""
    given = pool_settings(spec)
    out: dict[str, Any] = {}
    if "displayName" in given:
        out["displayName"] = given["displayName"]
    out["vmSize"] = given["vmSize"]
    out["taskSlotsPerNode"] = given.get("taskSlotsPerNode", 1)
    out["taskSchedulingPolicy"] = scheduling_policy(given.get("taskSchedulingPolicy"))
    out["resizeTimeout"] = given.get("resizeTimeout", DEFAULT_RESIZE_TIMEOUT)
    if given.get("enableAutoScale"):
        out["enableAutoScale"] = True
        interval = given.get("autoScaleEvaluationInterval", DEFAULT_AUTOSCALE_INTERVAL)
        out["autoScaleEvaluationInterval"] = interval
    else:
        out["targetDedicatedNodes"] = given.get("targetDedicatedNodes", 0)
        out["targetLowPriorityNodes"] = given.get("targetLowPriorityNodes", 0)
        out["enableAutoScale"] = False
    out["enableInterNodeCommunication"] = given.get("enableInterNodeCommunication", False)
    return {**out, **{k: v for k, v in given.items() if k not in out}}


def pool_info(info: dict[str, Any]) -> dict[str, Any]:
    """A job's `poolInfo` with its auto pool specification's defaults (`keepAlive` false)."""
    auto = info.get("autoPoolSpecification")
    if auto is None:
        return info
    spec: dict[str, Any] = {}
    if "autoPoolIdPrefix" in auto:
        spec["autoPoolIdPrefix"] = auto["autoPoolIdPrefix"]
    spec["poolLifetimeOption"] = auto["poolLifetimeOption"]
    spec["keepAlive"] = auto.get("keepAlive", False)
    if "pool" in auto:
        spec["pool"] = pool_specification(auto["pool"])
    return {**info, "autoPoolSpecification": spec}
