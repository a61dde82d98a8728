"""Tests the job operations over HTTP, task counts and the prep/release task status."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from batch_tui.emulator import Emulator
from batch_tui.emulator.ops.jobs import add_job
from tests.emulator.support import (
    BASE_URL,
    UNLIMITED,
    Settle,
    add_pool,
    assert_error,
    create_job,
    idle,
)


def job_state(emulator: Emulator, state: str, job_id: str = "job1") -> Any:
    return lambda: emulator.store.jobs[job_id].data["state"] == state


async def test_add_job_echoes_defaults(http: httpx.AsyncClient) -> None:
    response = await create_job(http, jobPreparationTask={"commandLine": "echo prep"},
                                constraints={"maxTaskRetryCount": 2})  # fmt: skip
    assert response.headers["location"] == f"{BASE_URL}/jobs/job1"
    job = (await http.get("/jobs/JOB1")).json()
    assert job["odata.metadata"] == f"{BASE_URL}/$metadata#jobs/@Element"
    assert job["eTag"] == response.headers["etag"]
    assert (job["priority"], job["maxParallelTasks"], job["allowTaskPreemption"]) == (0, -1, False)
    assert job["constraints"] == {"maxWallClockTime": UNLIMITED, "maxTaskRetryCount": 2}
    assert job["onAllTasksComplete"] == "noaction" and job["onTaskFailure"] == "noaction"
    assert job["usesTaskDependencies"] is False
    assert job["state"] == "active"
    assert job["executionInfo"]["poolId"] == "pool1"
    prep = job["jobPreparationTask"]
    assert prep["id"] == "jobpreparation" and prep["waitForSuccess"] is True
    assert "stats" not in job
    stats = (await http.get("/jobs/job1", params={"$expand": "stats"})).json()["stats"]
    assert stats["numSucceededTasks"] == 0 and stats["url"] == f"{BASE_URL}/jobs/job1/stats"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"id": "JOB1", "poolInfo": {"poolId": "p"}}, 409, "JobExists"),
        ({"id": "job2"}, 400, "MissingRequiredProperty"),
        ({"id": "job2", "poolInfo": {}}, 400, "MissingRequiredProperty"),
        ({"id": "job:2", "poolInfo": {"poolId": "p"}}, 400, "InvalidPropertyValue"),
        ({"id": "job2", "poolInfo": {"poolId": "p"}, "priority": 1001}, 400, "InvalidPropertyValue"),
        ({"id": "job2", "poolInfo": {"poolId": "p"}, "onAllTasksComplete": "explode"}, 400,
         "InvalidPropertyValue"),
        ({"id": "job2", "poolInfo": {"poolId": "p"}, "jobReleaseTask": {"commandLine": "x"}}, 400,
         "InvalidPropertyValue"),
    ],
)  # fmt: skip
async def test_add_job_validation(
    http: httpx.AsyncClient, body: dict[str, Any], status: int, code: str
) -> None:
    await create_job(http)
    assert_error(await http.post("/jobs", json=body), status, code)


async def test_add_job_function_for_scenarios(emulator: Emulator) -> None:
    job = add_job(emulator, {"id": "scripted", "poolInfo": {"poolId": "p"}, "priority": 5})
    assert emulator.store.jobs["scripted"] is job
    assert job.data["priority"] == 5 and job.etag


async def test_auto_pool_job_creates_its_pool(http: httpx.AsyncClient, emulator: Emulator) -> None:
    pool_spec = {"vmSize": "standard_d2s_v3", "targetDedicatedNodes": 1,
                 "virtualMachineConfiguration": {"imageReference": {"publisher": "canonical"},
                                                 "nodeAgentSKUId": "batch.node.ubuntu 22.04"}}  # fmt: skip
    auto = {"autoPoolIdPrefix": "auto", "poolLifetimeOption": "job", "pool": pool_spec}
    await create_job(http, poolInfo={"autoPoolSpecification": auto})
    pool_id = (await http.get("/jobs/job1")).json()["executionInfo"]["poolId"]
    assert pool_id.startswith("auto_") and pool_id.lower() in emulator.store.pools


async def test_patch_and_update(http: httpx.AsyncClient) -> None:
    await create_job(http, metadata=[{"name": "k", "value": "v"}], priority=7)
    etag = (await http.get("/jobs/job1")).headers["etag"]
    patched = await http.patch("/jobs/job1", json={"priority": 100}, headers={"If-Match": etag})
    assert patched.status_code == 200 and patched.headers["etag"] != etag
    job = (await http.get("/jobs/job1")).json()
    assert job["priority"] == 100 and job["metadata"] == [{"name": "k", "value": "v"}]
    stale = await http.patch("/jobs/job1", json={"priority": 1}, headers={"If-Match": etag})
    assert_error(stale, 412, "ConditionNotMet")
    assert (await http.put("/jobs/job1", json={"poolInfo": {"poolId": "pool2"}})).status_code == 200
    job = (await http.get("/jobs/job1")).json()
    assert job["priority"] == 0 and "metadata" not in job
    assert job["poolInfo"] == {"poolId": "pool2"}
    assert_error(await http.put("/jobs/job1", json={"priority": 1}), 400, "MissingRequiredProperty")


async def test_list_jobs_filter_select_paging(http: httpx.AsyncClient) -> None:
    for index in range(4):
        await create_job(http, id=f"job{index}")
    await http.post("/jobs/job2/terminate")
    response = await http.get(
        "/jobs",
        params={"$filter": "state eq 'active' and startswith(id,'job')", "$select": "id",
                "maxresults": 2},
    )  # fmt: skip
    body = response.json()
    assert body["value"] == [{"id": "job0"}, {"id": "job1"}]
    rest = (await http.get(body["odata.nextLink"])).json()
    assert rest["value"] == [{"id": "job3"}] and "odata.nextLink" not in rest
    expanded = (await http.get("/jobs", params={"$expand": "stats"})).json()["value"]
    assert all("stats" in job for job in expanded)


async def test_disable_enable_terminate_delete(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    await create_job(http)
    assert_error(await http.post("/jobs/job1/disable", json={}), 400, "MissingRequiredProperty")
    response = await http.post("/jobs/job1/disable", json={"disableTasks": "requeue"})
    assert response.status_code == 202
    assert response.headers["dataserviceid"] == f"{BASE_URL}/jobs/job1/disable"
    await settle(job_state(emulator, "disabled"))
    assert (await http.post("/jobs/job1/enable")).status_code == 202
    await settle(job_state(emulator, "active"))
    job = (await http.get("/jobs/job1")).json()
    assert job["previousState"] in ("enabling", "disabled")
    terminate = await http.post("/jobs/job1/terminate", json={"terminateReason": "done"})
    assert terminate.status_code == 202
    await settle(job_state(emulator, "completed"))
    assert (await http.get("/jobs/job1")).json()["executionInfo"]["terminateReason"] == "done"
    assert_error(await http.post("/jobs/job1/terminate"), 409, "JobCompleted")
    assert_error(await http.post("/jobs/job1/disable", json={"disableTasks": "wait"}), 409,
                 "JobNotActive")  # fmt: skip
    assert (await http.delete("/jobs/job1")).status_code == 202
    await settle(lambda: "job1" not in emulator.store.jobs)
    assert_error(await http.get("/jobs/job1"), 404, "JobNotFound")


async def test_task_counts_and_prep_release_status(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    await add_pool(http)
    await settle(idle(emulator))
    await create_job(http, id="plain")
    assert_error(await http.get("/jobs/plain/jobpreparationandreleasetaskstatus"), 409,
                 "JobPreparationTaskNotSpecified")  # fmt: skip
    await create_job(http, jobPreparationTask={"commandLine": "echo prep"},
                     jobReleaseTask={"commandLine": "echo release"})  # fmt: skip
    tasks = [{"id": f"t{i}", "commandLine": f"echo {i}; exit {1 if i < 2 else 0}",
              "requiredSlots": 1} for i in range(6)]  # fmt: skip
    await http.post("/jobs/job1/addtaskcollection", json={"value": tasks})
    counts = (await http.get("/jobs/job1/taskcounts")).json()
    assert counts["taskCounts"]["active"] == 6
    await settle(lambda: all(t.data["state"] == "completed"
                             for t in emulator.store.job_tasks("job1").values()))  # fmt: skip
    counts = (await http.get("/jobs/job1/taskcounts")).json()
    assert counts["taskCounts"] == {"active": 0, "running": 0, "completed": 6, "succeeded": 4,
                                    "failed": 2}  # fmt: skip
    assert counts["taskSlotCounts"]["completed"] == 6
    status = (await http.get("/jobs/job1/jobpreparationandreleasetaskstatus")).json()["value"]
    assert status and all(s["poolId"] == "pool1" for s in status)
    assert all(s["jobPreparationTaskExecutionInfo"]["state"] == "completed" for s in status)
    one = await http.get("/jobs/job1/jobpreparationandreleasetaskstatus",
                         params={"$filter": f"nodeId eq '{status[0]['nodeId']}'",
                                 "$select": "nodeId"})  # fmt: skip
    assert one.json()["value"] == [{"nodeId": status[0]["nodeId"]}]
