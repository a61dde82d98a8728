"""Tests the emulator with the Azure CLI 2.91 (`az batch`) over a real loopback HTTP server.

Each test runs `az batch` commands in a subprocess, signed with the account's shared key
(`--account-name/--account-key/--account-endpoint`, no `az login`), against a fresh emulator
that runs tasks as real processes. The `az` comes from `BATCH_TUI_AZ` or is installed once per
run (`tests/emulator/azcli/support.py` says how and what it costs).

az 2.91 sends the integers of some flags as JSON strings (`"targetDedicatedNodes": "1"`): its
arguments carry no type, and the SDK serialises the string as it is. The tests of those flags
are expected to fail until the emulator reads numeric strings as the service does (issue 14,
item 7); a pool that needs nodes meanwhile comes from `--json-file`, whose numbers stay numbers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.azcli.support import (
    AZ_VERSION,
    AzBatch,
    AzFailed,
    AzUnavailable,
    az_version,
    shared_az,
)
from tests.emulator.sdk_support import wait_for
from tests.emulator.support import ACCOUNT, KEY

pytestmark = [
    pytest.mark.azcli,
    pytest.mark.parametrize("endpoint", ["local"], indirect=True),
]

POOL = "azpool"
JOB = "azjob"
IMAGE = "canonical:0001-com-ubuntu-server-jammy:22_04-lts"
POOL_FLAGS = ("--vm-size", "standard_d2s_v3", "--image", IMAGE)
AGENT = ("--node-agent-sku-id", "batch.node.ubuntu 22.04")


@pytest.fixture(scope="session")
def az_executable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An `az` of `AZ_VERSION`: `BATCH_TUI_AZ`, or one installed for this run. These tests run
    only when asked for (`-m azcli`), so an `az` that cannot be had fails them, saying why."""
    config = tmp_path_factory.mktemp("azure-config")
    given = os.environ.get("BATCH_TUI_AZ")
    if given:
        version = az_version(Path(given), config)
        assert version == AZ_VERSION, f"BATCH_TUI_AZ={given} is azure-cli {version}"
        return Path(given)
    if reason := os.environ.get("BATCH_TUI_AZ_UNAVAILABLE"):
        pytest.fail(f"azure-cli {AZ_VERSION} could not be installed: {reason}")
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the folder of this run, above each worker's own
    try:
        return shared_az(shared)
    except AzUnavailable as error:
        pytest.fail(f"azure-cli {AZ_VERSION} could not be installed: {error}")


@pytest.fixture
def az(az_executable: Path, endpoint: str, tmp_path: Path) -> AzBatch:
    """`az batch` against the test's emulator, with a config folder of its own."""
    return AzBatch(az_executable, tmp_path / "azure-config", endpoint, ACCOUNT, KEY)


def pool_with_nodes(az: AzBatch, folder: Path, nodes: int) -> list[dict[str, Any]]:
    """Creates `POOL` of `nodes` dedicated nodes from a JSON file and waits for them idle."""
    body = {
        "id": POOL,
        "vmSize": "standard_d2s_v3",
        "targetDedicatedNodes": nodes,
        "virtualMachineConfiguration": {
            "imageReference": {
                "publisher": "canonical",
                "offer": "0001-com-ubuntu-server-jammy",
                "sku": "22_04-lts",
            },
            "nodeAgentSKUId": "batch.node.ubuntu 22.04",
        },
    }
    path = folder / "pool.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    assert az("pool", "create", "--json-file", str(path)) is None
    return idle_nodes(az, nodes)


def idle_nodes(az: AzBatch, count: int) -> list[dict[str, Any]]:
    """Waits until `az batch node list` shows `count` nodes of `POOL`, all idle."""

    def probe() -> list[dict[str, Any]] | None:
        nodes: list[dict[str, Any]] = az("node", "list", "--pool-id", POOL)
        return nodes if len(nodes) == count and all(n["state"] == "idle" for n in nodes) else None

    return wait_for(probe, f"{count} idle nodes in {POOL}")


def completed(az: AzBatch, task_id: str) -> dict[str, Any]:
    """Waits until `az batch task show` shows the task completed, and returns it."""

    def probe() -> dict[str, Any] | None:
        task: dict[str, Any] = az("task", "show", "--job-id", JOB, "--task-id", task_id)
        return task if task["state"] == "completed" else None

    return wait_for(probe, f"task {task_id} to complete")


def test_pool_create_show_list_and_delete(az: AzBatch) -> None:
    assert az("pool", "create", "--id", POOL, *POOL_FLAGS, *AGENT) is None

    pool = az("pool", "show", "--pool-id", POOL)
    assert (pool["id"], pool["vmSize"], pool["state"]) == (POOL, "standard_d2s_v3", "active")
    assert pool["targetDedicatedNodes"] == 0
    image = pool["virtualMachineConfiguration"]["imageReference"]
    assert (image["publisher"], image["offer"], image["sku"]) == tuple(IMAGE.split(":"))
    assert [p["id"] for p in az("pool", "list")] == [POOL]

    assert az("pool", "delete", "--pool-id", POOL, "--yes") is None
    wait_for(lambda: az("pool", "list") == [], "the pool to go")
    with pytest.raises(AzFailed, match="PoolNotFound"):
        az("pool", "show", "--pool-id", POOL)


