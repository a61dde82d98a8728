"""Provides the task operations: add, add collection, list, get, update, delete and actions."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from batch_tui.emulator.core import Emulator
from batch_tui.emulator.errors import ServiceError, conflict
from batch_tui.emulator.filters import TASK_FILTER
from batch_tui.emulator.routes.common import (
    Call,
    ListSpec,
    RouteTable,
    entity_response,
    get_job,
    get_task,
    list_response,
    task_url,
)
from batch_tui.emulator.routes.defaults import DEFAULT_AUTO_USER, task_constraints
from batch_tui.emulator.routes.jobs import require_job_open
from batch_tui.emulator.select import SUBTASK_PROPS, TASK_PROPS, compile_select, shape
from batch_tui.emulator.store import Record, TaskRecord, iso
from batch_tui.emulator.validation import (
    invalid_body,
    invalid_value,
    parse_json,
    too_large,
    validate,
    validate_id,
)
from batch_tui.emulator.wire import (
    action_headers,
    created_headers,
    empty_response,
    entity,
    error_body,
    json_response,
)

TASK_LIST = ListSpec("tasks", TASK_FILTER, TASK_PROPS, expand=True)
MAX_COLLECTION = 100
"""The most tasks one addtaskcollection request may carry (spec)."""
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


def _new_task(emu: Emulator, job: Record, body: Any, now: str | None = None) -> TaskRecord:
    """Validates one TaskAddParameter and stores the task (the engine is told by the caller).

    Args:
        emu: The emulator.
        job: The open job.
        body: The task's JSON.
        now: The creation time, computed once for a whole batch.
    """
    body = validate(body, "TaskAddParameter")
    tasks = emu.store.job_tasks(job.id.lower())
    _check_task(job, body, tasks)
    data = _task_data(job, body, now or iso(emu.clock.now()))
    record = TaskRecord(data, job_key=job.id.lower())
    emu.store.add(tasks, record)
    return record


def _open_job(emu: Emulator, job_id: str) -> Record:
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
    job = _open_job(emu, job_id)
    added: list[TaskRecord] = []
    now = iso(emu.clock.now())
    try:
        for body in bodies:
            added.append(_new_task(emu, job, body, now))
    finally:
        if added:
            emu.engine.tasks_added(job, added)
    return added


def _render(emu: Emulator, job_id: str, task: TaskRecord, expand: bool) -> dict[str, Any]:
    data = entity(task, task_url(emu, job_id, task))
    if expand and "stats" not in data:
        data["stats"] = _stats(emu, job_id, task)
    return data


def _stats(emu: Emulator, job_id: str, task: TaskRecord) -> dict[str, Any]:
    """Task statistics computed from its execution information (`$expand=stats`)."""
    info = task.data.get("executionInfo", {})
    return {
        "url": task_url(emu, job_id, task) + "/stats",
        "startTime": info.get("startTime", task.data["creationTime"]),
        "lastUpdateTime": iso(emu.clock.now()),
        "userCPUTime": "PT0S",
        "kernelCPUTime": "PT0S",
        "wallClockTime": "PT0S",
        "readIOps": 0,
        "writeIOps": 0,
        "readIOGiB": 0.0,
        "writeIOGiB": 0.0,
        "waitTime": "PT0S",
    }


async def _add(call: Call) -> Response:
    job = _open_job(call.emu, call.params["job_id"])
    task = _new_task(call.emu, job, parse_json(await call.raw_body()))
    call.emu.engine.tasks_added(job, [task])
    url = task_url(call.emu, job.id, task)
    return empty_response(call.request, 201, created_headers(task, url))


def _collection(body: Any) -> list[Any]:
    if not isinstance(body, dict) or set(body) - {"value"}:
        raise invalid_body("The body must be an object with a 'value' list of tasks.")
    values = body.get("value")
    if not isinstance(values, list):
        raise invalid_body("The property 'value' must be a list of tasks.")
    if len(values) > MAX_COLLECTION:
        raise too_large(f"The maximum number of tasks in a collection is {MAX_COLLECTION}.")
    return values


def _result(
    call: Call, job: Record, body: Any, now: str
) -> tuple[dict[str, Any], TaskRecord | None]:
    task_id = body.get("id") if isinstance(body, dict) else None
    try:
        task = _new_task(call.emu, job, body, now)
    except ServiceError as err:
        status = "clienterror" if err.status < 500 else "servererror"
        error = error_body(err, call.request.state.request_id, call.emu.clock.now())
        return {"status": status, "taskId": task_id, "error": error}, None
    result = {
        "status": "success",
        "taskId": task.id,
        "eTag": task.etag,
        "lastModified": iso(task.last_modified or call.emu.clock.now()),
        "location": task_url(call.emu, job.id, task),
    }
    return result, task


async def _add_collection(call: Call) -> Response:
    job = _open_job(call.emu, call.params["job_id"])
    values = _collection(parse_json(await call.raw_body()))
    results: list[dict[str, Any]] = []
    added: list[TaskRecord] = []
    now = iso(call.emu.clock.now())
    for body in values:
        result, task = _result(call, job, body, now)
        results.append(result)
        if task is not None:
            added.append(task)
    if added:
        call.emu.engine.tasks_added(job, added)
    return json_response(
        call.request,
        {"value": results},
        metadata="Microsoft.Azure.Batch.Protocol.Entities.TaskAddCollectionResult",
    )


async def _list(call: Call) -> Response:
    job = get_job(call.emu, call.params["job_id"])
    tasks = list(call.emu.store.job_tasks(job.id.lower()).values())
    return list_response(
        call,
        tasks,
        TASK_LIST,
        key=lambda t: t.id.lower(),
        render=lambda t, expand: _render(call.emu, job.id, t, expand),
        stored=lambda t: t.data,
    )


async def _get(call: Call) -> Response:
    task = get_task(call.emu, call.params["job_id"], call.params["task_id"])
    job_id = get_job(call.emu, call.params["job_id"]).id
    return entity_response(
        call,
        task,
        TASK_PROPS,
        "tasks/@Element",
        lambda expand: _render(call.emu, job_id, task, expand),
    )


def _task_call(call: Call) -> tuple[Record, TaskRecord]:
    job = get_job(call.emu, call.params["job_id"])
    task = get_task(call.emu, call.params["job_id"], call.params["task_id"])
    call.check(task)
    return job, task


def _done(call: Call, job: Record, task: TaskRecord, suffix: str, status: int) -> Response:
    url = task_url(call.emu, job.id, task) + suffix
    return empty_response(call.request, status, action_headers(task, url))


async def _update(call: Call) -> Response:
    job, task = _task_call(call)
    body = await call.body("TaskUpdateParameter")
    if task.data.get("state") == "completed":
        raise conflict("TaskCompleted", "The specified task is already completed.")
    task.data["constraints"] = task_constraints(body.get("constraints"), job)
    call.emu.store.touch(task)
    call.emu.engine.task_updated(task)
    return _done(call, job, task, "", 200)


async def _delete(call: Call) -> Response:
    job, task = _task_call(call)
    call.emu.engine.task_deleted(task)
    call.emu.store.remove(call.emu.store.job_tasks(job.id.lower()), task.id.lower())
    call.emu.store.version += 1
    return empty_response(call.request, 200)


async def _terminate(call: Call) -> Response:
    job, task = _task_call(call)
    if task.data.get("state") != "completed":
        call.emu.engine.task_terminated(task)
    return _done(call, job, task, "/terminate", 204)


async def _reactivate(call: Call) -> Response:
    job, task = _task_call(call)
    require_job_open(job)
    info = task.data.get("executionInfo", {})
    if task.data.get("state") != "completed":
        raise conflict("TaskNotCompleted", "Only a completed task can be reactivated.")
    if info.get("result") != "failure":
        raise conflict("TaskCompletedSuccessfully", "The task completed successfully.")
    call.emu.engine.task_reactivated(task)
    return _done(call, job, task, "/reactivate", 204)


async def _subtasks(call: Call) -> Response:
    task = get_task(call.emu, call.params["job_id"], call.params["task_id"])
    projector = compile_select(call.query.get("$select"), SUBTASK_PROPS)
    values = [shape(s, projector, expand_stats=False) for s in call.emu.engine.subtasks(task)]
    return json_response(call.request, {"value": values}, metadata="subtaskinfo")


_TASK = "/jobs/{job_id}/tasks/{task_id}"
ROUTES: RouteTable = [
    ("POST", "/jobs/{job_id}/tasks", _add),
    ("GET", "/jobs/{job_id}/tasks", _list),
    ("POST", "/jobs/{job_id}/addtaskcollection", _add_collection),
    ("GET", _TASK, _get),
    ("PUT", _TASK, _update),
    ("DELETE", _TASK, _delete),
    ("POST", f"{_TASK}/terminate", _terminate),
    ("POST", f"{_TASK}/reactivate", _reactivate),
    ("GET", f"{_TASK}/subtasksinfo", _subtasks),
]
