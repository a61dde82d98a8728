"""Provides the defaults the service fills into new entities and echoes on GET.

Start tasks, job and task constraints, and the job's preparation, release and manager tasks.
"""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.base.times import UNLIMITED
from batch_tui.emulator.state.store import Record

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
