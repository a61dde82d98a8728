"""Provides the job schedule operations without HTTP: add, the checks of its schedule and job
specification (with the defaults the service echoes), its state rules, jobs and statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from batch_tui.emulator.base.errors import conflict, not_found
from batch_tui.emulator.base.times import TICKS_PER_SECOND, iso, parse_duration
from batch_tui.emulator.ops.defaults import (
    job_constraints,
    manager_task,
    pool_info,
    prep_task,
    release_task,
)
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.jobs import UNMEASURED_USAGE, check_job_spec, job_stats
from batch_tui.emulator.state.store import Record
from batch_tui.emulator.validation.checks import invalid_value, missing_property, validate_id

MIN_SCHEDULE_SECONDS = 60
"""`startWindow` and `recurrenceInterval` are at least 1 minute (400 otherwise, spec)."""


_BLOCKING = {
    "completed": (
        "JobScheduleCompleted",
        "The specified job schedule is already in completed state.",
    ),
    "terminating": (
        "JobScheduleBeingTerminated",
        "The specified job schedule is being terminated.",
    ),
    "deleting": (
        "JobScheduleBeingDeleted",
        "The specified job schedule has been marked for deletion and is being reclaimed.",
    ),
}
"""States in which a schedule refuses changes, with the service's 409 codes."""


def get_schedule(emu: Emulator, schedule_id: str) -> Record:
    """Returns a job schedule or raises 404 JobScheduleNotFound."""
    schedule = emu.store.job_schedules.get(schedule_id.lower())
    if schedule is None:
        raise not_found("job schedule", "JobScheduleNotFound")
    return schedule


def require_schedule_open(schedule: Record, *also: str) -> None:
    """Raises the service's 409 when the schedule's state forbids the change."""
    state = str(schedule.data.get("state"))
    if state in _BLOCKING and state not in also:
        raise conflict(*_BLOCKING[state])


def _check_schedule(schedule: dict[str, Any]) -> None:
    for name in ("startWindow", "recurrenceInterval"):
        value = schedule.get(name)
        if value is not None and parse_duration(value) < MIN_SCHEDULE_SECONDS * TICKS_PER_SECOND:
            raise invalid_value(name, value, "The minimum value is 1 minute.")


def _check_job_spec(spec: dict[str, Any]) -> None:
    check_job_spec(spec)
    auto = spec["poolInfo"].get("autoPoolSpecification")
    if auto is not None:
        if "pool" not in auto:
            raise missing_property("autoPoolSpecification.pool")
        if "virtualMachineConfiguration" not in auto["pool"]:
            raise missing_property("virtualMachineConfiguration")


def job_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Returns a job specification with the defaults the service echoes (recording)."""
    out: dict[str, Any] = {}
    if "displayName" in spec:
        out["displayName"] = spec["displayName"]
    out.update(
        priority=spec.get("priority", 0),
        maxParallelTasks=spec.get("maxParallelTasks", -1),
        allowTaskPreemption=spec.get("allowTaskPreemption", False),
        usesTaskDependencies=spec.get("usesTaskDependencies", False),
        onAllTasksComplete=spec.get("onAllTasksComplete", "noaction"),
        onTaskFailure=spec.get("onTaskFailure", "noaction"),
        constraints=job_constraints(spec.get("constraints")),
    )
    tasks = (("jobManagerTask", manager_task), ("jobPreparationTask", prep_task),
             ("jobReleaseTask", release_task))  # fmt: skip
    for name, defaults in tasks:
        if name in spec:
            out[name] = defaults(spec[name])
    for name in ("commonEnvironmentSettings", "poolInfo", "networkConfiguration", "metadata"):
        if name in spec:
            out[name] = spec[name]
    out["poolInfo"] = pool_info(spec["poolInfo"])
    return out


def set_schedule_parts(schedule: Record, body: dict[str, Any]) -> None:
    """Validates and stores a new `schedule` and/or `jobSpecification` from a body."""
    if "schedule" in body:
        _check_schedule(body["schedule"])
    if "jobSpecification" in body:
        _check_job_spec(body["jobSpecification"])
    if "schedule" in body:
        schedule.data["schedule"] = body["schedule"]
    if "jobSpecification" in body:
        schedule.data["jobSpecification"] = job_spec(body["jobSpecification"])


def _schedule_data(body: dict[str, Any], created: datetime) -> dict[str, Any]:
    now = iso(created)
    data: dict[str, Any] = {"id": body["id"]}
    if "displayName" in body:
        data["displayName"] = body["displayName"]
    data.update(creationTime=now, state="active", stateTransitionTime=now)
    data.update(schedule=body["schedule"], jobSpecification=job_spec(body["jobSpecification"]))
    data["executionInfo"] = {}
    if "metadata" in body:
        data["metadata"] = body["metadata"]
    return data


def add_job_schedule(emu: Emulator, body: dict[str, Any]) -> Record:
    """Validates a JobScheduleAddParameter, stores the schedule and makes its first job if due.

    Args:
        emu: The emulator.
        body: The parsed JSON body of `POST /jobschedules` (validated against the schema).

    Returns:
        The stored schedule.

    Raises:
        ServiceError: 400 for an invalid body; 409 JobScheduleExists, or JobWithSameIdExists
            (a job and a job schedule cannot share an id).
    """
    validate_id(body["id"])
    _check_schedule(body["schedule"])
    _check_job_spec(body["jobSpecification"])
    key = body["id"].lower()
    if key in emu.store.job_schedules:
        raise conflict("JobScheduleExists", "The specified job schedule already exists.")
    if key in emu.store.jobs:
        raise conflict("JobWithSameIdExists", "A job with the specified job schedule id exists.")
    created = emu.clock.now()
    schedule = Record(_schedule_data(body, created))
    emu.store.add(emu.store.job_schedules, schedule)
    emu.periodic.schedules.plan(schedule, created)
    return schedule


def schedule_stats(emu: Emulator, schedule: Record) -> dict[str, Any]:
    """Job schedule statistics, summed over its jobs (`$expand=stats`)."""
    per_job = [job_stats(emu, job) for job in schedule_jobs(emu, schedule.id)]
    totals = {
        name: sum(int(stats[name]) for stats in per_job)
        for name in ("numSucceededTasks", "numFailedTasks", "numTaskRetries")
    }
    return {
        "url": emu.urls.schedule(schedule.id) + "/stats",
        "startTime": schedule.data["creationTime"],
        "lastUpdateTime": iso(emu.clock.now()),
        **UNMEASURED_USAGE,
        **totals,
        "waitTime": "PT0S",
    }


def schedule_jobs(emu: Emulator, schedule_id: str) -> list[Record]:
    """The jobs a schedule has made that still exist, oldest first."""
    prefix = f"{schedule_id.lower()}:"
    return [job for key, job in emu.store.jobs.items() if key.startswith(prefix)]
