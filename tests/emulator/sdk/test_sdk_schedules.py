"""Tests job schedules and autoscale with the official `azure-batch` SDK over a real loopback port.

The server and client fixtures are `tests/fixtures/sdk.py`'s; the executor does not matter
here, so only the simulated one runs.
"""

from __future__ import annotations

import datetime

import pytest
from azure.batch import BatchClient
from azure.batch import models as m
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from tests.emulator.sdk_support import pool_options, wait_for

pytestmark = pytest.mark.parametrize("endpoint", ["simulated"], indirect=True)

SCHEDULE = "sdkschedule"
POLL = 0.02
"""Seconds between the SDK pollers' GETs (the emulator moves in milliseconds)."""


def schedule_options(interval: datetime.timedelta) -> m.BatchJobScheduleCreateOptions:
    return m.BatchJobScheduleCreateOptions(
        id=SCHEDULE,
        schedule=m.BatchJobScheduleConfiguration(
            start_window=datetime.timedelta(hours=1), recurrence_interval=interval
        ),
        job_specification=m.BatchJobSpecification(
            pool_info=m.BatchPoolInfo(pool_id="sdkpool"),
            constraints=m.BatchJobConstraints(max_task_retry_count=2),
        ),
        metadata=[m.BatchMetadataItem(name="owner", value="tests")],
    )


def test_sdk_job_schedule_lifecycle(client: BatchClient) -> None:
    client.create_job_schedule(schedule_options(datetime.timedelta(days=1)))
    with pytest.raises(ResourceExistsError):
        client.create_job_schedule(schedule_options(datetime.timedelta(days=1)))
    schedule = client.get_job_schedule(SCHEDULE)
    assert schedule.state == m.BatchJobScheduleState.ACTIVE
    spec = schedule.job_specification
    assert spec is not None and spec.priority == 0 and spec.max_parallel_tasks == -1
    assert spec.constraints is not None and spec.constraints.max_task_retry_count == 2
    info = schedule.execution_info
    assert info is not None and info.recent_job is not None
    assert info.recent_job.id == f"{SCHEDULE}:job-1"
    assert info.next_run_time == schedule.creation_time + datetime.timedelta(days=1)  # type: ignore[operator]
    assert [s.id for s in client.list_job_schedules()] == [SCHEDULE]
    assert client.job_schedule_exists(SCHEDULE) is True
    with pytest.raises(ResourceNotFoundError):
        client.job_schedule_exists("missing")
    assert [job.id for job in client.list_jobs_from_schedule(SCHEDULE)] == [f"{SCHEDULE}:job-1"]

    client.disable_job_schedule(SCHEDULE)
    assert client.get_job_schedule(SCHEDULE).state == m.BatchJobScheduleState.DISABLED
    client.enable_job_schedule(SCHEDULE)
    assert client.get_job_schedule(SCHEDULE).state == m.BatchJobScheduleState.ACTIVE

    replacement = client.get_job_schedule(SCHEDULE)
    replacement.schedule = m.BatchJobScheduleConfiguration(
        recurrence_interval=datetime.timedelta(hours=10)
    )
    client.replace_job_schedule(SCHEDULE, replacement)
    replaced = client.get_job_schedule(SCHEDULE)
    assert replaced.schedule is not None and replaced.schedule.start_window is None
    assert replaced.schedule.recurrence_interval == datetime.timedelta(hours=10)
    assert replaced.metadata and replaced.metadata[0].value == "tests"  # sent back by the SDK
    update = m.BatchJobScheduleUpdateOptions(
        schedule=m.BatchJobScheduleConfiguration(recurrence_interval=datetime.timedelta(hours=5))
    )
    client.update_job_schedule(SCHEDULE, update)
    updated = client.get_job_schedule(SCHEDULE)
    assert updated.schedule is not None
    assert updated.schedule.recurrence_interval == datetime.timedelta(hours=5)
    assert updated.etag != replaced.etag

    client.begin_terminate_job_schedule(SCHEDULE, polling_interval=POLL).result()  # type: ignore[arg-type]
    terminated = client.get_job_schedule(SCHEDULE)
    assert terminated.state == m.BatchJobScheduleState.COMPLETED
    job = client.get_job(f"{SCHEDULE}:job-1")
    assert job.state in (m.BatchJobState.TERMINATING, m.BatchJobState.COMPLETED)
    client.begin_delete_job_schedule(SCHEDULE, polling_interval=POLL).result()  # type: ignore[arg-type]
    with pytest.raises(ResourceNotFoundError):
        client.get_job_schedule(SCHEDULE)
    wait_for(lambda: not list(client.list_jobs()), "the schedule's jobs to go")


def test_sdk_autoscale(client: BatchClient) -> None:
    options = pool_options("sdkpool")
    options.target_dedicated_nodes = 0
    client.create_pool(options)
    wait_for(
        lambda: client.get_pool("sdkpool").allocation_state == m.AllocationState.STEADY,
        "the pool to be steady",
    )
    formula = "$TargetDedicatedNodes = 1; $NodeDeallocationOption = taskcompletion"
    client.enable_pool_auto_scale(
        "sdkpool",
        m.BatchPoolEnableAutoScaleOptions(
            auto_scale_formula=formula,
            auto_scale_evaluation_interval=datetime.timedelta(minutes=6),
        ),
    )
    pool = client.get_pool("sdkpool")
    assert pool.enable_auto_scale is True and pool.auto_scale_formula == formula
    assert pool.auto_scale_evaluation_interval == datetime.timedelta(minutes=6)
    assert pool.auto_scale_run is not None and pool.auto_scale_run.results == (
        "$TargetDedicatedNodes=1;$TargetLowPriorityNodes=0;$NodeDeallocationOption=taskcompletion"
    )
    assert pool.target_dedicated_nodes == 1
    with pytest.raises(HttpResponseError) as info:
        client.enable_pool_auto_scale(
            "sdkpool", m.BatchPoolEnableAutoScaleOptions(auto_scale_formula=formula)
        )
    assert info.value.status_code == 503

    evaluation = client.evaluate_pool_auto_scale(
        "sdkpool", m.BatchPoolEvaluateAutoScaleOptions(auto_scale_formula="$TargetDedicatedNodes=3")
    )
    assert evaluation.results == (
        "$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue"
    )
    assert evaluation.error is None
    failing = client.evaluate_pool_auto_scale(
        "sdkpool",
        m.BatchPoolEvaluateAutoScaleOptions(auto_scale_formula="x = $ActiveTasks.GetSample(5)"),
    )
    assert failing.error is not None and failing.error.code == "InsufficientSampleData"
    details = failing.error.error_values or []
    assert details[0].name == "Message" and "$ActiveTasks" in str(details[0].value)
    with pytest.raises(HttpResponseError) as info:
        client.evaluate_pool_auto_scale(
            "sdkpool", m.BatchPoolEvaluateAutoScaleOptions(auto_scale_formula="x = (")
        )
    assert info.value.status_code == 400

    client.disable_pool_auto_scale("sdkpool")
    assert client.get_pool("sdkpool").enable_auto_scale is False
