"""Provides the job schedule routes: add, list, get, exists, patch, update, delete, disable,
enable and terminate (the jobs of a schedule are listed by `routes.jobs`).

Status codes and shapes follow the live service's recording: 201 with `Location`, `DataServiceId`
and `ETag` on add; a GET that echoes the job specification's defaults and `executionInfo
{nextRunTime, recentJob}`; 204 with `Content-Length: 0` on disable and enable; 202 on terminate
and delete; a new ETag on every change. The recurrence itself is `schedules.ScheduleRunner`.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from batch_tui.emulator.engine.runtime import set_state
from batch_tui.emulator.ops.schedules import (
    add_job_schedule,
    get_schedule,
    require_schedule_open,
    schedule_stats,
    set_schedule_parts,
)
from batch_tui.emulator.query.filter_tables import JOB_SCHEDULE_FILTER
from batch_tui.emulator.query.select import JOB_SCHEDULE_PROPS
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
    entity_headers,
)
from batch_tui.emulator.state.store import Record

SCHEDULE_LIST = ListSpec("jobschedules", JOB_SCHEDULE_FILTER, JOB_SCHEDULE_PROPS, expand=True)


async def _body(call: Call, type_name: str) -> dict[str, Any]:
    """Parses and validates a body, ignoring OData annotations (`odata.metadata`): the SDK sends
    back the ones a GET returned when a fetched schedule is passed to replace."""
    body = await call.json()
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if not k.startswith("odata.")}
    return call.validate(body, type_name)


def _render(call: Call, schedule: Record, expand: bool) -> dict[str, Any]:
    emu = call.emu
    shown = call.shown(schedule.data, "jobschedule")
    data = entity(schedule, emu.urls.schedule(schedule.id), data=shown)
    if expand:
        data["stats"] = schedule_stats(emu, schedule)
    return data


async def _add(call: Call) -> Response:
    schedule = add_job_schedule(call.emu, await _body(call, "JobScheduleAddParameter"))
    url = call.emu.urls.schedule(schedule.id)
    return empty_response(call.request, 201, created_headers(schedule, url))


async def _list(call: Call) -> Response:
    view = call.viewer("jobschedule")
    return list_response(
        call,
        list(call.emu.store.job_schedules.values()),
        SCHEDULE_LIST,
        key=lambda s: s.id.lower(),
        render=lambda s, expand: _render(call, s, expand),
        stored=lambda s: view(s.data),
    )


async def _get(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    return entity_response(
        call,
        schedule,
        JOB_SCHEDULE_PROPS,
        "jobschedules/@Element",
        lambda expand: _render(call, schedule, expand),
    )


async def _exists(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    return empty_response(call.request, 200, entity_headers(schedule))


def _changed(call: Call, schedule: Record, suffix: str = "", status: int = 200) -> Response:
    call.emu.store.touch(schedule)
    url = call.emu.urls.schedule(schedule.id) + suffix
    return empty_response(call.request, status, action_headers(schedule, url))


async def _patch(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    body = await _body(call, "JobSchedulePatchParameter")
    require_schedule_open(schedule)
    set_schedule_parts(schedule, body)
    if "metadata" in body:
        schedule.data["metadata"] = body["metadata"]
    if "schedule" in body:
        call.emu.periodic.schedules.plan(schedule)
    return _changed(call, schedule)


async def _update(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    body = await _body(call, "JobScheduleUpdateParameter")
    require_schedule_open(schedule)
    set_schedule_parts(schedule, body)
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
    require_schedule_open(schedule, "completed", "terminating")
    call.emu.periodic.schedules.delete(schedule)
    return empty_response(call.request, 202)


async def _disable(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    require_schedule_open(schedule)
    if schedule.data["state"] != "disabled":
        set_state(call.emu.engine.ctx, schedule, "disabled")
        call.emu.engine.ctx.touch(schedule)
    return _changed(call, schedule, "/disable", 204)


async def _enable(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    require_schedule_open(schedule)
    if schedule.data["state"] != "active":
        set_state(call.emu.engine.ctx, schedule, "active")
        call.emu.engine.ctx.touch(schedule)
        call.emu.periodic.schedules.step(schedule)
    return _changed(call, schedule, "/enable", 204)


async def _terminate(call: Call) -> Response:
    schedule = get_schedule(call.emu, call.params["schedule_id"])
    call.check(schedule)
    call.bool_param("force")
    require_schedule_open(schedule)
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
