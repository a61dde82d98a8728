"""Tests the job schedule reads and actions of `BatchClient` against the in-process emulator:
the jobs of a schedule, enable, disable, terminate and delete, and the service's refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from batch_tui.batch import BatchClient, Conflict, JobScheduleState, NotFound
from batch_tui.batch.retry import RetryPolicy
from batch_tui.emulator import Emulator
from batch_tui.emulator.base.clock import ManualClock
from batch_tui.emulator.ops.pools import add_pool
from batch_tui.emulator.ops.schedules import add_job_schedule
from batch_tui.emulator.ops.tasks import add_tasks
from tests.emulator.support import EmulatorProfile, Settle
from tests.ui.recording import Recorder
from tests.ui.support import pool_body

SCHEDULE: dict[str, Any] = {
    "id": "hourly",
    "schedule": {"recurrenceInterval": "PT1H"},
    # Without tasks or a manager, each job stays active until it is terminated.
    "jobSpecification": {"poolInfo": {"poolId": "pool-a"}, "priority": 5},
}


@pytest.fixture
async def client(transport: Any, emulator_profile: EmulatorProfile) -> AsyncIterator[BatchClient]:
    profile = emulator_profile
    async with BatchClient.with_shared_key(
        profile.base_url,
        profile.account,
        profile.key,
        transport=transport,
        retry=RetryPolicy(max_attempts=1),
    ) as batch:
        yield batch


@pytest.fixture
def schedule(emulator: Emulator) -> str:
    add_pool(emulator, pool_body("pool-a", 1))
    add_job_schedule(emulator, SCHEDULE)
    return str(SCHEDULE["id"])


async def test_lists_the_jobs_of_a_schedule(
    client: BatchClient, schedule: str, emulator: Emulator, clock: ManualClock, settle: Settle
) -> None:
    jobs = await client.list_jobs(job_schedule_id=schedule, select=["id", "state"])
    assert [(job.id, job.state) for job in jobs] == [("hourly:job-1", "active")]
    await client.terminate_job("hourly:job-1")
    await settle(lambda: emulator.store.jobs["hourly:job-1"].data["state"] == "completed")
    clock.advance(3600)
    await emulator.periodic.tick()
    jobs = await client.list_jobs(job_schedule_id=schedule)
    assert [job.id for job in jobs] == ["hourly:job-1", "hourly:job-2"]
    assert all(job.priority == 5 for job in jobs)  # made from the job specification
    fetched = await client.get_job_schedule(schedule)
    assert fetched.execution_info is not None and fetched.execution_info.recent_job is not None
    assert fetched.execution_info.recent_job.id == "hourly:job-2"
    with pytest.raises(NotFound) as missing:
        await client.list_jobs(job_schedule_id="no-such-schedule")
    assert missing.value.code == "JobScheduleNotFound"


async def test_disable_and_enable(client: BatchClient, schedule: str, recorder: Recorder) -> None:
    await client.disable_job_schedule(schedule)
    assert (await client.get_job_schedule(schedule)).state == JobScheduleState.DISABLED
    await client.enable_job_schedule(schedule)
    fetched = await client.get_job_schedule(schedule)
    assert (fetched.state, fetched.previous_state) == ("active", "disabled")
    sent = [(r.method, r.path, r.body) for r in recorder.mutations()]
    assert sent == [
        ("POST", "/jobschedules/hourly/disable", None),
        ("POST", "/jobschedules/hourly/enable", None),
    ]


async def test_terminate_then_the_service_refuses_all_but_delete(
    client: BatchClient, schedule: str, emulator: Emulator, settle: Settle, recorder: Recorder
) -> None:
    await client.terminate_job_schedule(schedule, force=True)
    await settle(lambda: emulator.store.jobs["hourly:job-1"].data["state"] == "completed")
    await emulator.periodic.tick()
    assert (await client.get_job_schedule(schedule)).state == JobScheduleState.COMPLETED
    for action in (client.enable_job_schedule, client.disable_job_schedule):
        with pytest.raises(Conflict) as refused:
            await action(schedule)
        assert refused.value.code == "JobScheduleCompleted"
    await client.delete_job_schedule(schedule)
    await settle(lambda: "hourly:job-1" not in emulator.store.jobs)
    await emulator.periodic.tick()
    with pytest.raises(NotFound):
        await client.get_job_schedule(schedule)
    terminate, *_, delete = recorder.mutations()
    assert terminate.path == "/jobschedules/hourly/terminate"
    assert terminate.query["force"] == "true"
    assert (delete.method, delete.path) == ("DELETE", "/jobschedules/hourly")
    assert "force" not in delete.query


async def test_a_schedule_being_deleted_refuses_every_action(
    client: BatchClient, emulator: Emulator, settle: Settle
) -> None:
    add_pool(emulator, pool_body("pool-a", 1))
    # The job's release task runs when it is deleted: the schedule stays "deleting" meanwhile.
    spec = {"poolInfo": {"poolId": "pool-a"}, "jobPreparationTask": {"commandLine": "echo"},
            "jobReleaseTask": {"commandLine": "sleep 2"}}  # fmt: skip
    add_job_schedule(emulator, {**SCHEDULE, "jobSpecification": spec})
    add_tasks(emulator, "hourly:job-1", [{"id": "long", "commandLine": "sleep 600"}])
    tasks = emulator.store.job_tasks("hourly:job-1")
    await settle(lambda: tasks["long"].data["state"] == "running")
    await client.delete_job_schedule("hourly", force=True)
    assert (await client.get_job_schedule("hourly")).state == JobScheduleState.DELETING
    for action in (
        client.enable_job_schedule,
        client.disable_job_schedule,
        client.terminate_job_schedule,
        client.delete_job_schedule,
    ):
        with pytest.raises(Conflict) as refused:
            await action("hourly")
        assert refused.value.code == "JobScheduleBeingDeleted"
