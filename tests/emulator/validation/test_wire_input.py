"""Tests bodies and query parameters the way real clients and bad input send them.

The Azure CLI 2.91 sends integers as JSON strings (`"targetDedicatedNodes": "3"`); the service's
OData reader converts a numeric string for a numeric property, and only that. A body nested
1,000 deep, a `$filter` nested 240 deep and `timeout=abc` get the service's 400, never a 500.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from batch_tui.emulator import Emulator
from tests.emulator.support import (
    Settle,
    add_pool,
    assert_error,
    create_job,
    idle,
    pool_body,
)


async def test_cli_pool_create_sends_the_node_count_as_a_string(http: httpx.AsyncClient) -> None:
    # az batch pool create --target-dedicated-nodes 1
    await add_pool(http, targetDedicatedNodes="1")
    assert (await http.get("/pools/pool1")).json()["targetDedicatedNodes"] == 1


async def test_cli_pool_resize_sends_the_target_as_a_string(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    await add_pool(http, targetDedicatedNodes=0)
    await settle(lambda: emulator.store.pools["pool1"].data["allocationState"] == "steady")
    # az batch pool resize --target-dedicated-nodes 3
    response = await http.post("/pools/pool1/resize", json={"targetDedicatedNodes": "3"})
    assert response.status_code == 202, response.text
    assert (await http.get("/pools/pool1")).json()["targetDedicatedNodes"] == 3


async def test_cli_job_set_and_task_create_send_integers_as_strings(
    http: httpx.AsyncClient,
) -> None:
    await add_pool(http, targetDedicatedNodes=0)
    await create_job(http)
    # az batch job set --priority 50
    response = await http.patch("/jobs/job1", json={"priority": "50"})
    assert response.status_code == 200, response.text
    assert (await http.get("/jobs/job1")).json()["priority"] == 50
    # az batch task create --max-task-retry-count 2
    task = {"id": "t1", "commandLine": "true", "constraints": {"maxTaskRetryCount": "2"}}
    response = await http.post("/jobs/job1/tasks", json=task)
    assert response.status_code == 201, response.text
    assert (await http.get("/jobs/job1/tasks/t1")).json()["constraints"]["maxTaskRetryCount"] == 2


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("two", "InvalidRequestBody"),
        ("1.5", "InvalidRequestBody"),
        ("", "InvalidRequestBody"),
        ("0x10", "InvalidRequestBody"),
        ("1e3", "InvalidRequestBody"),
        (True, "InvalidRequestBody"),
        ("-1", "InvalidPropertyValue"),
    ],
)
async def test_strings_that_are_not_valid_integers_stay_refused(
    http: httpx.AsyncClient, value: Any, code: str
) -> None:
    response = await http.post("/pools", json=pool_body(targetDedicatedNodes=value))
    assert assert_error(response, 400, code).get("PropertyName", "targetDedicatedNodes") == (
        "targetDedicatedNodes"
    )


async def test_a_wrongly_nested_option_says_what_is_wrong(
    http: httpx.AsyncClient, emulator: Emulator, settle: Settle
) -> None:
    await add_pool(http, targetDedicatedNodes=1)
    await settle(idle(emulator))
    node = next(iter(emulator.store.pool_nodes("pool1").values()))
    # az batch node scheduling disable --node-disable-scheduling-option requeue
    body = {"nodeDisableSchedulingOption": {"nodeDisableSchedulingOption": "requeue"}}
    url = f"/pools/pool1/nodes/{node.id}/disablescheduling"
    reason = assert_error(await http.post(url, json=body), 400, "InvalidRequestBody")["Reason"]
    assert "'nodeDisableSchedulingOption'" in reason
    assert "JSON object" in reason
    assert "requeue" not in reason
    assert (await http.post(url, json={"nodeDisableSchedulingOption": "requeue"})).is_success


async def test_a_body_nested_1000_deep_is_an_invalid_body(http: httpx.AsyncClient) -> None:
    for deep in (b"[" * 1000 + b"]" * 1000, b'{"a":' * 1000 + b"1" + b"}" * 1000):
        response = await http.post(
            "/jobs", content=deep, headers={"Content-Type": "application/json"}
        )
        assert "nested" in assert_error(response, 400, "InvalidRequestBody")["Reason"]


async def test_a_body_nested_deeper_than_the_service_reads_is_refused_inside_free_json(
    http: httpx.AsyncClient,
) -> None:
    settings: Any = "x"
    for _ in range(150):
        settings = {"a": settings}
    vm = pool_body()["virtualMachineConfiguration"]
    extension = {"name": "e", "publisher": "p", "type": "t", "settings": settings}
    body = pool_body(virtualMachineConfiguration={**vm, "extensions": [extension]})
    assert_error(await http.post("/pools", json=body), 400, "InvalidRequestBody")


async def test_a_filter_nested_240_deep_is_an_invalid_query(http: httpx.AsyncClient) -> None:
    text = "(" * 240 + "state eq 'active'" + ")" * 240
    response = await http.get("/pools", params={"$filter": text})
    values = assert_error(response, 400, "InvalidQueryParameterValue")
    assert values["QueryParameterName"] == "$filter"
    nots = "not " * 600 + "state eq 'active'"
    response = await http.get("/jobs", params={"$filter": nots})
    assert assert_error(response, 400, "InvalidQueryParameterValue")["QueryParameterName"] == (
        "$filter"
    )


@pytest.mark.parametrize("name", ["timeout", "timeOut"])
@pytest.mark.parametrize("value", ["abc", "1.5", "30s"])
async def test_a_timeout_that_is_not_a_number_is_an_invalid_query(
    http: httpx.AsyncClient, name: str, value: str
) -> None:
    response = await http.get("/pools", params={name: value})
    values = assert_error(response, 400, "InvalidQueryParameterValue")
    assert values["QueryParameterName"] == name
    assert values["QueryParameterValue"] == value


async def test_a_valid_timeout_is_accepted_even_above_the_cap(http: httpx.AsyncClient) -> None:
    for value in ("30", "1", "600"):
        assert (await http.get("/pools", params={"timeout": value})).status_code == 200
