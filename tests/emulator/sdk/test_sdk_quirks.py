"""Pins the official SDK 15.1's own quirks, which the service does not cause (README, "The
emulator": client quirks), so that we notice when the SDK fixes them.

- `pool_exists` raises `ResourceNotFoundError` for a missing pool instead of returning False:
  the service answers the HEAD 404, as it should, and the SDK's error policy raises on any
  non-2xx before the operation, which lists 404 as a result, sees it.
- `begin_reboot_node` and `begin_terminate_job` take their options as optional, but without
  them, or with an empty options model (which is falsy), the request cannot even be built
  (`ValueError: No value for given attribute`, for its content-type header), so nothing is sent.
  With an option set they work.
"""

from __future__ import annotations

import pytest
from azure.batch import BatchClient
from azure.batch import models as m
from azure.batch.models._models import BatchJobTerminateOptions, BatchNodeRebootOptions
from azure.core.exceptions import ResourceNotFoundError

from tests.emulator.sdk_support import pool_options, wait_for

pytestmark = pytest.mark.parametrize("endpoint", ["simulated"], indirect=True)

POOL = "quirkpool"
JOB = "quirkjob"


def test_pool_exists_raises_on_a_missing_pool(client: BatchClient) -> None:
    with pytest.raises(ResourceNotFoundError) as raised:
        client.pool_exists("no-such-pool")

    assert raised.value.status_code == 404
    client.create_pool(pool_options(POOL))
    assert client.pool_exists(POOL) is True


def test_begin_reboot_node_needs_an_options_body(client: BatchClient) -> None:
    client.create_pool(pool_options(POOL))
    node = wait_for(
        lambda: next(
            (n for n in client.list_nodes(POOL) if n.state == m.BatchNodeState.IDLE), None
        ),
        "an idle node",
    )

    for missing in (None, BatchNodeRebootOptions()):
        with pytest.raises(ValueError, match="No value for given attribute"):
            client.begin_reboot_node(POOL, node.id, missing)
    assert client.get_node(POOL, node.id).last_boot_time == node.last_boot_time

    options = BatchNodeRebootOptions(node_reboot_kind="requeue")
    client.begin_reboot_node(POOL, node.id, options, polling_interval=0.02).result()  # type: ignore[arg-type]
    # The poller ends once the node has left `rebooting`; its start task may still be running.
    rebooted = wait_for(
        lambda: next(
            (n for n in [client.get_node(POOL, node.id)] if n.state == m.BatchNodeState.IDLE),
            None,
        ),
        "the rebooted node to be idle",
    )
    assert rebooted.last_boot_time > node.last_boot_time


def test_begin_terminate_job_needs_an_options_body(client: BatchClient) -> None:
    client.create_pool(pool_options(POOL))
    client.create_job(m.BatchJobCreateOptions(id=JOB, pool_info=m.BatchPoolInfo(pool_id=POOL)))

    for missing in (None, BatchJobTerminateOptions()):
        with pytest.raises(ValueError, match="No value for given attribute"):
            client.begin_terminate_job(JOB, missing)
    assert client.get_job(JOB).state == m.BatchJobState.ACTIVE

    options = BatchJobTerminateOptions(termination_reason="UserTerminate")
    client.begin_terminate_job(JOB, options, polling_interval=0.02).result()  # type: ignore[arg-type]
    job = client.get_job(JOB)
    assert job.state == m.BatchJobState.COMPLETED
    assert job.execution_info is not None
    assert job.execution_info.termination_reason == "UserTerminate"
