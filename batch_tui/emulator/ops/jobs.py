"""Provides the job operations without HTTP: add a job (with its defaults and auto pool), the
checks its state makes, and its statistics and task counts."""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.base.errors import conflict
from batch_tui.emulator.base.times import iso
from batch_tui.emulator.ops.autopools import create_auto_pool
from batch_tui.emulator.ops.defaults import (
    account_subscription,
    job_constraints,
    manager_task,
    pool_info,
    prep_task,
    release_task,
)
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.state.store import Record
from batch_tui.emulator.validation.checks import (
    invalid_value,
    missing_property,
    validate,
    validate_id,
)


def check_job_spec(body: dict[str, Any]) -> None:
    """Checks what a job and a job schedule's job specification share (beyond the schema).

    Raises:
        ServiceError: 400 for a pool reference, release task or parallelism the service refuses.
    """
    pool_info = body["poolInfo"]
    if "poolId" not in pool_info and "autoPoolSpecification" not in pool_info:
        raise missing_property("poolInfo.poolId")
    if "poolId" in pool_info and "autoPoolSpecification" in pool_info:
        raise invalid_value(
            "poolInfo", "", "Specify either the pool ID or the auto pool specification, not both."
        )
    auto = pool_info.get("autoPoolSpecification") or {}
    if len(auto.get("autoPoolIdPrefix", "")) > 20:
        raise invalid_value(
            "autoPoolIdPrefix", auto["autoPoolIdPrefix"], "The prefix can be up to 20 characters."
        )
    if "jobReleaseTask" in body and "jobPreparationTask" not in body:
        raise invalid_value("jobReleaseTask", "", "A job release task needs a preparation task.")
    for name in ("jobPreparationTask", "jobReleaseTask", "jobManagerTask"):
        task_id = body.get(name, {}).get("id")
        if task_id is not None:
            validate_id(task_id, f"{name}.id")
    if body.get("maxParallelTasks", -1) == 0 or body.get("maxParallelTasks", -1) < -1:
        raise invalid_value(
            "maxParallelTasks", body["maxParallelTasks"], "The value must be -1 or greater than 0."
        )


def _check_job_body(body: dict[str, Any], scheduled: bool) -> None:
    if not scheduled:
        # Jobs a schedule makes are named `<scheduleId>:job-<n>`, outside the user's id rules.
        validate_id(body["id"])
    check_job_spec(body)
    auto = body["poolInfo"].get("autoPoolSpecification") or {}
    if not scheduled and auto.get("poolLifetimeOption") == "jobschedule":
        reason = "The jobschedule lifetime applies to job schedules only."
        raise invalid_value("poolLifetimeOption", "jobschedule", reason)


def _auto_pool(emu: Emulator, spec: dict[str, Any], job_id: str) -> str:
    """Creates the auto pool of a job (its lifetime is the job's) and returns its id."""
    return create_auto_pool(emu, spec, "job", job_id).id


def _job_data(emu: Emulator, body: dict[str, Any], pool_id: str | None) -> dict[str, Any]:
    """Builds the full wire dict of a new job with the defaults the service echoes."""
    now = iso(emu.clock.now())
    data: dict[str, Any] = {"id": body["id"]}
    if "displayName" in body:
        data["displayName"] = body["displayName"]
    data.update(
        usesTaskDependencies=body.get("usesTaskDependencies", False),
        creationTime=now,
        state="active",
        stateTransitionTime=now,
        priority=body.get("priority", 0),
        maxParallelTasks=body.get("maxParallelTasks", -1),
        allowTaskPreemption=body.get("allowTaskPreemption", False),
        constraints=job_constraints(body.get("constraints")),
    )
    if "jobManagerTask" in body:
        data["jobManagerTask"] = manager_task(body["jobManagerTask"])
    if "jobPreparationTask" in body:
        data["jobPreparationTask"] = prep_task(body["jobPreparationTask"])
    if "jobReleaseTask" in body:
        data["jobReleaseTask"] = release_task(body["jobReleaseTask"])
    if "commonEnvironmentSettings" in body:
        data["commonEnvironmentSettings"] = body["commonEnvironmentSettings"]
    data["poolInfo"] = pool_info(body["poolInfo"])
    data["onAllTasksComplete"] = body.get("onAllTasksComplete", "noaction")
    data["onTaskFailure"] = body.get("onTaskFailure", "noaction")
    for name in ("networkConfiguration", "metadata"):
        if name in body:
            data[name] = body[name]
    execution: dict[str, Any] = {"startTime": now}
    if pool_id:
        execution["poolId"] = pool_id
    data["executionInfo"] = execution
    return data


