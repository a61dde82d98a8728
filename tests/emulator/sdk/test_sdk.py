"""Tests the emulator with the official `azure-batch` SDK over a real loopback HTTP server.

The workflow of issue 3: create a pool and wait for idle nodes, add a job with preparation and
release tasks, reboot a node that runs a task (requeue), add 250 tasks through the SDK's
`create_tasks` (add-collection in chunks of 100), wait for completion, read files with ranges
and check the task counts against the task list, with both executors.
"""

from __future__ import annotations

from typing import Any

import pytest
from azure.batch import BatchClient
from azure.batch import models as m
from azure.batch.models._models import BatchNodeRebootOptions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from tests.emulator.sdk_support import pool_options, wait_for

POOL = "sdkpool"
JOB = "sdkjob"
TASKS = 250


def create_pool(client: BatchClient) -> list[m.BatchNode]:
    client.create_pool(pool_options(POOL))
    with pytest.raises(ResourceExistsError):
        client.create_pool(pool_options(POOL.upper()))

    def idle_nodes() -> list[m.BatchNode] | None:
        nodes = list(client.list_nodes(POOL))
        ready = len(nodes) == 3 and all(n.state == m.BatchNodeState.IDLE for n in nodes)
        return nodes if ready else None

    return wait_for(idle_nodes, "three idle nodes")


def create_job(client: BatchClient) -> None:
    client.create_job(
        m.BatchJobCreateOptions(
            id=JOB,
            pool_info=m.BatchPoolInfo(pool_id=POOL),
            job_preparation_task=m.BatchJobPreparationTask(command_line="/bin/sh -c 'echo prep'"),
            job_release_task=m.BatchJobReleaseTask(command_line="/bin/sh -c 'echo release'"),
        )
    )
    job = client.get_job(JOB)
    assert job.state == m.BatchJobState.ACTIVE
    assert job.job_preparation_task is not None and job.job_preparation_task.id == "jobpreparation"


def reboot_with_requeue(client: BatchClient) -> None:
    """Reboots the node that runs a long task: the task is requeued, as `requeue` says."""
    client.create_task(
        JOB, m.BatchTaskCreateOptions(id="long", command_line="/bin/sh -c 'sleep 600'")
    )

    def running() -> m.BatchTask | None:
        task = client.get_task(JOB, "long")
        return task if task.state == m.BatchTaskState.RUNNING else None

    task = wait_for(running, "the long task to run")
    assert task.node_info is not None and task.node_info.node_id
    node_id = task.node_info.node_id
    # The 15.1 SDK keeps the reboot options model out of `models`' public names.
    options = BatchNodeRebootOptions(node_reboot_kind="requeue")
    client.begin_reboot_node(POOL, node_id, options, polling_interval=0.02).result()  # type: ignore[arg-type]

    def requeued() -> m.BatchTask | None:
        task = client.get_task(JOB, "long")
        info = task.execution_info
        return task if info is not None and info.requeue_count == 1 else None

    assert wait_for(requeued, "the long task to be requeued").state != m.BatchTaskState.COMPLETED
    wait_for(lambda: client.get_node(POOL, node_id).state != m.BatchNodeState.REBOOTING, "reboot")
    client.terminate_task(JOB, "long")
    assert client.get_task(JOB, "long").state == m.BatchTaskState.COMPLETED


def add_tasks(client: BatchClient) -> None:
    tasks = [
        m.BatchTaskCreateOptions(
            id=f"task{i:03d}",
            command_line=f"/bin/sh -c 'echo task {i}; exit {2 if i % 50 == 0 else 0}'",
        )
        for i in range(TASKS)
    ]
    result = client.create_tasks(JOB, tasks)
    assert len(result.result_values or []) == TASKS
    assert {r.status for r in result.result_values or []} == {m.BatchTaskAddStatus.SUCCESS}


def wait_for_completion(client: BatchClient) -> m.BatchTaskCountsResult:
    def done() -> m.BatchTaskCountsResult | None:
        counts = client.get_job_task_counts(JOB)
        return counts if counts.task_counts.completed == TASKS + 1 else None

    return wait_for(done, "every task to complete", timeout=90)


def check_counts(client: BatchClient, counts: m.BatchTaskCountsResult) -> None:
    tasks = list(client.list_tasks(JOB, select=["id", "state", "executionInfo"]))
    assert len(tasks) == TASKS + 1
    failed = [t.id for t in tasks if t.execution_info and t.execution_info.result == "failure"]
    assert counts.task_counts.failed == len(failed)
    assert counts.task_counts.succeeded == len(tasks) - len(failed)
    assert counts.task_counts.active == counts.task_counts.running == 0
    assert {f"task{i:03d}" for i in range(0, TASKS, 50)} <= set(failed)
    filtered = client.list_tasks(JOB, filter="executionInfo/exitCode eq 2")
    assert sorted(t.id for t in filtered) == [f"task{i:03d}" for i in range(0, TASKS, 50)]


def check_files(client: BatchClient, nodes: list[m.BatchNode]) -> None:
    names = {f.name for f in client.list_task_files(JOB, "task007")}
    assert {"stdout.txt", "stderr.txt"} <= names
    full = b"".join(client.download_task_file(JOB, "task007", "stdout.txt"))
    assert b"task 7" in full
    props = client.get_task_file_properties(JOB, "task007", "stdout.txt")
    assert props.content_length == len(full)
    head = b"".join(client.download_task_file(JOB, "task007", "stdout.txt", ocp_range="bytes=0-3"))
    assert head == full[:4]
    with pytest.raises(HttpResponseError) as info:
        b"".join(client.download_task_file(JOB, "task007", "stdout.txt",
                                           ocp_range=f"bytes={len(full)}-{len(full) + 9}"))  # fmt: skip
    assert info.value.status_code == 416
    node_files = {f.name for f in client.list_node_files(POOL, nodes[0].id, recursive=True)}
    assert "startup/stdout.txt" in node_files


def check_prep_release(client: BatchClient) -> None:
    statuses = list(client.list_job_preparation_and_release_task_status(JOB))
    assert statuses
    for status in statuses:
        assert status.pool_id == POOL
        prep = status.job_preparation_task_execution_info
        assert prep is not None and prep.state == m.BatchJobPreparationTaskState.COMPLETED


def test_sdk_workflow(client: BatchClient) -> None:
    nodes = create_pool(client)
    create_job(client)
    reboot_with_requeue(client)
    add_tasks(client)
    counts = wait_for_completion(client)
    check_counts(client, counts)
    check_files(client, nodes)
    check_prep_release(client)
    node_counts = list(client.list_pool_node_counts())
    dedicated = node_counts[0].dedicated
    assert node_counts[0].pool_id == POOL and dedicated is not None and dedicated.total == 3


def test_sdk_paging_and_errors(client: BatchClient) -> None:
    for index in range(3):
        client.create_job(
            m.BatchJobCreateOptions(id=f"job{index}", pool_info=m.BatchPoolInfo(pool_id="none"))
        )
    pages = client.list_jobs(max_results=1).by_page()
    assert [[job.id for job in page] for page in pages] == [["job0"], ["job1"], ["job2"]]
    with pytest.raises(HttpResponseError) as info:
        client.get_job("missing")
    error: Any = info.value.error
    assert info.value.status_code == 404 and error.code == "JobNotFound"
    # HEAD of a missing pool is a bodiless 404; the 15.1 SDK raises on it instead of False.
    with pytest.raises(ResourceNotFoundError):
        client.pool_exists("none")
    images = list(client.list_supported_images(filter="osType eq 'linux'"))
    assert images and {i.os_type for i in images} == {"linux"}
