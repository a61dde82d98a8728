"""Provides the job routes, from add to delete, task counts and prep/release status."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from batch_tui.emulator.base.errors import ServiceError, conflict, not_found
from batch_tui.emulator.ops.defaults import job_constraints, pool_info
from batch_tui.emulator.ops.entities import get_job
from batch_tui.emulator.ops.jobs import add_job, job_stats, require_job_open, task_counts
from batch_tui.emulator.query.filter_tables import JOB_FILTER, PREP_RELEASE_FILTER
from batch_tui.emulator.query.select import (
    JOB_PROPS,
    PREP_RELEASE_PROPS,
)
from batch_tui.emulator.routes.common import (
    Call,
    ListSpec,
    RouteTable,
    entity_response,
    list_response,
)
from batch_tui.emulator.routes.wire import (
    action_headers,
    created_headers,
    empty_response,
    entity,
    json_response,
)
from batch_tui.emulator.state.store import Record

JOB_LIST = ListSpec("jobs", JOB_FILTER, JOB_PROPS, expand=True)
PREP_RELEASE_LIST = ListSpec(
    "jobpreparationandreleasetaskstatus", PREP_RELEASE_FILTER, PREP_RELEASE_PROPS
)


def _render(call: Call, job: Record, expand: bool) -> dict[str, Any]:
    emu = call.emu
    data = entity(job, emu.urls.job(job.id), data=call.shown(job.data, "job"))
    if expand and "stats" not in data:
        data["stats"] = job_stats(emu, job)
    return data


async def _add(call: Call) -> Response:
    job = add_job(call.emu, await call.json(), api_version=call.api_version)
    return empty_response(call.request, 201, created_headers(job, call.emu.urls.job(job.id)))


async def _list(call: Call) -> Response:
    jobs = list(call.emu.store.jobs.values())
    view = call.viewer("job")
    return list_response(
        call,
        jobs,
        JOB_LIST,
        key=lambda j: j.id.lower(),
        render=lambda j, expand: _render(call, j, expand),
        stored=lambda j: view(j.data),
    )


async def _list_from_schedule(call: Call) -> Response:
    schedule_id = call.params["schedule_id"]
    if schedule_id.lower() not in call.emu.store.job_schedules:
        raise not_found("job schedule", "JobScheduleNotFound")
    prefix = f"{schedule_id.lower()}:"
    jobs = [j for k, j in call.emu.store.jobs.items() if k.startswith(prefix)]
    view = call.viewer("job")
    return list_response(
        call,
        jobs,
        JOB_LIST,
        key=lambda j: j.id.lower(),
        render=lambda j, expand: _render(call, j, expand),
        stored=lambda j: view(j.data),
    )


async def _get(call: Call) -> Response:
    job = get_job(call.emu, call.params["job_id"])
    return entity_response(
        call, job, JOB_PROPS, "jobs/@Element", lambda expand: _render(call, job, expand)
    )


def _updated(call: Call, job: Record, suffix: str = "", status: int = 200) -> Response:
    call.emu.store.touch(job)
    url = call.emu.urls.job(job.id) + suffix
    return empty_response(call.request, status, action_headers(job, url))


async def _patch(call: Call) -> Response:
    job = get_job(call.emu, call.params["job_id"])
    call.check(job)
    body = await call.body("JobPatchParameter")
    require_job_open(job)
    if "constraints" in body:
        body["constraints"] = job_constraints(body["constraints"])
    if "poolInfo" in body:
        body["poolInfo"] = pool_info(body["poolInfo"])
    job.data.update(body)
    return _updated(call, job)


async def _update(call: Call) -> Response:
    job = get_job(call.emu, call.params["job_id"])
    call.check(job)
    body = await call.body("JobUpdateParameter")
    require_job_open(job)
    # A full replace: what the body leaves out goes back to its default (spec).
    job.data.update(
        priority=body.get("priority", 0),
        maxParallelTasks=body.get("maxParallelTasks", -1),
        allowTaskPreemption=body.get("allowTaskPreemption", False),
        constraints=job_constraints(body.get("constraints")),
        poolInfo=pool_info(body["poolInfo"]),
        onAllTasksComplete=body.get("onAllTasksComplete", "noaction"),
    )
    job.data.pop("metadata", None)
    if "metadata" in body:
        job.data["metadata"] = body["metadata"]
    return _updated(call, job)


async def _delete(call: Call) -> Response:
    job = get_job(call.emu, call.params["job_id"])
    call.check(job)
    if job.data.get("state") == "deleting":
        raise conflict("JobBeingDeleted", "The specified job has been marked for deletion.")
    call.bool_param("force")
    call.emu.engine.job_deleted(job)
    return empty_response(call.request, 202)


async def _disable(call: Call) -> Response:
    job = get_job(call.emu, call.params["job_id"])
    call.check(job)
    body = await call.body("JobDisableParameter")
    state = job.data.get("state")
    if state not in ("active", "disabling", "disabled"):
        raise conflict("JobNotActive", f"The specified job is {state} and cannot be disabled.")
    if state == "active":
        call.emu.engine.job_disabled(job, body["disableTasks"])
    return _updated(call, job, "/disable", 202)


async def _enable(call: Call) -> Response:
    job = get_job(call.emu, call.params["job_id"])
    call.check(job)
    state = job.data.get("state")
    if state not in ("active", "enabling", "disabling", "disabled"):
        raise conflict("JobNotDisabled", f"The specified job is {state} and cannot be enabled.")
    if state in ("disabling", "disabled"):
        call.emu.engine.job_enabled(job)
    return _updated(call, job, "/enable", 202)


async def _terminate(call: Call) -> Response:
    job = get_job(call.emu, call.params["job_id"])
    call.check(job)
    body = await call.body("JobTerminateParameter", optional=True)
    call.bool_param("force")
    require_job_open(job)
    call.emu.engine.job_terminated(job, body.get("terminateReason", "UserTerminate"))
    return _updated(call, job, "/terminate", 202)


async def _task_counts(call: Call) -> Response:
    job = get_job(call.emu, call.params["job_id"])
    return json_response(
        call.request,
        task_counts(call.emu, job),
        metadata="Microsoft.Azure.Batch.Protocol.Entities.TaskCountsResult",
    )


async def _prep_release_status(call: Call) -> Response:
    job = get_job(call.emu, call.params["job_id"])
    if "jobPreparationTask" not in job.data:
        raise ServiceError(
            409,
            "JobPreparationTaskNotSpecified",
            "The specified job does not have a job preparation task.",
        )
    items = call.emu.engine.job_prep_release_status(job)
    return list_response(
        call,
        items,
        PREP_RELEASE_LIST,
        key=lambda i: str(i.get("nodeId", "")).lower(),
        render=lambda i, _: i,
    )


_JOB = "/jobs/{job_id}"
ROUTES: RouteTable = [
    ("POST", "/jobs", _add),
    ("GET", "/jobs", _list),
    ("GET", "/jobschedules/{schedule_id}/jobs", _list_from_schedule),
    ("GET", _JOB, _get),
    ("PATCH", _JOB, _patch),
    ("PUT", _JOB, _update),
    ("DELETE", _JOB, _delete),
    ("POST", f"{_JOB}/disable", _disable),
    ("POST", f"{_JOB}/enable", _enable),
    ("POST", f"{_JOB}/terminate", _terminate),
    ("GET", f"{_JOB}/taskcounts", _task_counts),
    ("GET", f"{_JOB}/jobpreparationandreleasetaskstatus", _prep_release_status),
]
