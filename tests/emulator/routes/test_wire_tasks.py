"""Tests the task operations over HTTP, paging and the task file APIs."""

from __future__ import annotations

from typing import Any

import httpx

from batch_tui.emulator import Emulator
from batch_tui.emulator.ops.tasks import add_tasks
from tests.emulator.support import (
    BASE_URL,
    UNLIMITED,
    Settle,
    add_pool,
    assert_error,
    create_job,
    idle,
)


def completed(emulator: Emulator, *task_ids: str, job: str = "job1") -> Any:
    tasks = emulator.store.job_tasks(job)
    return lambda: all(tasks[t].data["state"] == "completed" for t in task_ids)


async def running_job(http: httpx.AsyncClient, emulator: Emulator, settle: Settle) -> None:
    await add_pool(http)
    await settle(idle(emulator))
    await create_job(http, usesTaskDependencies=True, constraints={"maxTaskRetryCount": 1})


async def test_add_task_echoes_defaults(http: httpx.AsyncClient) -> None:
    await create_job(http, constraints={"maxTaskRetryCount": 3})
    response = await http.post("/jobs/job1/tasks", json={"id": "t1", "commandLine": "echo"})
    assert response.status_code == 201
    assert response.headers["location"] == f"{BASE_URL}/jobs/job1/tasks/t1"
    task = (await http.get("/jobs/job1/tasks/T1")).json()
    assert task["odata.metadata"] == f"{BASE_URL}/$metadata#tasks/@Element"
    assert task["state"] == "active"
    assert task["executionInfo"] == {"retryCount": 0, "requeueCount": 0}
    assert task["constraints"] == {"maxWallClockTime": UNLIMITED, "retentionTime": "P7D",
                                   "maxTaskRetryCount": 3}  # fmt: skip
    assert task["requiredSlots"] == 1
    assert task["userIdentity"] == {"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}}
    assert_error(await http.post("/jobs/job1/tasks", json={"id": "T1", "commandLine": "x"}),
                 409, "TaskExists")  # fmt: skip
    assert_error(await http.post("/jobs/nojob/tasks", json={"id": "t", "commandLine": "x"}),
                 404, "JobNotFound")  # fmt: skip
    assert_error(await http.get("/jobs/job1/tasks/none"), 404, "TaskNotFound")


async def test_task_rules_that_need_the_job(http: httpx.AsyncClient) -> None:
    await create_job(http, jobPreparationTask={"commandLine": "echo", "id": "prep"})
    same = await http.post("/jobs/job1/tasks", json={"id": "PREP", "commandLine": "x"})
    assert_error(same, 409, "TaskIdSameAsJobPreparationTask")
    depends = {"id": "t", "commandLine": "x", "dependsOn": {"taskIds": ["a"]}}
    assert_error(await http.post("/jobs/job1/tasks", json=depends), 409,
                 "TaskDependenciesNotSpecifiedOnJob")  # fmt: skip
    await http.post("/jobs/job1/terminate")
    closed = await http.post("/jobs/job1/tasks", json={"id": "late", "commandLine": "x"})
    assert closed.status_code == 409


async def test_add_collection_reports_each_task(http: httpx.AsyncClient) -> None:
    await create_job(http)
    await http.post("/jobs/job1/tasks", json={"id": "old", "commandLine": "x"})
    value = [{"id": "a", "commandLine": "x"}, {"id": "OLD", "commandLine": "x"},
             {"id": "b c", "commandLine": "x"}, {"id": "d"}]  # fmt: skip
    response = await http.post("/jobs/job1/addtaskcollection", json={"value": value})
    assert response.status_code == 200
    results = {r["taskId"]: r for r in response.json()["value"]}
    assert results["a"]["status"] == "success"
    assert results["a"]["location"] == f"{BASE_URL}/jobs/job1/tasks/a"
    assert results["a"]["eTag"].startswith("0x")
    assert results["OLD"]["status"] == "clienterror"
    assert results["OLD"]["error"]["code"] == "TaskExists"
    assert results["b c"]["error"]["code"] == "InvalidPropertyValue"
    assert results["d"]["error"]["code"] == "MissingRequiredProperty"
    assert "RequestId:" in results["d"]["error"]["message"]["value"]
    too_many = [{"id": f"t{i}", "commandLine": "x"} for i in range(101)]
    assert_error(await http.post("/jobs/job1/addtaskcollection", json={"value": too_many}),
                 413, "RequestBodyTooLarge")  # fmt: skip
    assert_error(await http.post("/jobs/job1/addtaskcollection", json={"tasks": []}),
                 400, "InvalidRequestBody")  # fmt: skip


async def test_list_tasks_pages_filters_and_selects(
    http: httpx.AsyncClient, emulator: Emulator
) -> None:
    await create_job(http)
    add_tasks(emulator, "job1", [{"id": f"t{i:04d}", "commandLine": "x"} for i in range(2500)])
    body = (await http.get("/jobs/job1/tasks", params={"$select": "id,state"})).json()
    pages = [body["value"]]
    while "odata.nextLink" in body:
        assert body["odata.nextLink"].startswith(f"{BASE_URL}/jobs/job1/tasks?")
        body = (await http.get(body["odata.nextLink"])).json()
        pages.append(body["value"])
    assert [len(page) for page in pages] == [1000, 1000, 500]
    assert [t["id"] for page in pages for t in page] == [f"t{i:04d}" for i in range(2500)]
    assert pages[0][0] == {"id": "t0000", "state": "active"}
    some = await http.get("/jobs/job1/tasks",
                          params={"$filter": "id ge 't2490' and state eq 'active'"})  # fmt: skip
    assert len(some.json()["value"]) == 10
    bad = await http.get("/jobs/job1/tasks", params={"$filter": "exitCode eq 0"})
    assert (
        assert_error(bad, 400, "InvalidQueryParameterValue")["QueryParameterValue"]
        == "exitCode eq 0"
    )
    assert_error(await http.get("/jobs/job1/tasks", params={"maxresults": 1001}), 400,
                 "OutOfRangeQueryParameterValue")  # fmt: skip


async def test_list_filters_and_selects_properties_only_rendering_adds(
    http: httpx.AsyncClient, emulator: Emulator
) -> None:
    await create_job(http)
    add_tasks(emulator, "job1", [{"id": f"t{i}", "commandLine": "x"} for i in range(3)])
    full = (await http.get("/jobs/job1/tasks")).json()["value"]
    stamp = full[0]["lastModified"]
    query = {"$filter": f"lastModified ge DateTime'{stamp}' and state eq 'active'",
             "$select": "id,url,eTag,lastModified"}  # fmt: skip
    listed = (await http.get("/jobs/job1/tasks", params=query)).json()["value"]
    assert listed == [{key: task[key] for key in ("id", "url", "eTag", "lastModified")}
                      for task in full]  # fmt: skip
    assert listed[0]["url"] == f"{BASE_URL}/jobs/job1/tasks/t0"
    later = {"$filter": "lastModified gt DateTime'9999-01-01T00:00:00Z'"}
    assert (await http.get("/jobs/job1/tasks", params=later)).json()["value"] == []


async def test_update_terminate_reactivate_delete(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    await running_job(http, emulator, settle)
    tasks = [{"id": "ok", "commandLine": "echo fine"}, {"id": "bad", "commandLine": "exit 4"},
             {"id": "slow", "commandLine": "sleep 1000"}]  # fmt: skip
    await http.post("/jobs/job1/addtaskcollection", json={"value": tasks})
    update = await http.put("/jobs/job1/tasks/slow",
                            json={"constraints": {"maxWallClockTime": "PT2H"}})  # fmt: skip
    assert update.status_code == 200
    slow = (await http.get("/jobs/job1/tasks/slow")).json()
    assert slow["constraints"]["maxWallClockTime"] == "PT2H"
    assert slow["constraints"]["maxTaskRetryCount"] == 1
    await settle(completed(emulator, "ok", "bad"))
    bad = (await http.get("/jobs/job1/tasks/bad")).json()
    assert bad["executionInfo"]["exitCode"] == 4 and bad["executionInfo"]["retryCount"] == 1
    assert_error(
        await http.post("/jobs/job1/tasks/ok/reactivate"), 409, "TaskCompletedSuccessfully"
    )
    assert_error(await http.post("/jobs/job1/tasks/slow/reactivate"), 409, "TaskNotCompleted")
    reactivated = await http.post("/jobs/job1/tasks/bad/reactivate")
    assert reactivated.status_code == 204 and reactivated.headers["content-length"] == "0"
    assert (await http.get("/jobs/job1/tasks/bad")).json()["state"] != "completed"
    assert (await http.post("/jobs/job1/tasks/slow/terminate")).status_code == 204
    await settle(completed(emulator, "slow"))
    assert_error(await http.put("/jobs/job1/tasks/slow", json={}), 409, "TaskCompleted")
    etag = (await http.get("/jobs/job1/tasks/ok")).headers["etag"]
    assert_error(await http.delete("/jobs/job1/tasks/ok", headers={"If-None-Match": etag}), 412,
                 "ConditionNotMet")  # fmt: skip
    assert (await http.delete("/jobs/job1/tasks/ok")).status_code == 200
    assert_error(await http.get("/jobs/job1/tasks/ok"), 404, "TaskNotFound")
    subtasks = (await http.get("/jobs/job1/tasks/bad/subtasksinfo")).json()
    assert subtasks["value"] == []


async def test_task_files(http: httpx.AsyncClient, emulator: Emulator, settle: Settle) -> None:
    await running_job(http, emulator, settle)
    await http.post("/jobs/job1/tasks", json={"id": "t1", "commandLine": "echo hello world"})
    assert_error(await http.get("/jobs/job1/tasks/t1/files"), 404, "FileNotFound")
    await settle(completed(emulator, "t1"))
    files = (await http.get("/jobs/job1/tasks/t1/files")).json()["value"]
    names = {f["name"]: f for f in files}
    assert {"stdout.txt", "stderr.txt", "wd"} <= set(names)
    assert names["wd"]["isDirectory"] is True and "properties" not in names["wd"]
    size = int(names["stdout.txt"]["properties"]["contentLength"])
    full = await http.get("/jobs/job1/tasks/t1/files/stdout.txt")
    assert full.headers["content-type"] == "text/plain"
    assert full.headers["content-length"] == str(size) and b"hello world" in full.content
    assert full.headers["ocp-batch-file-url"] == (
        "https%3A%2F%2Ftestaccount.westus.batch.azure.com%2Fjobs%2Fjob1%2Ftasks%2Ft1%2Ffiles"
        "%2Fstdout.txt"
    )
    part = await http.get(
        "/jobs/job1/tasks/t1/files/stdout.txt", headers={"ocp-range": "bytes=2-5"}
    )
    assert part.status_code == 200 and part.content == full.content[2:6]
    tail = await http.get("/jobs/job1/tasks/t1/files/stdout.txt", headers={"ocp-range": "bytes=-3"})
    assert tail.content == full.content[-3:]
    beyond = await http.get("/jobs/job1/tasks/t1/files/stdout.txt",
                            headers={"ocp-range": f"bytes={size}-{size + 5}"})  # fmt: skip
    assert beyond.status_code == 416
    garbled = await http.get(
        "/jobs/job1/tasks/t1/files/stdout.txt", headers={"ocp-range": "lines=1"}
    )
    assert_error(garbled, 400, "InvalidHeaderValue")
    props = await http.head("/jobs/job1/tasks/t1/files/stdout.txt")
    assert props.headers["content-length"] == str(size) and props.content == b""
    assert "ocp-creation-time" in props.headers and "last-modified" in props.headers
    since = await http.get("/jobs/job1/tasks/t1/files/stdout.txt",
                           headers={"If-Modified-Since": props.headers["last-modified"]})  # fmt: skip
    assert since.status_code == 304
    escape = await http.get("/jobs/job1/tasks/t1/files/..%2F..%2F..%2F..%2Fshared")
    assert_error(escape, 400, "InvalidUri")
    assert (await http.delete("/jobs/job1/tasks/t1/files/stdout.txt")).status_code == 200
    assert (await http.head("/jobs/job1/tasks/t1/files/stdout.txt")).status_code == 404


async def test_a_range_of_ids_lists_exactly_its_tasks_whatever_their_order(
    http: httpx.AsyncClient, emulator: Emulator
) -> None:
    # Ids added out of order, some upper case: the range is compared as the filter compares.
    await create_job(http)
    ids = [f"t{(i * 7919) % 2500:04d}" for i in range(2500)]
    ids[::97] = [item.upper() for item in ids[::97]]
    add_tasks(emulator, "job1", [{"id": item, "commandLine": "x"} for item in ids])
    where = "(id ge 't1000') and (id lt 't1500') and state eq 'active'"  # as the client writes it
    params = {"$filter": where, "$select": "id", "maxresults": "100"}
    body = (await http.get("/jobs/job1/tasks", params=params)).json()
    listed = [task["id"] for task in body["value"]]
    while "odata.nextLink" in body:
        body = (await http.get(body["odata.nextLink"])).json()
        assert body["value"], "no empty page behind a next link"
        listed += [task["id"] for task in body["value"]]
    assert listed == [item for item in ids if "t1000" <= item < "t1500"]
    assert 400 < len(listed) < 500  # the upper-case ones sort before "t"
