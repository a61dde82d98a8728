"""Tests the pool operations over HTTP, node counts and conditional requests."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from batch_tui.emulator import Emulator
from tests.emulator.support import (
    BASE_URL,
    Settle,
    add_pool,
    assert_error,
    idle,
    pool_body,
)


def steady(emulator: Emulator, pool_id: str = "pool1") -> Any:
    return lambda: emulator.store.pools[pool_id].data["allocationState"] == "steady"


async def test_add_pool_returns_201_with_location_and_etag(http: httpx.AsyncClient) -> None:
    response = await add_pool(http)
    url = f"{BASE_URL}/pools/pool1"
    assert response.content == b""
    assert response.headers["location"] == url
    assert response.headers["dataserviceid"] == url
    assert response.headers["etag"].startswith("0x")
    assert response.headers["last-modified"].endswith(" GMT")


async def test_get_pool_echoes_the_service_defaults(http: httpx.AsyncClient) -> None:
    await add_pool(http, resizeTimeout="PT01H00M00S", startTask={"commandLine": "echo hi"})
    response = await http.get("/pools/POOL1")
    assert response.status_code == 200
    pool = response.json()
    assert pool["odata.metadata"] == f"{BASE_URL}/$metadata#pools/@Element"
    assert list(pool)[1:5] == ["id", "url", "eTag", "lastModified"]
    assert pool["eTag"] == response.headers["etag"]
    assert pool["vmSize"] == "standard_d2s_v3"
    assert pool["resizeTimeout"] == "PT1H"
    assert pool["state"] == "active"
    assert pool["targetDedicatedNodes"] == 2
    assert pool["taskSlotsPerNode"] == 1
    # The service writes the fill type capitalised (recordings), and 2024-07-01.20.0 has no
    # jobDefaultOrder.
    assert pool["taskSchedulingPolicy"] == {"nodeFillType": "Spread"}
    assert pool["enableAutoScale"] is False
    assert pool["startTask"]["waitForSuccess"] is True
    assert pool["startTask"]["maxTaskRetryCount"] == 0
    assert "stats" not in pool
    expanded = (await http.get("/pools/pool1", params={"$expand": "stats"})).json()
    assert expanded["stats"]["url"] == f"{BASE_URL}/pools/pool1/stats"


@pytest.mark.parametrize(
    ("changes", "status", "code", "values"),
    [
        ({"id": "POOL1"}, 409, "PoolExists", {}),
        ({"id": "bad id!"}, 400, "InvalidPropertyValue", {"PropertyName": "id"}),
        ({"id": "x" * 65}, 400, "InvalidPropertyValue", {"PropertyName": "id"}),
        ({"vmSize": None}, 400, "MissingRequiredProperty", {"PropertyName": "vmSize"}),
        ({"colour": "blue"}, 400, "InvalidRequestBody", {}),
        ({"targetDedicatedNodes": "two"}, 400, "InvalidRequestBody", {}),
        ({"targetDedicatedNodes": -1}, 400, "InvalidPropertyValue",
         {"PropertyName": "targetDedicatedNodes"}),
        ({"resizeTimeout": "PT1M"}, 400, "InvalidPropertyValue", {"PropertyName": "resizeTimeout"}),
        ({"taskSchedulingPolicy": {"nodeFillType": "fill"}}, 400, "InvalidPropertyValue",
         {"PropertyName": "nodeFillType", "PropertyValue": "fill"}),
        ({"enableAutoScale": True}, 400, "MissingRequiredProperty",
         {"PropertyName": "autoScaleFormula"}),
    ],
)  # fmt: skip
async def test_add_pool_validation(
    http: httpx.AsyncClient, changes: dict[str, Any], status: int, code: str, values: dict[str, str]
) -> None:
    await add_pool(http)
    response = await http.post("/pools", json=pool_body(**changes))
    assert values.items() <= assert_error(response, status, code).items()


async def test_bodies_that_are_not_json_are_invalid_request_body(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/pools", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    values = assert_error(response, 400, "InvalidRequestBody")
    assert "Reason" in values


async def test_bodies_over_one_megabyte_are_413(http: httpx.AsyncClient) -> None:
    huge = pool_body(displayName="x" * (1024 * 1024 + 1))
    assert_error(await http.post("/pools", json=huge), 413, "RequestBodyTooLarge")


async def test_exists_and_missing(http: httpx.AsyncClient) -> None:
    await add_pool(http)
    found = await http.head("/pools/pool1")
    assert found.status_code == 200 and found.content == b""
    assert found.headers["etag"].startswith("0x")
    assert (await http.head("/pools/other")).status_code == 404
    assert_error(await http.get("/pools/other"), 404, "PoolNotFound")


async def test_conditional_reads_and_writes(http: httpx.AsyncClient) -> None:
    etag = (await add_pool(http)).headers["etag"]
    last_modified = (await http.get("/pools/pool1")).headers["last-modified"]
    assert (await http.get("/pools/pool1", headers={"If-None-Match": etag})).status_code == 304
    since = await http.get("/pools/pool1", headers={"If-Modified-Since": last_modified})
    assert since.status_code == 304 and since.content == b""
    assert (await http.get("/pools/pool1", headers={"If-Match": etag})).status_code == 200
    stale = await http.patch("/pools/pool1", json={"displayName": "x"}, headers={"If-Match": "0x1"})
    assert_error(stale, 412, "ConditionNotMet")
    fresh = await http.patch("/pools/pool1", json={"displayName": "x"}, headers={"If-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != etag
    assert (await http.get("/pools/pool1", headers={"If-None-Match": etag})).status_code == 200
    bad_date = await http.get("/pools/pool1", headers={"If-Modified-Since": "yesterday"})
    assert assert_error(bad_date, 400, "InvalidHeaderValue")["HeaderName"] == "If-Modified-Since"


async def test_patch_replaces_only_what_is_sent(http: httpx.AsyncClient) -> None:
    await add_pool(http, metadata=[{"name": "a", "value": "1"}])
    response = await http.patch("/pools/pool1", json={"startTask": {"commandLine": "echo"}})
    assert response.status_code == 200 and response.content == b""
    assert response.headers["dataserviceid"] == f"{BASE_URL}/pools/pool1"
    pool = (await http.get("/pools/pool1")).json()
    assert pool["metadata"] == [{"name": "a", "value": "1"}]
    assert pool["startTask"]["commandLine"] == "echo"


async def test_update_properties_replaces_everything(http: httpx.AsyncClient) -> None:
    await add_pool(http, metadata=[{"name": "a", "value": "1"}], startTask={"commandLine": "x"})
    body: dict[str, list[Any]] = {
        "certificateReferences": [],
        "applicationPackageReferences": [],
        "metadata": [],
    }
    response = await http.post("/pools/pool1/updateproperties", json=body)
    assert response.status_code == 204
    assert response.headers["content-length"] == "0"
    pool = (await http.get("/pools/pool1")).json()
    assert pool["metadata"] == [] and "startTask" not in pool
    missing = await http.post("/pools/pool1/updateproperties", json={"metadata": []})
    assert_error(missing, 400, "MissingRequiredProperty")


async def test_list_filters_selects_and_pages(http: httpx.AsyncClient) -> None:
    for index in range(5):
        await add_pool(http, id=f"pool{index}", targetDedicatedNodes=0)
    response = await http.get(
        "/pools",
        params={"$filter": "startswith(id,'pool') and id ne 'pool2'", "$select": "id,state",
                "maxresults": "2"},
    )  # fmt: skip
    body = response.json()
    assert body["value"] == [{"id": "pool0", "state": "active"}, {"id": "pool1", "state": "active"}]
    seen = [item["id"] for item in body["value"]]
    while "odata.nextLink" in body:
        link = body["odata.nextLink"]
        assert link.startswith(f"{BASE_URL}/pools?") and "api-version=" in link
        body = (await http.get(link)).json()
        seen += [item["id"] for item in body["value"]]
    assert seen == ["pool0", "pool1", "pool3", "pool4"]
    bad = await http.get("/pools", params={"$filter": "displayName eq 'x'"})
    assert assert_error(bad, 400, "InvalidQueryParameterValue")["QueryParameterName"] == "$filter"


async def test_resize_needs_a_steady_pool(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    await add_pool(http)
    busy = await http.post("/pools/pool1/resize", json={"targetDedicatedNodes": 3})
    assert_error(busy, 409, "PoolBeingResized")
    await settle(steady(emulator))
    response = await http.post("/pools/pool1/resize", json={"targetDedicatedNodes": 3})
    assert response.status_code == 202
    assert response.headers["dataserviceid"] == f"{BASE_URL}/pools/pool1/resize"
    pool = (await http.get("/pools/pool1")).json()
    assert pool["allocationState"] == "resizing" and pool["targetDedicatedNodes"] == 3
    await settle(steady(emulator))
    assert (await http.get("/pools/pool1")).json()["currentDedicatedNodes"] == 3


async def test_stop_resize_and_remove_nodes(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    await add_pool(http)
    assert (await http.post("/pools/pool1/stopresize")).status_code == 202
    await settle(steady(emulator))
    await http.post("/pools/pool1/resize", json={"targetDedicatedNodes": 2})
    await settle(steady(emulator))
    nodes = (await http.get("/pools/pool1/nodes")).json()["value"]
    missing = await http.post("/pools/pool1/removenodes", json={"nodeList": ["tvmps_nope"]})
    assert_error(missing, 404, "NodeNotFound")
    too_many = await http.post("/pools/pool1/removenodes", json={"nodeList": ["n"] * 101})
    assert_error(too_many, 400, "InvalidPropertyValue")
    gone = nodes[0]["id"]
    response = await http.post("/pools/pool1/removenodes", json={"nodeList": [gone]})
    assert response.status_code == 202
    await settle(lambda: gone.lower() not in emulator.store.pool_nodes("pool1"))
    await settle(steady(emulator))
    assert (await http.get("/pools/pool1")).json()["targetDedicatedNodes"] == 1


async def test_autoscale_enable_evaluate_disable(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    await add_pool(http, targetDedicatedNodes=0)
    await settle(steady(emulator))
    off = await http.post("/pools/pool1/evaluateautoscale", json={"autoScaleFormula": "$x=1"})
    assert_error(off, 409, "AutoScaleNotEnabled")
    formula = "$TargetDedicatedNodes = min(2, 1 + 1)"
    body = {"autoScaleFormula": formula, "autoScaleEvaluationInterval": "PT5M"}
    assert (await http.post("/pools/pool1/enableautoscale", json=body)).status_code == 200
    pool = (await http.get("/pools/pool1")).json()
    assert pool["enableAutoScale"] is True and pool["autoScaleFormula"] == formula
    assert pool["targetDedicatedNodes"] == 2
    assert (
        pool["autoScaleRun"]["results"]
        == "$TargetDedicatedNodes=2;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue"
    )
    run = (await http.post("/pools/pool1/evaluateautoscale",
                           json={"autoScaleFormula": "$TargetDedicated=1"})).json()  # fmt: skip
    assert (
        run["results"]
        == "$TargetDedicatedNodes=1;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue"
    )
    sampled = await http.post("/pools/pool1/evaluateautoscale",
                              json={"autoScaleFormula": "$x = $PendingTasks.GetSample(1)"})  # fmt: skip
    assert "error" in sampled.json()
    broken = await http.post("/pools/pool1/evaluateautoscale", json={"autoScaleFormula": "$x = ("})
    assert_error(broken, 400, "AutoScalingFormulaSyntaxError")
    resize = await http.post("/pools/pool1/resize", json={"targetDedicatedNodes": 1})
    assert resize.status_code == 409
    assert (await http.post("/pools/pool1/disableautoscale")).status_code == 200
    assert (await http.get("/pools/pool1")).json()["enableAutoScale"] is False


async def test_delete_marks_the_pool_deleting_then_it_goes(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    await add_pool(http)
    response = await http.delete("/pools/pool1")
    assert response.status_code == 202
    assert (await http.get("/pools/pool1")).json()["state"] == "deleting"
    assert_error(
        await http.patch("/pools/pool1", json={"displayName": "x"}), 409, "PoolBeingDeleted"
    )
    await settle(lambda: "pool1" not in emulator.store.pools)
    assert (await http.head("/pools/pool1")).status_code == 404


async def test_node_counts_follow_the_nodes(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    await add_pool(http)
    await add_pool(http, id="pool2", targetDedicatedNodes=0)
    await settle(idle(emulator))
    response = await http.get("/nodecounts")
    counts = {item["poolId"]: item for item in response.json()["value"]}
    assert counts["pool1"]["dedicated"]["total"] == 2
    assert counts["pool1"]["dedicated"]["idle"] == 2
    assert counts["pool1"]["lowPriority"]["total"] == 0
    assert set(counts["pool1"]["dedicated"]) >= {
        "startTaskFailed",
        "waitingForStartTask",
        "upgradingOS",
    }
    only = await http.get("/nodecounts", params={"$filter": "poolId eq 'pool2'"})
    assert [i["poolId"] for i in only.json()["value"]] == ["pool2"]
    assert_error(await http.get("/nodecounts", params={"maxresults": 11}), 400,
                 "OutOfRangeQueryParameterValue")  # fmt: skip