def add_job(
    emu: Emulator,
    body: dict[str, Any],
    *,
    scheduled: bool = False,
    pool_id: str | None = None,
    api_version: str | None = None,
) -> Record:
    """Validates a JobAddParameter, stores the new job and hands it to the engine.

    Args:
        emu: The emulator.
        body: The JSON body of `POST /jobs` (not yet validated).
        scheduled: Whether a job schedule makes the job (its id is `<scheduleId>:job-<n>`).
        pool_id: The pool a scheduled job runs on when its schedule's auto pool already exists
            (`poolLifetimeOption` `jobschedule`); otherwise an auto pool is made for the job.
        api_version: The request's api-version, whose schema checks the body; None (a job its
            schedule makes from a checked specification) accepts any version's properties.

    Returns:
        The stored job record.

    Raises:
        ServiceError: 400 for an invalid body, 409 JobExists for a duplicate id (or
            JobScheduleWithSameIdExists: a job and a job schedule cannot share an id).
    """
    subscription = account_subscription(emu)
    body = validate(body, "JobAddParameter", version=api_version, subscription=subscription)
    _check_job_body(body, scheduled)
    if body["id"].lower() in emu.store.jobs:
        raise conflict("JobExists", "The specified job already exists.")
    if body["id"].lower() in emu.store.job_schedules:
        raise conflict(
            "JobScheduleWithSameIdExists", "A job schedule with the specified job id exists."
        )
    auto = body["poolInfo"].get("autoPoolSpecification")
    if auto and pool_id is None:
        pool_id = _auto_pool(emu, auto, body["id"])
    record = Record(_job_data(emu, body, pool_id or body["poolInfo"].get("poolId")))
    emu.store.add(emu.store.jobs, record)
    emu.store.job_tasks(record.id.lower())
    emu.engine.job_added(record)
    return record


def require_job_open(job: Record) -> None:
    """Raises the service's 409 for a job that is completed, terminating or being deleted."""
    state = job.data.get("state")
    if state == "deleting":
        raise conflict("JobBeingDeleted", "The specified job has been marked for deletion.")
    if state == "terminating":
        raise conflict("JobBeingTerminated", "The specified job is being terminated.")
    if state == "completed":
        raise conflict("JobCompleted", "The specified job is already in a completed state.")


UNMEASURED_USAGE: dict[str, Any] = {
    "userCPUTime": "PT0S",
    "kernelCPUTime": "PT0S",
    "wallClockTime": "PT0S",
    "readIOps": 0,
    "writeIOps": 0,
    "readIOGiB": 0.0,
    "writeIOGiB": 0.0,
}
"""The resource usage in job and job schedule statistics: the emulator measures none."""


def job_stats(emu: Emulator, job: Record) -> dict[str, Any]:
    """Job statistics computed from its tasks (`$expand=stats`)."""
    tasks = emu.store.job_tasks(job.id.lower()).values()
    infos = [t.data.get("executionInfo", {}) for t in tasks]
    done = [i for i in infos if i.get("result") or "exitCode" in i]
    failed = sum(1 for i in done if i.get("result") == "failure")
    return {
        "url": emu.urls.job(job.id) + "/stats",
        "startTime": job.data["creationTime"],
        "lastUpdateTime": iso(emu.clock.now()),
        **UNMEASURED_USAGE,
        "numSucceededTasks": len(done) - failed,
        "numFailedTasks": failed,
        "numTaskRetries": sum(int(i.get("retryCount", 0)) for i in infos),
        "waitTime": "PT0S",
    }


def task_counts(emu: Emulator, job: Record) -> dict[str, Any]:
    """Counts a job's tasks and task slots by state, as `taskcounts` reports them."""
    counts = dict.fromkeys(("active", "running", "completed", "succeeded", "failed"), 0)
    slots = dict(counts)
    for task in emu.store.job_tasks(job.id.lower()).values():
        state = task.data.get("state", "active")
        bucket = "running" if state == "preparing" else state
        weight = int(task.data.get("requiredSlots", 1))
        keys = [bucket]
        if state == "completed":
            failed = task.data.get("executionInfo", {}).get("result") == "failure"
            keys.append("failed" if failed else "succeeded")
        for key in keys:
            counts[key] += 1
            slots[key] += weight
    return {"taskCounts": counts, "taskSlotCounts": slots}
