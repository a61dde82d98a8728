"""Tests the emulator with the official SDK's async client (`azure.batch.aio`), over a real
loopback HTTP server: the other half of the SDK's client family (issue 14, Measure).

It goes through the same steps a script would: create a pool and wait for its nodes, add a job
and a collection of tasks, wait for them to complete, read a task's stdout, and catch the
service's errors by their SDK exception.
"""

from __future__ import annotations

import pytest
from azure.batch import models as m
from azure.batch.aio import BatchClient
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from tests.emulator.sdk_support import pool_options
from tests.emulator.support import ACCOUNT, KEY
from tests.polling import until

POOL = "aiopool"
JOB = "aiojob"
TASKS = 120

pytestmark = pytest.mark.parametrize("endpoint", ["simulated"], indirect=True)


async def test_the_async_client_runs_a_job_end_to_end(endpoint: str) -> None:
    async with BatchClient(endpoint, AzureNamedKeyCredential(ACCOUNT, KEY)) as client:
        await client.create_pool(pool_options(POOL))
        with pytest.raises(ResourceExistsError):
            await client.create_pool(pool_options(POOL))

        async def idle() -> bool:
            nodes = [node async for node in client.list_nodes(POOL)]
            return len(nodes) == 3 and all(n.state == m.BatchNodeState.IDLE for n in nodes)

        await until(idle, seconds=60, every=0.05, what="three idle nodes")

        await client.create_job(
            m.BatchJobCreateOptions(id=JOB, pool_info=m.BatchPoolInfo(pool_id=POOL))
        )
        tasks = [
            m.BatchTaskCreateOptions(id=f"t{n:03}", command_line=f"/bin/sh -c 'echo out {n}'")
            for n in range(TASKS)
        ]
        for start in range(0, TASKS, 100):  # the service takes 100 tasks per collection
            result = await client.create_task_collection(
                JOB, m.BatchTaskGroup(task_values=tasks[start : start + 100])
            )
            assert result.result_values is not None
            assert all(r.status == m.BatchTaskAddStatus.SUCCESS for r in result.result_values)

        async def all_completed() -> bool:
            counts = await client.get_job_task_counts(JOB)
            return counts.task_counts.completed == TASKS

        await until(all_completed, seconds=60, every=0.05, what="every task to complete")
        listed = [task.id async for task in client.list_tasks(JOB)]
        assert sorted(listed) == sorted(t.id for t in tasks)
        task = await client.get_task(JOB, "t007")
        assert task.state == m.BatchTaskState.COMPLETED
        assert task.execution_info is not None and task.execution_info.exit_code == 0

        stdout = await client.download_task_file(JOB, "t007", "stdout.txt")
        body = b"".join([chunk async for chunk in stdout])
        assert body  # the simulated executor writes the task's output

        with pytest.raises(ResourceNotFoundError) as missing:
            await client.get_job("no-such-job")
        assert missing.value.error is not None and missing.value.error.code == "JobNotFound"
        poller = await client.begin_delete_job(JOB, polling_interval=0.05)
        await poller.result()
        with pytest.raises(ResourceNotFoundError):
            await client.get_job(JOB)
