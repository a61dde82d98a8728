"""Provides the job operations, from add to delete, task counts and prep/release status."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from batch_tui.emulator.autopools import create_auto_pool
from batch_tui.emulator.core import Emulator
from batch_tui.emulator.errors import ServiceError, conflict, not_found
from batch_tui.emulator.filters import JOB_FILTER, PREP_RELEASE_FILTER
from batch_tui.emulator.routes.common import (
    Call,
    ListSpec,
    RouteTable,
    entity_response,
    get_job,
    job_url,
    list_response,
)
from batch_tui.emulator.routes.defaults import (
    job_constraints,
    manager_task,
    prep_task,
    release_task,
)
from batch_tui.emulator.select import (
    JOB_PROPS,
    PREP_RELEASE_PROPS,
)
from batch_tui.emulator.store import Record, iso
from batch_tui.emulator.validation import (
    invalid_value,
    missing_property,
    parse_json,
    validate,
    validate_id,
)
from batch_tui.emulator.wire import (
    action_headers,
    created_headers,
    empty_response,
    entity,
    json_response,
)

JOB_LIST = ListSpec("jobs", JOB_FILTER, JOB_PROPS, expand=True)
PREP_RELEASE_LIST = ListSpec(
    "jobpreparationandreleasetaskstatus", PREP_RELEASE_FILTER, PREP_RELEASE_PROPS
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
    data["poolInfo"] = body["poolInfo"]
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
    emu: Emulator, body: dict[str, Any], *, scheduled: bool = False, pool_id: str | None = None
) -> Record:
    """Validates a JobAddParameter, stores the new job and hands it to the engine.

    Args:
        emu: The emulator.
        body: The JSON body of `POST /jobs` (not yet validated).
        scheduled: Whether a job schedule makes the job (its id is `<scheduleId>:job-<n>`).
        pool_id: The pool a scheduled job runs on when its schedule's auto pool already exists
            (`poolLifetimeOption` `jobschedule`); otherwise an auto pool is made for the job.

    Returns:
        The stored job record.

    Raises:
        ServiceError: 400 for an invalid body, 409 JobExists for a duplicate id (or
            JobScheduleWithSameIdExists: a job and a job schedule cannot share an id).
    """
    body = validate(body, "JobAddParameter")
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


def _render(emu: Emulator, job: Record, expand: bool) -> dict[str, Any]:
    data = entity(job, job_url(emu, job))
    if expand and "stats" not in data:
        data["stats"] = job_stats(emu, job)
    return data


def job_stats(emu: Emulator, job: Record) -> dict[str, Any]:
    """Job statistics computed from its tasks (`$expand=stats`)."""
    tasks = emu.store.job_tasks(job.id.lower()).values()
    infos = [t.data.get("executionInfo", {}) for t in tasks]
    done = [i for i in infos if i.get("result") or "exitCode" in i]
    failed = sum(1 for i in done if i.get("result") == "failure")
    return {
        "url": job_url(emu, job) + "/stats",
        "startTime": job.data["creationTime"],
        "lastUpdateTime": iso(emu.clock.now()),
        "userCPUTime": "PT0S",
        "kernelCPUTime": "PT0S",
        "wallClockTime": "PT0S",
        "readIOps": 0,
        "writeIOps": 0,
        "readIOGiB": 0.0,
        "writeIOGiB": 0.0,
        "numSucceededTasks": len(done) - failed,
        "numFailedTasks": failed,
        "numTaskRetries": sum(int(i.get("retryCount", 0)) for i in infos),
        "waitTime": "PT0S",
    }


async def _add(call: Call) -> Response:
    job = add_job(call.emu, parse_json(await call.raw_body()))
    return empty_response(call.request, 201, created_headers(job, job_url(call.emu, job)))


async def _list(call: Call) -> Response:
    jobs = list(call.emu.store.jobs.values())
    return list_response(
        call,
        jobs,
        JOB_LIST,
        key=lambda j: j.id.lower(),
        render=lambda j, expand: _render(call.emu, j, expand),
        stored=lambda j: j.data,
    )


async def _list_from_schedule(call: Call) -> Response:
    schedule_id = call.params["schedule_id"]
    if schedule_id.lower() not in call.emu.store.job_schedules:
        raise not_found("job schedule", "JobScheduleNotFound")
    prefix = f"{schedule_id.lower()}:"
    jobs = [j for k, j in call.emu.store.jobs.items() if k.startswith(prefix)]
    return list_response(
        call,
        jobs,
        JOB_LIST,
        key=lambda j: j.id.lower(),
        render=lambda j, expand: _render(call.emu, j, expand),
        stored=lambda j: j.data,
    )


async def _get(call: Call) -> Response:
    job = get_job(call.emu, call.params["job_id"])
    return entity_response(
        call, job, JOB_PROPS, "jobs/@Element", lambda expand: _render(call.emu, job, expand)
    )


def _updated(call: Call, job: Record, suffix: str = "", status: int = 200) -> Response:
    call.emu.store.touch(job)
    url = job_url(call.emu, job) + suffix
    return empty_response(call.request, status, action_headers(job, url))


async def _patch(call: Call) -> Response:
    job = get_job(call.emu, call.params["job_id"])
    call.check(job)
    body = await call.body("JobPatchParameter")
    require_job_open(job)
    if "constraints" in body:
        body["constraints"] = job_constraints(body["constraints"])
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
        poolInfo=body["poolInfo"],
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
