"""Provides the task routes: add, add collection, list, get, update, delete and actions."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from batch_tui.emulator.base.errors import ServiceError, conflict
from batch_tui.emulator.base.times import iso
from batch_tui.emulator.ops.defaults import task_constraints
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.entities import get_job, get_task
from batch_tui.emulator.ops.jobs import require_job_open
from batch_tui.emulator.ops.tasks import new_task, open_job
from batch_tui.emulator.query.filter_tables import TASK_FILTER
from batch_tui.emulator.query.select import SUBTASK_PROPS, TASK_PROPS, compile_select, shape
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
    error_body,
    json_response,
)
from batch_tui.emulator.state.store import Record, TaskRecord
from batch_tui.emulator.validation.checks import (
    invalid_body,
    parse_json,
    too_large,
)

TASK_LIST = ListSpec("tasks", TASK_FILTER, TASK_PROPS, expand=True)
MAX_COLLECTION = 100
"""The most tasks one addtaskcollection request may carry (spec)."""


def _render(call: Call, job_id: str, task: TaskRecord, expand: bool) -> dict[str, Any]:
    emu = call.emu
    data = entity(task, emu.urls.task(job_id, task.id), data=call.shown(task.data, "task"))
    if expand and "stats" not in data:
        data["stats"] = _stats(emu, job_id, task)
    return data


def _stats(emu: Emulator, job_id: str, task: TaskRecord) -> dict[str, Any]:
    """Task statistics computed from its execution information (`$expand=stats`)."""
    info = task.data.get("executionInfo", {})
    return {
        "url": emu.urls.task(job_id, task.id) + "/stats",
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
    job = open_job(call.emu, call.params["job_id"])
    task = new_task(call.emu, job, await call.json(), api_version=call.api_version)
    call.emu.engine.tasks_added(job, [task])
    url = call.emu.urls.task(job.id, task.id)
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
        task = new_task(call.emu, job, body, now, api_version=call.api_version)
    except ServiceError as err:
        status = "clienterror" if err.status < 500 else "servererror"
        error = error_body(err, call.request.state.request_id, call.emu.clock.now())
        return {"status": status, "taskId": task_id, "error": error}, None
    result = {
        "status": "success",
        "taskId": task.id,
        "eTag": task.etag,
        "lastModified": iso(task.last_modified or call.emu.clock.now()),
        "location": call.emu.urls.task(job.id, task.id),
    }
    return result, task


async def _add_collection(call: Call) -> Response:
    job = open_job(call.emu, call.params["job_id"])
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
    view = call.viewer("task")
    return list_response(
        call,
        tasks,
        TASK_LIST,
        key=lambda t: t.id.lower(),
        render=lambda t, expand: _render(call, job.id, t, expand),
        stored=lambda t: view(t.data),
    )


async def _get(call: Call) -> Response:
    task = get_task(call.emu, call.params["job_id"], call.params["task_id"])
    job_id = get_job(call.emu, call.params["job_id"]).id
    return entity_response(
        call,
        task,
        TASK_PROPS,
        "tasks/@Element",
        lambda expand: _render(call, job_id, task, expand),
    )


def _task_call(call: Call) -> tuple[Record, TaskRecord]:
    job = get_job(call.emu, call.params["job_id"])
    task = get_task(call.emu, call.params["job_id"], call.params["task_id"])
    call.check(task)
    return job, task


def _done(call: Call, job: Record, task: TaskRecord, suffix: str, status: int) -> Response:
    url = call.emu.urls.task(job.id, task.id) + suffix
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
