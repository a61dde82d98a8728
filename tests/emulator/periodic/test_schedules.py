"""Tests job schedules over HTTP: the operations, their errors, the recurrence and auto pools."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from batch_tui.emulator import Emulator
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.base.times import iso
from tests.emulator.support import BASE_URL, POOL_BODY, Settle, assert_error

UNLIMITED = "P10675199DT2H48M5.4775807S"
SPEC: dict[str, Any] = {"poolInfo": {"poolId": "pool1"}, "onAllTasksComplete": "terminatejob"}
"""A job that completes as soon as it starts (it has no tasks)."""


async def create(
    http: httpx.AsyncClient, schedule: dict[str, Any] | None = None, **changes: Any
) -> httpx.Response:
    body = {"id": "sched", "schedule": schedule or {}, "jobSpecification": SPEC, **changes}
    response = await http.post("/jobschedules", json=body)
    assert response.status_code == 201, response.text
    return response


async def get(http: httpx.AsyncClient, schedule_id: str = "sched") -> dict[str, Any]:
    response = await http.get(f"/jobschedules/{schedule_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def job_ids(http: httpx.AsyncClient, schedule_id: str = "sched") -> list[str]:
    response = await http.get(f"/jobschedules/{schedule_id}/jobs")
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()["value"]]


def at(start: datetime, **delta: float) -> str:
    return iso(start + timedelta(**delta))


async def test_add_get_list_and_exists_as_recorded(http: httpx.AsyncClient) -> None:
    schedule = {"startWindow": "PT01H00M00S", "recurrenceInterval": "P1D"}
    spec = {"poolInfo": {"poolId": "pool_id"}, "constraints": {"maxTaskRetryCount": 2},
            "onAllTasksComplete": "terminatejob"}  # fmt: skip
    created = await create(
        http, schedule, jobSpecification=spec, metadata=[{"name": "k", "value": "v"}]
    )
    url = f"{BASE_URL}/jobschedules/sched"
    assert created.content == b""
    assert created.headers["location"] == url and created.headers["dataserviceid"] == url
    body = await get(http)
    assert body["odata.metadata"] == f"{BASE_URL}/$metadata#jobschedules/@Element"
    assert list(body)[:9] == ["odata.metadata", "id", "url", "eTag", "lastModified",
                              "creationTime", "state", "stateTransitionTime", "schedule"]  # fmt: skip
    assert body["eTag"] == created.headers["etag"]  # making job-1 does not change the ETag
    assert body["state"] == "active" and body["schedule"] == {"startWindow": "PT1H",
                                                              "recurrenceInterval": "P1D"}  # fmt: skip
    assert body["jobSpecification"] == {
        "priority": 0, "maxParallelTasks": -1, "allowTaskPreemption": False,
        "usesTaskDependencies": False, "onAllTasksComplete": "terminatejob",
        "onTaskFailure": "noaction",
        "constraints": {"maxWallClockTime": UNLIMITED, "maxTaskRetryCount": 2},
        "poolInfo": {"poolId": "pool_id"},
    }  # fmt: skip
    created_at = datetime.fromisoformat(body["creationTime"][:26])
    assert body["executionInfo"] == {
        "nextRunTime": iso(created_at + timedelta(days=1)),
        "recentJob": {"id": "sched:job-1", "url": f"{BASE_URL}/jobs/sched:job-1"},
    }
    assert body["metadata"] == [{"name": "k", "value": "v"}]
    listed = (await http.get("/jobschedules")).json()
    assert listed["odata.metadata"] == f"{BASE_URL}/$metadata#jobschedules"
    assert [item["id"] for item in listed["value"]] == ["sched"]
    exists = await http.head("/jobschedules/SCHED")
    assert exists.status_code == 200 and exists.headers["etag"] == body["eTag"]
    assert (await http.head("/jobschedules/nope")).status_code == 404
    assert_error(await http.get("/jobschedules/nope"), 404, "JobScheduleNotFound")
    job = (await http.get("/jobs/sched:job-1")).json()
    assert job["poolInfo"] == {"poolId": "pool_id"} and job["constraints"]["maxTaskRetryCount"] == 2


async def test_list_filter_select_expand(http: httpx.AsyncClient) -> None:
    await create(http, {"recurrenceInterval": "PT1H"})
    await create(http, {"recurrenceInterval": "PT1H"}, id="other")
    assert (await http.post("/jobschedules/other/disable")).status_code == 204
    response = await http.get(
        "/jobschedules",
        params={"$filter": "state eq 'active'", "$select": "id,state", "$expand": "stats"},
    )
    items = response.json()["value"]
    assert [set(item) for item in items] == [{"id", "state"}]
    stats = (await http.get("/jobschedules/sched", params={"$expand": "stats"})).json()["stats"]
    assert stats["url"] == f"{BASE_URL}/jobschedules/sched/stats" and stats["numFailedTasks"] == 0
    assert "stats" not in await get(http)
    bad = await http.get("/jobschedules", params={"$filter": "priority eq 1"})
    assert_error(bad, 400, "InvalidQueryParameterValue")


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"id": "SCHED"}, 409, "JobScheduleExists"),
        ({"id": "job1"}, 409, "JobWithSameIdExists"),
        ({"id": "bad:id"}, 400, "InvalidPropertyValue"),
        ({"id": "s2", "schedule": {"recurrenceInterval": "PT30S"}}, 400, "InvalidPropertyValue"),
        ({"id": "s2", "schedule": {"startWindow": "PT59S"}}, 400, "InvalidPropertyValue"),
        ({"id": "s2", "schedule": {"doNotRunUntil": "tomorrow"}}, 400, "InvalidRequestBody"),
        ({"id": "s2", "jobSpecification": {}}, 400, "MissingRequiredProperty"),
        ({"id": "s2", "jobSpecification": {"poolInfo": {}}}, 400, "MissingRequiredProperty"),
        ({"id": "s2", "jobSpecification": {"poolInfo": {"autoPoolSpecification":
          {"poolLifetimeOption": "job"}}}}, 400, "MissingRequiredProperty"),
        ({"id": "s2", "jobSpecification": {"poolInfo": {"poolId": "p"}, "maxParallelTasks": 0}},
         400, "InvalidPropertyValue"),
        ({"id": "s2", "schedule": None}, 400, "MissingRequiredProperty"),
    ],
)  # fmt: skip
async def test_add_errors(
    http: httpx.AsyncClient, changes: dict[str, Any], status: int, code: str
) -> None:
    await create(http, {"recurrenceInterval": "PT1H"})
    assert (await http.post("/jobs", json={"id": "job1", "poolInfo": {"poolId": "p"}})).is_success
    body = {"id": "sched", "schedule": {}, "jobSpecification": SPEC, **changes}
    assert_error(await http.post("/jobschedules", json=body), status, code)


async def test_a_job_cannot_take_a_schedule_id(http: httpx.AsyncClient) -> None:
    await create(http, {"recurrenceInterval": "PT1H"})
    job = {"id": "SCHED", "poolInfo": {"poolId": "p"}}
    assert_error(await http.post("/jobs", json=job), 409, "JobScheduleWithSameIdExists")


async def test_disable_enable_patch_and_update(http: httpx.AsyncClient) -> None:
    etag = (await create(http, {"recurrenceInterval": "PT1H"})).headers["etag"]
    disabled = await http.post("/jobschedules/sched/disable", headers={"If-Match": etag})
    assert disabled.status_code == 204 and disabled.headers["content-length"] == "0"
    assert disabled.headers["dataserviceid"] == f"{BASE_URL}/jobschedules/sched/disable"
    assert disabled.headers["etag"] != etag
    body = await get(http)
    assert (body["state"], body["previousState"]) == ("disabled", "active")
    stale = await http.post("/jobschedules/sched/enable", headers={"If-Match": etag})
    assert_error(stale, 412, "ConditionNotMet")
    enabled = await http.post("/jobschedules/sched/enable")
    assert enabled.status_code == 204 and enabled.headers["etag"] != disabled.headers["etag"]
    assert (await get(http))["state"] == "active"
    replaced = await http.put("/jobschedules/sched", json={
        "schedule": {"recurrenceInterval": "PT10H00M00S"}, "jobSpecification": SPEC,
        "metadata": [{"name": "a", "value": "1"}]})  # fmt: skip
    assert replaced.status_code == 200 and replaced.headers["etag"] != enabled.headers["etag"]
    assert replaced.headers["dataserviceid"] == f"{BASE_URL}/jobschedules/sched"
    patched = await http.patch(
        "/jobschedules/sched", json={"schedule": {"recurrenceInterval": "PT05H00M00S"}}
    )
    assert patched.status_code == 200 and patched.headers["etag"] != replaced.headers["etag"]
    body = await get(http)
    assert body["schedule"] == {"recurrenceInterval": "PT5H"}
    assert body["metadata"] == [{"name": "a", "value": "1"}]  # a patch keeps what it leaves out
    created_at = datetime.fromisoformat(body["creationTime"][:26])
    assert body["executionInfo"]["nextRunTime"] == at(created_at, hours=5)
    await http.put("/jobschedules/sched", json={"schedule": {}, "jobSpecification": SPEC})
    body = await get(http)
    assert "metadata" not in body and "nextRunTime" not in body["executionInfo"]
    missing = await http.put("/jobschedules/sched", json={"schedule": {}})
    assert_error(missing, 400, "MissingRequiredProperty")


async def test_terminate_and_delete(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    spec = {"poolInfo": {"poolId": "pool1"}}  # job-1 stays active until it is terminated
    await create(http, {"recurrenceInterval": "PT1H"}, jobSpecification=spec)
    response = await http.post("/jobschedules/sched/terminate")
    assert response.status_code == 202
    assert response.headers["dataserviceid"] == f"{BASE_URL}/jobschedules/sched/terminate"
    # A job without tasks completes as soon as it is terminated, and the schedule with it.
    assert (await get(http))["state"] in ("terminating", "completed")
    await settle(lambda: emulator.store.jobs["sched:job-1"].data["state"] == "completed")
    await emulator.periodic.tick()
    body = await get(http)
    assert body["state"] == "completed" and body["previousState"] in ("terminating", "active")
    assert "endTime" in body["executionInfo"] and "nextRunTime" not in body["executionInfo"]
    job = (await http.get("/jobs/sched:job-1")).json()
    assert job["executionInfo"]["terminateReason"] == "UserTerminate"
    for action in ("terminate", "disable", "enable"):
        assert_error(await http.post(f"/jobschedules/sched/{action}"), 409, "JobScheduleCompleted")
    assert_error(await http.patch("/jobschedules/sched", json={}), 409, "JobScheduleCompleted")
    assert (await http.delete("/jobschedules/sched")).status_code == 202
    assert (await http.head("/jobschedules/sched")).status_code == 404


async def test_delete_goes_once_its_jobs_have(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    assert (await http.post("/pools", json=POOL_BODY)).status_code == 201
    # The job's release task runs when it is deleted, so the job (and the schedule) take a while.
    spec = {"poolInfo": {"poolId": "pool1"}, "jobPreparationTask": {"commandLine": "echo prep"},
            "jobReleaseTask": {"commandLine": "sleep 2"}}  # fmt: skip
    await create(http, {"recurrenceInterval": "PT1H"}, jobSpecification=spec)
    task = {"id": "long", "commandLine": "sleep 600"}
    assert (await http.post("/jobs/sched:job-1/tasks", json=task)).status_code == 201
    tasks = emulator.store.job_tasks("sched:job-1")
    await settle(lambda: tasks["long"].data["state"] == "running")
    deleted = await http.delete("/jobschedules/sched")
    assert deleted.status_code == 202
    assert (await get(http))["state"] == "deleting"
    assert emulator.store.jobs["sched:job-1"].data["state"] == "deleting"
    assert_error(await http.delete("/jobschedules/sched"), 409, "JobScheduleBeingDeleted")
    assert_error(await http.post("/jobschedules/sched/enable"), 409, "JobScheduleBeingDeleted")
    await settle(lambda: "sched:job-1" not in emulator.store.jobs)
    await emulator.periodic.tick()
    assert (await http.head("/jobschedules/sched")).status_code == 404
    assert_error(await http.get("/jobschedules/sched/jobs"), 404, "JobScheduleNotFound")


# The recurrence, on the manual clock


async def advance(emulator: Emulator, clock: ManualClock, settle: Settle, minutes: float) -> None:
    """Moves the clock, lets the engine finish what it can, then steps the periodic runner."""
    clock.advance(minutes * 60)
    await emulator.engine.tick()
    await settle(
        lambda: all(j.data["state"] != "terminating" for j in emulator.store.jobs.values())
    )
    await emulator.periodic.tick()


async def test_recurrence_makes_jobs_on_time(
    http: httpx.AsyncClient, emulator: Emulator, clock: ManualClock, settle: Settle
) -> None:
    start = clock.now()
    until = at(start, minutes=30)
    await create(http, {"doNotRunUntil": until, "recurrenceInterval": "PT1H",
                        "doNotRunAfter": at(start, minutes=150)})  # fmt: skip
    body = await get(http)
    assert await job_ids(http) == [] and body["executionInfo"] == {"nextRunTime": until}
    await advance(emulator, clock, settle, 20)
    assert await job_ids(http) == []
    await advance(emulator, clock, settle, 10)
    assert await job_ids(http) == ["sched:job-1"]
    assert (await get(http))["executionInfo"]["nextRunTime"] == at(start, minutes=90)
    await advance(emulator, clock, settle, 59)
    assert await job_ids(http) == ["sched:job-1"]
    await advance(emulator, clock, settle, 1)
    assert await job_ids(http) == ["sched:job-1", "sched:job-2"]
    body = await get(http)
    assert body["executionInfo"]["recentJob"]["id"] == "sched:job-2"
    # The next run (150 minutes) is not after doNotRunAfter, the one after is.
    await advance(emulator, clock, settle, 60)
    assert await job_ids(http) == ["sched:job-1", "sched:job-2", "sched:job-3"]
    assert "nextRunTime" not in (await get(http))["executionInfo"]
    await advance(emulator, clock, settle, 1)
    body = await get(http)
    assert body["state"] == "completed" and len(await job_ids(http)) == 3


async def test_one_active_job_at_a_time_and_lost_windows(
    http: httpx.AsyncClient, emulator: Emulator, clock: ManualClock, settle: Settle
) -> None:
    start = clock.now()
    spec = {"poolInfo": {"poolId": "pool1"}}  # each job stays active until terminated
    await create(
        http, {"recurrenceInterval": "PT1H", "startWindow": "PT10M"}, jobSpecification=spec
    )
    await advance(emulator, clock, settle, 65)  # job-2 is due while job-1 runs
    assert await job_ids(http) == ["sched:job-1"]
    assert (await http.post("/jobs/sched:job-1/terminate")).status_code == 202
    await advance(emulator, clock, settle, 1)  # within job-2's window: it starts late
    assert await job_ids(http) == ["sched:job-1", "sched:job-2"]
    assert (await get(http))["executionInfo"]["nextRunTime"] == at(start, hours=2)
    await advance(emulator, clock, settle, 60)  # 2h06: job-3 is due, job-2 still active
    assert await job_ids(http) == ["sched:job-1", "sched:job-2"]
    await advance(emulator, clock, settle, 15)  # 2h21: job-3's window closed meanwhile
    assert (await get(http))["executionInfo"]["nextRunTime"] == at(start, hours=3)
    assert (await http.post("/jobs/sched:job-2/terminate")).status_code == 202
    await advance(emulator, clock, settle, 38)
    assert await job_ids(http) == ["sched:job-1", "sched:job-2"]
    await advance(emulator, clock, settle, 1)  # 3h00
    assert await job_ids(http) == ["sched:job-1", "sched:job-2", "sched:job-3"]


async def test_disabled_schedule_waits_and_a_one_off_completes(
    http: httpx.AsyncClient, emulator: Emulator, clock: ManualClock, settle: Settle
) -> None:
    start = clock.now()
    await create(http, {"doNotRunUntil": at(start, minutes=10)})
    assert (await http.post("/jobschedules/sched/disable")).status_code == 204
    await advance(emulator, clock, settle, 20)
    assert await job_ids(http) == []
    assert (await http.post("/jobschedules/sched/enable")).status_code == 204
    assert await job_ids(http) == ["sched:job-1"]  # no start window: it runs late
    await advance(emulator, clock, settle, 1)
    body = await get(http)
    assert body["state"] == "completed"
    assert body["executionInfo"]["recentJob"]["id"] == "sched:job-1"


# Auto pools


AUTO_POOL = {k: v for k, v in POOL_BODY.items() if k != "id"}


def auto_pool(lifetime: str, **extra: Any) -> dict[str, Any]:
    spec = {"autoPoolIdPrefix": "auto", "poolLifetimeOption": lifetime,
            "pool": copy.deepcopy(AUTO_POOL), **extra}  # fmt: skip
    return {"poolInfo": {"autoPoolSpecification": spec}}


def pool_of(emulator: Emulator, job_id: str) -> str:
    return str(emulator.store.jobs[job_id].data["executionInfo"]["poolId"])


async def test_job_auto_pool_is_deleted_with_its_job(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    await http.post("/jobs", json={"id": "j1", **auto_pool("job")})
    await http.post("/jobs", json={"id": "j2", **auto_pool("job", keepAlive=True)})
    first, kept = pool_of(emulator, "j1"), pool_of(emulator, "j2")
    assert first.startswith("auto_") and first != kept
    job = (await http.get("/jobs/j1")).json()
    assert "poolId" not in job["poolInfo"] and job["executionInfo"]["poolId"] == first
    assert (await http.get(f"/pools/{first}")).json()["targetDedicatedNodes"] == 2
    # The job's tasks run on its auto pool.
    assert (
        await http.post("/jobs/j1/tasks", json={"id": "t", "commandLine": "sleep 1"})
    ).is_success
    task = emulator.store.job_tasks("j1")["t"]
    await settle(lambda: task.data["state"] == "completed")
    assert emulator.store.find_node(task.data["nodeInfo"]["nodeId"]).pool_key == first.lower()  # type: ignore[union-attr]
    for job_id in ("j1", "j2"):
        assert (await http.post(f"/jobs/{job_id}/terminate")).status_code == 202
    await settle(lambda: emulator.store.jobs["j2"].data["state"] == "completed")
    await emulator.periodic.tick()
    await settle(lambda: first.lower() not in emulator.store.pools)
    assert kept.lower() in emulator.store.pools
    wrong = await http.post("/jobs", json={"id": "j3", **auto_pool("jobschedule")})
    assert_error(wrong, 400, "InvalidPropertyValue")


async def test_schedule_auto_pools(
    http: httpx.AsyncClient, emulator: Emulator, clock: ManualClock, settle: Settle
) -> None:
    shared = {**auto_pool("jobschedule"), "onAllTasksComplete": "terminatejob"}
    await create(http, {"recurrenceInterval": "PT1H"}, id="shared", jobSpecification=shared)
    per_job = {**auto_pool("job"), "onAllTasksComplete": "terminatejob"}
    await create(http, {"recurrenceInterval": "PT1H"}, id="each", jobSpecification=per_job)
    await advance(emulator, clock, settle, 60)
    assert pool_of(emulator, "shared:job-1") == pool_of(emulator, "shared:job-2")
    assert pool_of(emulator, "each:job-1") != pool_of(emulator, "each:job-2")
    await settle(lambda: pool_of(emulator, "each:job-1").lower() not in emulator.store.pools)
    pool = pool_of(emulator, "shared:job-1")
    assert (await http.post("/jobschedules/shared/terminate")).status_code == 202
    await advance(emulator, clock, settle, 0)
    assert (await get(http, "shared"))["state"] == "completed"
    await emulator.periodic.tick()
    await settle(lambda: pool.lower() not in emulator.store.pools)
