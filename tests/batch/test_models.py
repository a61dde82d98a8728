"""Tests that every spec example and live recording decodes into the models, with real values."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest

from batch_tui.batch import models as m
from batch_tui.batch.models import (
    UNLIMITED,
    NodeState,
    Page,
    decode,
    decode_page,
    decoding,
    is_unlimited,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
SPEC_DIR = SHARED / "spec" / "batch-2024-07-01.20.0"
EXAMPLES = sorted((SPEC_DIR / "examples").glob("*.json"))
RECORDINGS = sorted((SHARED / "recordings").glob("*.json"))
SPEC = json.loads((SPEC_DIR / "BatchService.json").read_text())
UTC = timezone.utc


@dataclass(frozen=True)
class PageOf:
    """A list response whose items are ``item``."""

    item: type


FILE_CONTENT = "file content"
"""A body that is a file's bytes, not JSON the models read."""


@pytest.fixture(autouse=True)
def no_repairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real bodies must decode on the fast path: a repair would hide a model bug."""

    def fail(obj: Any, type_: type) -> None:
        raise AssertionError(f"a {type_} needed a repair: {obj!r:.200}")

    monkeypatch.setattr(decoding, "_repair", fail)


def decode_strictly(body: Any, kind: Any) -> Any:
    """Decode ``body`` with ``decode``/``decode_page``, and check that snapshots round-trip."""
    data = json.dumps(body).encode()
    decoded = decode_page(data, kind.item) if isinstance(kind, PageOf) else decode(data, kind)
    if not isinstance(kind, PageOf):
        assert decode(msgspec.json.encode(decoded), kind) == decoded  # snapshots round-trip
    return decoded


# --- Every example of the spec decodes ------------------------------------------------------

OPERATION_OF_EXAMPLE = {
    ref["$ref"].split("/")[-1]: op["operationId"]
    for path in SPEC["paths"].values()
    for op in path.values()
    for ref in op.get("x-ms-examples", {}).values()
}
RESPONSES: dict[str, Any] = {
    "Application_List": PageOf(m.Application),
    "Application_Get": m.Application,
    "Pool_ListUsageMetrics": PageOf(m.PoolUsageMetrics),
    "Account_ListSupportedImages": PageOf(m.SupportedImage),
    "Account_ListPoolNodeCounts": PageOf(m.PoolNodeCounts),
    "Certificate_List": PageOf(m.Certificate),
    "Certificate_Get": m.Certificate,
    "File_ListFromTask": PageOf(m.NodeFile),
    "File_ListFromComputeNode": PageOf(m.NodeFile),
    "File_GetFromTask": FILE_CONTENT,
    "File_GetFromComputeNode": FILE_CONTENT,
    "JobSchedule_Get": m.JobSchedule,
    "JobSchedule_List": PageOf(m.JobSchedule),
    "Job_Get": m.Job,
    "Job_List": PageOf(m.Job),
    "Job_ListFromJobSchedule": PageOf(m.Job),
    "Job_ListPreparationAndReleaseTaskStatus": PageOf(m.JobPrepReleaseStatus),
    "Job_GetTaskCounts": m.TaskCountsResult,
    "Pool_List": PageOf(m.Pool),
    "Pool_Get": m.Pool,
    "Pool_EvaluateAutoScale": m.AutoScaleRun,
    "Task_List": PageOf(m.Task),
    "Task_AddCollection": PageOf(m.TaskAddResult),
    "Task_Get": m.Task,
    "Task_ListSubtasks": PageOf(m.Subtask),
    "ComputeNode_Get": m.Node,
    "ComputeNode_List": PageOf(m.Node),
    "ComputeNode_GetRemoteLoginSettings": m.RemoteLoginSettings,
    "ComputeNode_UploadBatchServiceLogs": m.UploadLogsResult,
    "ComputeNodeExtension_Get": m.NodeVMExtension,
    "ComputeNodeExtension_List": PageOf(m.NodeVMExtension),
}
REQUESTS: dict[str, Any] = {
    "pool": m.Pool,
    "poolPatchParameter": m.Pool,
    "poolUpdatePropertiesParameter": m.Pool,
    "job": m.Job,
    "jobPatchParameter": m.Job,
    "jobUpdateParameter": m.Job,
    "task": m.Task,
    "taskUpdateParameter": m.Task,
    "taskCollection": PageOf(m.Task),
    "cloudJobSchedule": m.JobSchedule,
    "jobSchedulePatchParameter": m.JobSchedule,
    "jobScheduleUpdateParameter": m.JobSchedule,
    "user": m.NodeUser,
    "nodeUpdateUserParameter": m.NodeUser,
}
ACTION_BODIES = {
    "certificate",
    "jobDisableParameter",
    "jobTerminateParameter",
    "nodeDeallocateParameter",
    "nodeDisableSchedulingParameter",
    "nodeRebootParameter",
    "nodeReimageParameter",
    "nodeRemoveParameter",
    "poolEnableAutoScaleParameter",
    "poolEvaluateAutoScaleParameter",
    "poolResizeParameter",
    "uploadBatchServiceLogsConfiguration",
}
"""Request bodies of actions: parameters the client builds, not entities the models read."""


def check_node_get(node: m.Node) -> None:
    assert node.state == NodeState.IDLE and node.scheduling_state == m.SchedulingState.ENABLED
    # .4285526 has 7 digits: the 7th rounds half up into microseconds
    assert node.state_transition_time == datetime(2016, 11, 22, 19, 37, 31, 428553, UTC)
    assert node.start_task_info is not None and node.start_task_info.exit_code == 0
    assert node.is_dedicated is True and node.node_agent_info is not None


def check_job_get(job: m.Job) -> None:
    assert job.state == m.JobState.COMPLETED and job.previous_state == m.JobState.ACTIVE
    assert job.constraints is not None and is_unlimited(job.constraints.max_wall_clock_time)
    assert job.execution_info is not None and job.execution_info.terminate_reason == "UserTerminate"
    assert (
        job.max_parallel_tasks == -1 and job.on_all_tasks_complete == m.OnAllTasksComplete.NO_ACTION
    )


def check_task_get(task: m.Task) -> None:
    assert task.state == m.TaskState.ACTIVE and task.required_slots == 2
    assert task.multi_instance_settings is not None
    assert task.multi_instance_settings.number_of_instances == 3
    assert task.constraints is not None and task.constraints.retention_time == UNLIMITED


def check_task_counts(result: m.TaskCountsResult) -> None:
    assert result.task_counts == m.TaskCounts(
        active=5, running=7, completed=4, succeeded=2, failed=2
    )
    assert result.task_slot_counts.running == 7


def check_node_counts(page: Page[m.PoolNodeCounts]) -> None:
    pool1 = page.value[0]
    assert pool1.pool_id == "pool1" and pool1.low_priority is not None
    assert (pool1.low_priority.running, pool1.low_priority.starting) == (2, 1)
    assert pool1.low_priority.total == 3 and pool1.low_priority.upgrading_os == 0


def check_node_files(page: Page[m.NodeFile]) -> None:
    directory, env = page.value[0], page.value[1]
    assert directory.is_directory and directory.properties is None
    assert env.name == "startup\\ProcessEnv.cmd"
    assert env.properties is not None and env.properties.content_length == 1813


def check_subtasks(page: Page[m.Subtask]) -> None:
    assert [(s.id, s.state) for s in page.value] == [(1, "completed"), (2, "running")]
    assert page.value[0].node_info is not None and page.value[0].node_info.pool_id == "mpiPool"


def check_prep_release(page: Page[m.JobPrepReleaseStatus]) -> None:
    assert page.next_link is not None and "$skipToken=" in page.next_link
    prep = page.value[0].job_preparation_task_execution_info
    assert prep is not None and prep.state == m.TaskRunState.COMPLETED and prep.exit_code == 0


def check_exit_conditions(task: m.Task) -> None:
    assert task.exit_conditions is not None
    (mapping,) = task.exit_conditions.exit_code_ranges
    assert (mapping.start, mapping.end) == (2, 4)
    assert mapping.exit_options == m.ExitOptions(job_action="terminate")


def check_pool_get(pool: m.Pool) -> None:
    assert pool.state == m.PoolState.ACTIVE and pool.allocation_state == m.AllocationState.STEADY
    assert pool.resize_timeout == timedelta(minutes=15) and pool.task_slots_per_node == 1
    assert pool.virtual_machine_configuration is not None
    assert pool.virtual_machine_configuration.node_agent_sku_id == "batch.node.ubuntu 20.04"


def check_autoscale_run(run: m.AutoScaleRun) -> None:
    assert run.timestamp == datetime(2016, 11, 22, 19, 39, 28, 524633, UTC)
    assert run.results == "$TargetDedicated=1;$NodeDeallocationOption=requeue"


def check_remote_login(login: m.RemoteLoginSettings) -> None:
    assert login == m.RemoteLoginSettings(
        remote_login_ip_address="1.1.1.1", remote_login_port=50000
    )


CHECKS: dict[str, Callable[[Any], None]] = {
    "NodeGet_Basic": check_node_get,
    "JobGet": check_job_get,
    "TaskGet": check_task_get,
    "JobGetTaskCounts": check_task_counts,
    "AccountListPoolNodeCounts": check_node_counts,
    "FileListFromNode": check_node_files,
    "TaskListSubtasks": check_subtasks,
    "JobListPreparationAndReleaseTaskStatus": check_prep_release,
    "TaskAdd_ExitConditions": check_exit_conditions,
    "PoolGet_Basic": check_pool_get,
    "PoolEvaluateAutoscale": check_autoscale_run,
    "NodeGetRemoteLoginSettings": check_remote_login,
}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_spec_example_decodes(path: Path) -> None:
    example = json.loads(path.read_text())
    operation = OPERATION_OF_EXAMPLE[path.name]
    decoded = []
    for status, response in example["responses"].items():
        kind = RESPONSES.get(operation)
        if kind is None or not status.startswith("2"):
            assert "body" not in response, f"{operation} {status} has a body no model reads"
        elif kind == FILE_CONTENT:
            assert isinstance(response["body"], str)
        else:
            decoded.append(decode_strictly(response["body"], kind))
    for name, value in example["parameters"].items():
        if isinstance(value, dict | list):
            assert name in REQUESTS or name in ACTION_BODIES, name
            if name in REQUESTS:
                decoded.append(decode_strictly(value, REQUESTS[name]))
    if path.stem in CHECKS:
        CHECKS[path.stem](decoded[0])


# --- Every live recording decodes -----------------------------------------------------------

_NODE_OR_TASK = r"/(?:pools/[^/]+/nodes|jobs/[^/]+/tasks)/[^/]+"
ROUTES: list[tuple[str, str, Any]] = [
    ("GET", r"/pools/[^/]+/nodes", PageOf(m.Node)),
    ("GET", r"/pools/[^/]+/nodes/[^/]+/remoteloginsettings", m.RemoteLoginSettings),
    ("POST", r"/pools/[^/]+/nodes/[^/]+/users", m.NodeUser),
    ("PUT", r"/pools/[^/]+/nodes/[^/]+/users/[^/]+", m.NodeUser),
    ("GET", _NODE_OR_TASK + "/files", PageOf(m.NodeFile)),
    ("GET", _NODE_OR_TASK + "/files/.+", FILE_CONTENT),
    ("GET", r"/jobschedules", PageOf(m.JobSchedule)),
    ("POST", r"/jobschedules", m.JobSchedule),
    ("GET|PUT|PATCH", r"/jobschedules/[^/]+", m.JobSchedule),
    ("GET", r"/jobschedules/[^/]+/jobs", PageOf(m.Job)),
]


def route(method: str, uri: str) -> Any:
    """The model a recorded request or response body of ``method uri`` decodes into."""
    path = urlsplit(uri).path
    kinds = [
        kind
        for verbs, pattern, kind in ROUTES
        if method in verbs.split("|") and re.fullmatch(pattern, path)
    ]
    assert len(kinds) == 1, f"no single route for {method} {path}"
    return kinds[0]


def decode_recording(path: Path) -> list[tuple[str, Any]]:
    """Decode every body of a recording: ``(method + path, model)`` in order."""
    decoded = []
    for entry in json.loads(path.read_text())["Entries"]:
        for body in (entry["RequestBody"], entry["ResponseBody"]):
            if body is None:
                continue
            kind = route(entry["RequestMethod"], entry["RequestUri"])
            label = f"{entry['RequestMethod']} {urlsplit(entry['RequestUri']).path}"
            if kind == FILE_CONTENT:
                assert isinstance(body, list)  # the proxy stores text files as lines
            else:
                decoded.append((label, decode_strictly(body, kind)))
    return decoded


def check_node_user_recording(decoded: list[tuple[str, Any]]) -> None:
    pages = [value for label, value in decoded if label.endswith("/nodes")]
    states = [page.value[0].state for page in pages]
    assert states[0] == NodeState.CREATING and states[-1] == NodeState.IDLE
    node = pages[-1].value[0]
    assert node.vm_size == "standard_d2_v2" and node.endpoint_configuration is not None
    (ssh,) = node.endpoint_configuration.inbound_endpoints
    assert (ssh.name, ssh.frontend_port, ssh.backend_port) == ("SSHRule.0", 50000, 22)
    users = [value for _, value in decoded if isinstance(value, m.NodeUser)]
    assert users[0].name == "BatchPythonSDKUser" and users[0].is_admin is False
    (login,) = [value for _, value in decoded if isinstance(value, m.RemoteLoginSettings)]
    assert login.remote_login_port == 50000


def check_files_recording(decoded: list[tuple[str, Any]]) -> None:
    node_files, task_files = (value.value for _, value in decoded)
    assert all(f.properties is None for f in node_files if f.is_directory)
    stdout = next(f for f in task_files if f.name == "stdout.txt")
    assert stdout.properties is not None
    assert stdout.properties.content_length == 13  # sent as the JSON string "13"
    assert stdout.properties.content_type == "text/plain"
    assert any("\\test_task\\stderr.txt" in f.name for f in node_files)


def check_job_schedule_recording(decoded: list[tuple[str, Any]]) -> None:
    created = decoded[0][1]
    assert created.schedule.start_window == timedelta(hours=1)  # sent as PT01H00M00S
    got = next(value for label, value in decoded if label.startswith("GET /jobschedules/"))
    assert got.state == m.JobScheduleState.ACTIVE
    assert got.last_modified == datetime(2023, 9, 6, 12, 44, 9, 663398, UTC)
    spec = got.job_specification
    assert spec.constraints.max_wall_clock_time == UNLIMITED and spec.max_parallel_tasks == -1
    assert got.execution_info.recent_job.id == "batch_schedule_5dce22e9:job-1"
    (jobs,) = [value for label, value in decoded if label.endswith("/jobs")]
    assert jobs.value[0].id == "batch_schedule_5dce22e9:job-1"


RECORDING_CHECKS = {
    "compute_node_user": check_node_user_recording,
    "files": check_files_recording,
    "job_schedules": check_job_schedule_recording,
}


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.name)
def test_recording_decodes(path: Path) -> None:
    decoded = decode_recording(path)
    assert decoded
    name = re.search(r"test_batch_(\w+)\[", path.name)
    assert name is not None
    RECORDING_CHECKS[name[1]](decoded)


def test_all_recordings_are_checked() -> None:
    assert len(RECORDINGS) == len(RECORDING_CHECKS) == 3
