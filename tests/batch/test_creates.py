"""Tests `BatchClient.add_task` and `add_job` against the emulator: what is sent is what was
edited, and the service's 400 comes back with its code and values, property by property."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from batch_tui.batch.add_bodies import (
    job_add_template,
    parse_job_add,
    parse_task_add,
    task_add_body_from,
)
from batch_tui.batch.client import BatchClient
from batch_tui.batch.errors import BadRequest, Conflict
from batch_tui.batch.retry import RetryPolicy
from batch_tui.emulator import Emulator
from batch_tui.emulator.ops.jobs import add_job
from batch_tui.emulator.ops.tasks import add_tasks


@pytest.fixture
async def client(app: Any, emulator_profile: Any, emulator: Emulator) -> AsyncIterator[BatchClient]:
    add_job(emulator, {"id": "job-1", "poolInfo": {"poolId": "pool-a"}})
    transport = httpx.ASGITransport(app=app)
    profile = emulator_profile
    async with BatchClient.with_shared_key(
        profile.base_url, profile.account, profile.key,
        transport=transport, retry=RetryPolicy(max_attempts=1),
    ) as batch:  # fmt: skip
        yield batch


async def test_add_task_sends_the_edited_body(client: BatchClient) -> None:
    body = parse_task_add(
        '{"id": "t9", "commandLine": "echo hi", "environmentSettings": '
        '[{"name": "A", "value": "1"}], "constraints": {"maxTaskRetryCount": 2}}'
    )
    await client.add_task("job-1", body)
    task = await client.get_task("job-1", "t9")
    assert task.command_line == "echo hi"
    assert [(e.name, e.value) for e in task.environment_settings] == [("A", "1")]
    assert task.constraints is not None and task.constraints.max_task_retry_count == 2


async def test_a_cloned_task_is_added_with_its_exit_conditions(
    client: BatchClient, emulator: Emulator
) -> None:
    original = {
        "id": "t1",
        "commandLine": "false",
        "exitConditions": {"exitCodes": [{"code": 1, "exitOptions": {"jobAction": "none"}}]},
        "resourceFiles": [{"httpUrl": "https://store/in.txt", "filePath": "in.txt"}],
        "constraints": {"maxTaskRetryCount": 1},
    }
    add_tasks(emulator, "job-1", [original])
    task = await client.get_task("job-1", "t1")
    edited = task_add_body_from(task, "t1-rerun-1").text.replace('"false"', '"true"')
    await client.add_task("job-1", parse_task_add(edited))
    clone = await client.get_task("job-1", "t1-rerun-1")
    assert clone.command_line == "true"
    assert clone.exit_conditions == task.exit_conditions
    assert clone.resource_files == task.resource_files
    assert clone.constraints == task.constraints


@pytest.mark.parametrize(
    ("text", "code", "values"),
    [
        ('{"id": "t2"}', "MissingRequiredProperty", {"PropertyName": "commandLine"}),
        (
            '{"id": "t2", "commandLine": "x", "constraints": {"maxTaskRetryCount": -5}}',
            "InvalidPropertyValue",
            {"PropertyName": "maxTaskRetryCount", "PropertyValue": "-5"},
        ),
        ('{"id": "bad id!", "commandLine": "x"}', "InvalidPropertyValue", {"PropertyName": "id"}),
        ('{"id": "t2", "commandLin": "x"}', "InvalidRequestBody", {}),
    ],
)
async def test_the_services_400_comes_back_with_its_values(
    client: BatchClient, text: str, code: str, values: dict[str, str]
) -> None:
    with pytest.raises(BadRequest) as caught:
        await client.add_task("job-1", parse_task_add(text))
    error = caught.value
    assert (error.status, error.code) == (400, code)
    assert error.message
    assert values.items() <= error.values.items()
    if code != "MissingRequiredProperty":
        assert error.values.get("Reason"), error.values


async def test_a_taken_id_is_a_conflict(client: BatchClient) -> None:
    body = parse_task_add('{"id": "t3", "commandLine": "x"}')
    await client.add_task("job-1", body)
    with pytest.raises(Conflict) as caught:
        await client.add_task("job-1", body)
    assert caught.value.code == "TaskExists"


async def test_add_job_on_an_existing_pool(client: BatchClient) -> None:
    await client.add_job(parse_job_add(job_add_template("job-2", "pool-a").text))
    job = await client.get_job("job-2")
    assert job.pool_info is not None and job.pool_info.pool_id == "pool-a"
    with pytest.raises(BadRequest) as caught:
        await client.add_job(parse_job_add('{"id": "job-3"}'))
    assert caught.value.values == {"PropertyName": "poolInfo"}
