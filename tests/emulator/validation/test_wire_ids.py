"""Tests that the emulator refuses ids with a trailing newline, as the service does.

Ids are shown everywhere without quoting; a newline (or any control character) in one would
carry a control character into every listing. `re.match` with `$` lets "pool-a\\n" through, so
each kind of id is checked at the wire with a trailing newline.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from batch_tui.emulator.base.times import parse_duration
from tests.emulator.support import POOL_BODY


def pool_body(pool_id: str) -> dict[str, Any]:
    return {**POOL_BODY, "id": pool_id, "targetDedicatedNodes": 0}


BAD_IDS = ("pool-a\n", "pool-a\r\n", "\npool-a", "pool-\na")
"""Ids the service refuses: a newline anywhere, including the end."""


def assert_invalid_id(response: httpx.Response, name: str = "id") -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "InvalidPropertyValue"
    values = {item["key"]: item["value"] for item in body["values"]}
    assert values["PropertyName"] == name


def job_body(job_id: str) -> dict[str, Any]:
    return {"id": job_id, "poolInfo": {"poolId": "pool-a"}}


@pytest.mark.parametrize("bad_id", BAD_IDS)
async def test_pool_job_and_schedule_ids_with_a_newline_are_refused(
    http: httpx.AsyncClient, bad_id: str
) -> None:
    assert_invalid_id(await http.post("/pools", json=pool_body(bad_id)))
    assert_invalid_id(await http.post("/jobs", json=job_body(bad_id)))
    schedule = {
        "id": bad_id,
        "schedule": {"recurrenceInterval": "PT1H"},
        "jobSpecification": {"poolInfo": {"poolId": "pool-a"}},
    }
    assert_invalid_id(await http.post("/jobschedules", json=schedule))
    assert (await http.get("/pools")).json()["value"] == []
    assert (await http.get("/jobs")).json()["value"] == []


@pytest.mark.parametrize("bad_id", BAD_IDS)
async def test_task_ids_with_a_newline_are_refused(http: httpx.AsyncClient, bad_id: str) -> None:
    assert (await http.post("/pools", json=pool_body("pool-a"))).status_code == 201
    assert (await http.post("/jobs", json=job_body("job-1"))).status_code == 201
    task = {"id": bad_id, "commandLine": "echo hi"}
    assert_invalid_id(await http.post("/jobs/job-1/tasks", json=task))
    collection = await http.post("/jobs/job-1/addtaskcollection", json={"value": [task]})
    assert collection.status_code == 200
    [result] = collection.json()["value"]
    assert result["status"] == "clienterror"
    assert result["error"]["code"] == "InvalidPropertyValue"
    manager = {**job_body("job-2"), "jobManagerTask": {"id": bad_id, "commandLine": "x"}}
    assert_invalid_id(await http.post("/jobs", json=manager), "jobManagerTask.id")
    assert (await http.get("/jobs/job-1/tasks")).json()["value"] == []


def test_durations_with_a_trailing_newline_are_not_durations() -> None:
    assert parse_duration("PT1H") == 3600 * 10_000_000
    with pytest.raises(ValueError):
        parse_duration("PT1H\n")
