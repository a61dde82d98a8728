"""Provides the job schedule operations: add, list, get, exists, patch, update, delete, disable,
enable and terminate (the jobs of a schedule are listed by `routes.jobs`).

Status codes and shapes follow the live service's recording: 201 with `Location`, `DataServiceId`
and `ETag` on add; a GET that echoes the job specification's defaults and `executionInfo
{nextRunTime, recentJob}`; 204 with `Content-Length: 0` on disable and enable; 202 on terminate
and delete; a new ETag on every change. The recurrence itself is `schedules.ScheduleRunner`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import Response

from batch_tui.emulator.core import Emulator
from batch_tui.emulator.errors import conflict, not_found
from batch_tui.emulator.filters import JOB_SCHEDULE_FILTER
from batch_tui.emulator.routes.common import (
    Call,
    ListSpec,
    RouteTable,
    entity_response,
    list_response,
    set_state,
)
from batch_tui.emulator.routes.defaults import (
    job_constraints,
    manager_task,
    prep_task,
    release_task,
)
from batch_tui.emulator.routes.jobs import check_job_spec, job_stats
from batch_tui.emulator.schedules import schedule_jobs
from batch_tui.emulator.select import JOB_SCHEDULE_PROPS
from batch_tui.emulator.store import Record, iso
from batch_tui.emulator.validation import (
    TICKS_PER_SECOND,
    invalid_value,
    missing_property,
    parse_duration,
    parse_json,
    validate,
    validate_id,
)
from batch_tui.emulator.wire import (
    action_headers,
    created_headers,
    empty_response,
    entity,
    entity_headers,
)

SCHEDULE_LIST = ListSpec("jobschedules", JOB_SCHEDULE_FILTER, JOB_SCHEDULE_PROPS, expand=True)
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


async def _body(call: Call, type_name: str) -> dict[str, Any]:
    """Parses and validates a body, ignoring OData annotations (`odata.metadata`): the SDK sends
    back the ones a GET returned when a fetched schedule is passed to replace."""
    body = parse_json(await call.raw_body())
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if not k.startswith("odata.")}
    return validate(body, type_name)


def get_schedule(emu: Emulator, schedule_id: str) -> Record:
    """Returns a job schedule or raises 404 JobScheduleNotFound."""
    schedule = emu.store.job_schedules.get(schedule_id.lower())
    if schedule is None:
        raise not_found("job schedule", "JobScheduleNotFound")
    return schedule


def schedule_url(emu: Emulator, schedule: Record) -> str:
    return emu.url(f"/jobschedules/{schedule.id}")


def _require_open(schedule: Record, *also: str) -> None:
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
    return out


def _set_parts(schedule: Record, body: dict[str, Any]) -> None:
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
        "url": schedule_url(emu, schedule) + "/stats",
        "startTime": schedule.data["creationTime"],
        "lastUpdateTime": iso(emu.clock.now()),
        "userCPUTime": "PT0S",
        "kernelCPUTime": "PT0S",
        "wallClockTime": "PT0S",
        "readIOps": 0,
        "writeIOps": 0,
        "readIOGiB": 0.0,
        "writeIOGiB": 0.0,
        **totals,
        "waitTime": "PT0S",
    }


def _render(emu: Emulator, schedule: Record, expand: bool) -> dict[str, Any]:
    data = entity(schedule, schedule_url(emu, schedule))
    if expand:
        data["stats"] = schedule_stats(emu, schedule)
    return data


async def _add(call: Call) -> Response:
    schedule = add_job_schedule(call.emu, await _body(call, "JobScheduleAddParameter"))
    url = schedule_url(call.emu, schedule)
    return empty_response(call.request, 201, created_headers(schedule, url))


async def _list(call: Call) -> Response:
    return list_response(
        call,
        list(call.emu.store.job_schedules.values()),
        SCHEDULE_LIST,
        key=lambda s: s.id.lower(),
        render=lambda s, expand: _render(call.emu, s, expand),
        stored=lambda s: s.data,
    )


async def _get(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    return entity_response(
        call,
        schedule,
        JOB_SCHEDULE_PROPS,
        "jobschedules/@Element",
        lambda expand: _render(call.emu, schedule, expand),
    )


async def _exists(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    return empty_response(call.request, 200, entity_headers(schedule))


def _changed(call: Call, schedule: Record, suffix: str = "", status: int = 200) -> Response:
    call.emu.store.touch(schedule)
    url = schedule_url(call.emu, schedule) + suffix
    return empty_response(call.request, status, action_headers(schedule, url))


async def _patch(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    body = await _body(call, "JobSchedulePatchParameter")
    _require_open(schedule)
    _set_parts(schedule, body)
    if "metadata" in body:
        schedule.data["metadata"] = body["metadata"]
    if "schedule" in body:
        call.emu.periodic.schedules.plan(schedule)
    return _changed(call, schedule)


async def _update(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    body = await _body(call, "JobScheduleUpdateParameter")
    _require_open(schedule)
    _set_parts(schedule, body)
    # A full replace: metadata left out is deleted (spec).
    schedule.data.pop("metadata", None)
    if "metadata" in body:
        schedule.data["metadata"] = body["metadata"]
    call.emu.periodic.schedules.plan(schedule)
    return _changed(call, schedule)


async def _delete(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    call.bool_param("force")
    _require_open(schedule, "completed", "terminating")
    call.emu.periodic.schedules.delete(schedule)
    return empty_response(call.request, 202)


async def _disable(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    _require_open(schedule)
    if schedule.data["state"] != "disabled":
        set_state(call.emu, schedule, "disabled")
    return _changed(call, schedule, "/disable", 204)


async def _enable(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    _require_open(schedule)
    if schedule.data["state"] != "active":
        set_state(call.emu, schedule, "active")
        call.emu.periodic.schedules.step(schedule)
    return _changed(call, schedule, "/enable", 204)


async def _terminate(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    call.bool_param("force")
    _require_open(schedule)
    call.emu.periodic.schedules.terminate(schedule)
    return _changed(call, schedule, "/terminate", 202)


_SCHEDULE = "/jobschedules/{schedule_id}"
ROUTES: RouteTable = [
    ("POST", "/jobschedules", _add),
    ("GET", "/jobschedules", _list),
    ("GET", _SCHEDULE, _get),
    ("HEAD", _SCHEDULE, _exists),
    ("PATCH", _SCHEDULE, _patch),
    ("PUT", _SCHEDULE, _update),
    ("DELETE", _SCHEDULE, _delete),
    ("POST", f"{_SCHEDULE}/disable", _disable),
    ("POST", f"{_SCHEDULE}/enable", _enable),
    ("POST", f"{_SCHEDULE}/terminate", _terminate),
]
