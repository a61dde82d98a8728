"""Provides adding tasks, one or a collection: the checks the service makes, the defaults it
echoes, and the job told of its new tasks."""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.base.errors import ServiceError, conflict
from batch_tui.emulator.base.times import iso
from batch_tui.emulator.ops.defaults import (
    DEFAULT_AUTO_USER,
    account_subscription,
    task_constraints,
)
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.entities import get_job
from batch_tui.emulator.ops.jobs import require_job_open
from batch_tui.emulator.state.store import Record, TaskRecord
from batch_tui.emulator.validation.checks import invalid_value, validate, validate_id

MAX_DEPENDENCY_CHARS = 64_000
"""The limit on the total length of `dependsOn.taskIds` (spec: `TaskDependencyListTooLong`)."""


_COPIED = (
    "commandLine",
    "containerSettings",
    "resourceFiles",
    "outputFiles",
    "environmentSettings",
    "affinityInfo",
)
"""Properties copied as sent, in the order CloudTask lists them (after `state`)."""


_COPIED_AFTER = ("dependsOn", "applicationPackageReferences", "authenticationTokenSettings")


def _check_task(job: Record, body: dict[str, Any], tasks: dict[str, TaskRecord]) -> None:
    validate_id(body["id"])
    key = body["id"].lower()
    if key in tasks:
        raise conflict("TaskExists", "The specified task already exists.")
    for name, code in (
        ("jobPreparationTask", "TaskIdSameAsJobPreparationTask"),
        ("jobReleaseTask", "TaskIdSameAsJobReleaseTask"),
    ):
        if str(job.data.get(name, {}).get("id", "")).lower() == key:
            raise conflict(code, f"The task id is the same as the job's {name}.")
    depends = body.get("dependsOn")
    if depends and not job.data.get("usesTaskDependencies"):
        raise conflict(
            "TaskDependenciesNotSpecifiedOnJob", "The job does not use task dependencies."
        )
    if depends and sum(len(t) for t in depends.get("taskIds", [])) > MAX_DEPENDENCY_CHARS:
        raise ServiceError(
            400, "TaskDependencyListTooLong", "The list of task dependencies is too long."
        )
    instances = body.get("multiInstanceSettings", {}).get("numberOfInstances", 1)
    if instances < 1:
        raise invalid_value("numberOfInstances", instances, "The value must be at least 1.")


def _task_data(job: Record, body: dict[str, Any], now: str) -> dict[str, Any]:
    """Builds the full wire dict of a new task with the defaults the service echoes."""
    data: dict[str, Any] = {"id": body["id"]}
    if "displayName" in body:
        data["displayName"] = body["displayName"]
    data["creationTime"] = now
    if "exitConditions" in body:
        data["exitConditions"] = body["exitConditions"]
    data["state"] = "active"
    data["stateTransitionTime"] = now
    data.update((k, body[k]) for k in _COPIED if k in body)
    data["constraints"] = task_constraints(body.get("constraints"), job)
    data["requiredSlots"] = body.get("requiredSlots", 1)
    data["userIdentity"] = body.get("userIdentity", DEFAULT_AUTO_USER)
    data["executionInfo"] = {"retryCount": 0, "requeueCount": 0}
    if "multiInstanceSettings" in body:
        data["multiInstanceSettings"] = {"numberOfInstances": 1, **body["multiInstanceSettings"]}
    data.update((k, body[k]) for k in _COPIED_AFTER if k in body)
    return data


def build_task(job: Record, body: dict[str, Any], now: str) -> TaskRecord:
    """Builds, without validating or storing it, the record of a task as `add` would create it.

    For scenarios that seed many tasks at once: they build one record per task from a body
    known to be valid, patch it into its final state and store them in bulk.

    Args:
        job: The job the task belongs to (its constraints give the task's defaults).
        body: A valid TaskAddParameter.
        now: The creation time, formatted as the service does.
    """
    return TaskRecord(_task_data(job, body, now), job_key=job.id.lower())


def new_task(
    emu: Emulator,
    job: Record,
    body: Any,
    now: str | None = None,
    *,
    api_version: str | None = None,
) -> TaskRecord:
    """Validates one TaskAddParameter and stores the task (the engine is told by the caller).

    Args:
        emu: The emulator.
        job: The open job.
        body: The task's JSON.
        now: The creation time, computed once for a whole batch.
        api_version: The request's api-version, whose schema checks the body (None: any).
    """
    subscription = account_subscription(emu)
    body = validate(body, "TaskAddParameter", version=api_version, subscription=subscription)
    tasks = emu.store.job_tasks(job.id.lower())
    _check_task(job, body, tasks)
    data = _task_data(job, body, now or iso(emu.clock.now()))
    record = TaskRecord(data, job_key=job.id.lower())
    emu.store.add(tasks, record)
    return record


def open_job(emu: Emulator, job_id: str) -> Record:
    job = get_job(emu, job_id)
    require_job_open(job)
    return job


def add_tasks(emu: Emulator, job_id: str, bodies: list[dict[str, Any]]) -> list[TaskRecord]:
    """Validates and stores tasks, then hands them to the engine in one batch.

    Args:
        emu: The emulator.
        job_id: The job to add to.
        bodies: TaskAddParameter JSON bodies (not yet validated).

    Returns:
        The stored task records, in order.

    Raises:
        ServiceError: 404 JobNotFound, 409 for a closed job or a duplicate id, 400 for an
            invalid body; tasks before the failing one stay added.
    """
    job = open_job(emu, job_id)
    added: list[TaskRecord] = []
    now = iso(emu.clock.now())
    try:
        for body in bodies:
            added.append(new_task(emu, job, body, now))
    finally:
        if added:
            emu.engine.tasks_added(job, added)
    return added
