"""Tests multi-instance tasks, node users, remote login, extensions and spot preemption with the
official `azure-batch` SDK over a real loopback port.

The server and client fixtures are `tests/fixtures/sdk.py`'s. Multi-instance tasks run with both
executors (real processes see their host list); the rest does not depend on the executor.
"""

from __future__ import annotations

import httpx
import pytest
from azure.batch import BatchClient
from azure.batch import models as m
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from tests.emulator.sdk_support import pool_options, wait_for
from tests.emulator.shared_key import SharedKeyAuth
from tests.emulator.support import ACCOUNT, KEY


def ready_pool(client: BatchClient, options: m.BatchPoolCreateOptions) -> list[m.BatchNode]:
    """Creates a pool and waits until all its nodes are idle."""
    client.create_pool(options)
    count = (options.target_dedicated_nodes or 0) + (options.target_low_priority_nodes or 0)

    def idle() -> list[m.BatchNode] | None:
        nodes = list(client.list_nodes(options.id))
        ready = len(nodes) == count and all(n.state == m.BatchNodeState.IDLE for n in nodes)
        return nodes if ready else None

    return wait_for(idle, f"{count} idle nodes in {options.id}")


def completed(client: BatchClient, job_id: str, task_id: str) -> m.BatchTask:
    def probe() -> m.BatchTask | None:
        task = client.get_task(job_id, task_id)
        return task if task.state == m.BatchTaskState.COMPLETED else None

    return wait_for(probe, f"{task_id} to complete")


@pytest.mark.parametrize("endpoint", ["simulated", "local"], indirect=True)
def test_sdk_multi_instance_task_and_its_subtasks(
    client: BatchClient,
    request: pytest.FixtureRequest,
) -> None:
    nodes = ready_pool(client, pool_options("mipool"))  # three nodes
    client.create_job(
        m.BatchJobCreateOptions(id="mijob", pool_info=m.BatchPoolInfo(pool_id="mipool"))
    )
    settings = m.MultiInstanceSettings(
        number_of_instances=3, coordination_command_line="/bin/sh -c 'echo coordinating'"
    )
    client.create_task(
        "mijob",
        m.BatchTaskCreateOptions(
            id="mpi",
            command_line="/bin/sh -c 'echo \"hosts $AZ_BATCH_HOST_LIST\"'",
            multi_instance_settings=settings,
        ),
    )
    task = completed(client, "mijob", "mpi")
    assert task.execution_info is not None and task.execution_info.result == "success"
    assert task.multi_instance_settings is not None
    assert task.multi_instance_settings.number_of_instances == 3

    subtasks = sorted(client.list_subtasks("mijob", "mpi"), key=lambda s: s.id or 0)
    assert [s.id for s in subtasks] == [1, 2]
    for subtask in subtasks:
        assert subtask.state == m.BatchSubtaskState.COMPLETED
        assert subtask.exit_code == 0 and subtask.result == "success"
        assert subtask.node_info is not None and subtask.node_info.pool_id == "mipool"
        assert subtask.node_info.task_root_directory == f"workitems/mijob/job-1/mpi/{subtask.id}"
        assert subtask.start_time is not None and subtask.end_time is not None
    assert task.node_info is not None
    used = [task.node_info.node_id, *(s.node_info.node_id for s in subtasks if s.node_info)]
    assert sorted(map(str, used)) == sorted(str(n.id) for n in nodes)  # one instance per node

    if request.node.callspec.params["endpoint"] == "local":
        out = b"".join(client.download_task_file("mijob", "mpi", "stdout.txt")).decode()
        hosts = out.removeprefix("hosts ").strip().split(",")
        assert sorted(hosts) == sorted(n.ip_address for n in nodes)


@pytest.mark.parametrize("endpoint", ["simulated"], indirect=True)
def test_sdk_node_users_remote_login_and_extensions(client: BatchClient) -> None:
    options = pool_options("userpool")
    options.target_dedicated_nodes = 1
    assert options.virtual_machine_configuration is not None
    options.virtual_machine_configuration.extensions = [
        m.VMExtension(
            name="health",
            publisher="Microsoft.ManagedServices",
            type="ApplicationHealthLinux",
            type_handler_version="1.0",
            protected_settings={"token": "do-not-echo"},
        )
    ]
    node = ready_pool(client, options)[0]
    assert node.id is not None

    alice = m.BatchNodeUserCreateOptions(name="alice", is_admin=True, password="S3cret-pass")
    client.create_node_user("userpool", node.id, alice)
    with pytest.raises(ResourceExistsError):
        client.create_node_user("userpool", node.id, alice)
    client.replace_node_user(
        "userpool", node.id, "alice", m.BatchNodeUserReplaceOptions(password="N3w-pass")
    )
    login = client.get_node_remote_login_settings("userpool", node.id)
    assert (login.remote_login_ip_address, login.remote_login_port) == ("127.0.0.1", 50000)
    client.delete_node_user("userpool", node.id, "alice")
    with pytest.raises(ResourceNotFoundError):
        client.delete_node_user("userpool", node.id, "alice")

    extensions = list(client.list_node_extensions("userpool", node.id))
    assert [e.vm_extension.name for e in extensions if e.vm_extension] == [
        "batchNodeExtension",
        "health",
    ]
    health = client.get_node_extension("userpool", node.id, "health")
    assert health.provisioning_state == "Succeeded"
    assert health.instance_view is not None and health.instance_view.statuses
    assert health.instance_view.statuses[0].level == "Info"
    assert health.vm_extension is not None and health.vm_extension.protected_settings is None


@pytest.mark.parametrize("endpoint", ["simulated"], indirect=True)
def test_sdk_sees_a_preempted_spot_node_and_its_requeued_task(
    client: BatchClient,
    endpoint: str,
) -> None:
    options = pool_options("spotpool")
    options.target_dedicated_nodes = 0
    options.target_low_priority_nodes = 2
    ready_pool(client, options)
    client.create_job(
        m.BatchJobCreateOptions(id="spotjob", pool_info=m.BatchPoolInfo(pool_id="spotpool"))
    )
    client.create_task(
        "spotjob", m.BatchTaskCreateOptions(id="long", command_line="/bin/sh -c 'sleep 600'")
    )

    def running() -> m.BatchTask | None:
        task = client.get_task("spotjob", "long")
        return task if task.state == m.BatchTaskState.RUNNING else None

    first = wait_for(running, "the long task to run").node_info
    assert first is not None and first.node_id is not None
    body = {"nodeIds": [first.node_id], "recoverAfter": 3600}
    url, auth = f"{endpoint}/_emulator/pools/spotpool/preempt", SharedKeyAuth(ACCOUNT, KEY)
    answer = httpx.post(url, json=body, auth=auth, timeout=10)
    assert answer.status_code == 200 and answer.json()["preempted"] == [first.node_id]

    node = client.get_node("spotpool", first.node_id)
    assert node.state == m.BatchNodeState.PREEMPTED and node.is_dedicated is False
    counts = {c.pool_id: c for c in client.list_pool_node_counts()}
    spot = counts["spotpool"].low_priority
    assert spot is not None and (spot.preempted, spot.total) == (1, 2)
    assert client.get_pool("spotpool").current_low_priority_nodes == 2

    def moved() -> m.BatchTask | None:
        task = running()
        info = task.execution_info if task else None
        return task if task and info and info.requeue_count == 1 else None

    again = wait_for(moved, "the task to run again elsewhere").node_info
    assert again is not None and again.node_id != first.node_id
    client.terminate_task("spotjob", "long")