def test_a_pool_from_a_json_file_gets_its_nodes(az: AzBatch, tmp_path: Path) -> None:
    nodes = pool_with_nodes(az, tmp_path, 2)

    assert {n["vmSize"] for n in nodes} == {"standard_d2s_v3"}
    assert az("pool", "show", "--pool-id", POOL)["currentDedicatedNodes"] == 2


def test_pool_create_with_target_dedicated_nodes(az: AzBatch) -> None:
    az("pool", "create", "--id", POOL, *POOL_FLAGS, *AGENT, "--target-dedicated-nodes", "1")

    assert az("pool", "show", "--pool-id", POOL)["targetDedicatedNodes"] == 1
    idle_nodes(az, 1)


def test_pool_resize(az: AzBatch, tmp_path: Path) -> None:
    pool_with_nodes(az, tmp_path, 1)

    az("pool", "resize", "--pool-id", POOL, "--target-dedicated-nodes", "3")

    assert az("pool", "show", "--pool-id", POOL)["targetDedicatedNodes"] == 3
    idle_nodes(az, 3)
    assert az("pool", "show", "--pool-id", POOL)["allocationState"] == "steady"


def test_job_create_show_and_list(az: AzBatch) -> None:
    az("pool", "create", "--id", POOL, *POOL_FLAGS, *AGENT)

    assert az("job", "create", "--id", JOB, "--pool-id", POOL) is None

    job = az("job", "show", "--job-id", JOB)
    assert (job["state"], job["poolInfo"]["poolId"], job["priority"]) == ("active", POOL, 0)
    assert [(j["id"], j["state"]) for j in az("job", "list")] == [(JOB, "active")]


def test_job_set_priority(az: AzBatch) -> None:
    az("pool", "create", "--id", POOL, *POOL_FLAGS, *AGENT)
    az("job", "create", "--id", JOB, "--pool-id", POOL)

    az("job", "set", "--job-id", JOB, "--priority", "50")

    assert az("job", "show", "--job-id", JOB)["priority"] == 50
    assert [j["priority"] for j in az("job", "list")] == [50]


def test_task_create_list_show_and_download_its_output(az: AzBatch, tmp_path: Path) -> None:
    [node] = pool_with_nodes(az, tmp_path, 1)
    az("job", "create", "--id", JOB, "--pool-id", POOL)

    line = "/bin/sh -c 'echo hello from az'"
    created = az("task", "create", "--job-id", JOB, "--task-id", "hello", "--command-line", line)

    assert (created["id"], created["commandLine"]) == ("hello", line)
    task = completed(az, "hello")
    assert (task["executionInfo"]["exitCode"], task["executionInfo"]["result"]) == (0, "success")
    assert task["nodeInfo"]["nodeId"] == node["id"]
    assert [t["id"] for t in az("task", "list", "--job-id", JOB)] == ["hello"]

    out = tmp_path / "stdout.txt"
    task_file = ("--job-id", JOB, "--task-id", "hello", "--file-path", "stdout.txt")
    az("task", "file", "download", *task_file, "--destination", str(out))
    assert out.read_text() == "hello from az\n"

    on_node = f"{task['nodeInfo']['taskRootDirectory']}/stdout.txt"
    node_file = ("--pool-id", POOL, "--node-id", node["id"], "--file-path", on_node)
    az("node", "file", "download", *node_file, "--destination", str(tmp_path / "node.txt"))
    assert (tmp_path / "node.txt").read_text() == "hello from az\n"


def test_task_create_with_max_task_retry_count(az: AzBatch, tmp_path: Path) -> None:
    pool_with_nodes(az, tmp_path, 1)
    az("job", "create", "--id", JOB, "--pool-id", POOL)

    line = "/bin/sh -c 'exit 3'"
    retried = ("--max-task-retry-count", "2")
    az("task", "create", "--job-id", JOB, "--task-id", "fails", "--command-line", line, *retried)

    task = completed(az, "fails")
    assert task["constraints"]["maxTaskRetryCount"] == 2
    assert (task["executionInfo"]["exitCode"], task["executionInfo"]["retryCount"]) == (3, 2)


def test_node_list_and_scheduling(az: AzBatch, tmp_path: Path) -> None:
    [node] = pool_with_nodes(az, tmp_path, 1)
    on_node = ("--pool-id", POOL, "--node-id", node["id"])

    az("node", "scheduling", "disable", *on_node)
    assert az("node", "show", *on_node)["schedulingState"] == "disabled"
    az("node", "scheduling", "enable", *on_node)
    assert az("node", "show", *on_node)["schedulingState"] == "enabled"

    # az's own quirk: --node-disable-scheduling-option nests the option in an object of its
    # own name ({"nodeDisableSchedulingOption": {"nodeDisableSchedulingOption": "requeue"}}).
    # That body is an error (issue 14 item 7 asks for a clearer one); the node stays as it was.
    with pytest.raises(AzFailed, match="nodeDisableSchedulingOption"):
        az("node", "scheduling", "disable", *on_node, "--node-disable-scheduling-option", "requeue")
    assert az("node", "show", *on_node)["schedulingState"] == "enabled"
