"""Tests that the models have exactly the spec's fields, types and enum values."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import msgspec
import pytest

from batch_tui.batch import models as m
from batch_tui.batch.models import NodeState

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO_ROOT.parent / "shared" / "spec" / "batch-2024-07-01.20.0" / "BatchService.json"
DEFINITIONS: dict[str, Any] = json.loads(SPEC_PATH.read_text())["definitions"]


SPEC_NAMES: dict[type, str] = {
    m.AffinityInfo: "AffinityInformation",
    m.Application: "ApplicationSummary",
    m.ContainerBindMount: "ContainerHostBatchBindMountEntry",
    m.ContainerExecutionInfo: "TaskContainerExecutionInformation",
    m.ErrorBody: "BatchError",
    m.ErrorDetail: "BatchErrorDetail",
    m.ExtensionInstanceView: "VMExtensionInstanceView",
    m.IdentityReference: "ComputeNodeIdentityReference",
    m.Job: "CloudJob",
    m.JobExecutionInfo: "JobExecutionInformation",
    m.JobPrepReleaseStatus: "JobPreparationAndReleaseTaskExecutionInformation",
    m.JobPreparationTaskExecutionInfo: "JobPreparationTaskExecutionInformation",
    m.JobReleaseTaskExecutionInfo: "JobReleaseTaskExecutionInformation",
    m.JobSchedule: "CloudJobSchedule",
    m.JobScheduleExecutionInfo: "JobScheduleExecutionInformation",
    m.Node: "ComputeNode",
    m.NodeAgentInfo: "NodeAgentInformation",
    m.NodeEndpointConfiguration: "ComputeNodeEndpointConfiguration",
    m.NodeError: "ComputeNodeError",
    m.NodeInfo: "ComputeNodeInformation",
    m.NodeUser: "ComputeNodeUser",
    m.Pool: "CloudPool",
    m.PoolIdentity: "BatchPoolIdentity",
    m.RecentTask: "TaskInformation",
    m.RemoteLoginSettings: "ComputeNodeGetRemoteLoginSettingsResult",
    m.StartTaskInfo: "StartTaskInformation",
    m.Subtask: "SubtaskInformation",
    m.SupportedImage: "ImageInformation",
    m.Task: "CloudTask",
    m.TaskExecutionInfo: "TaskExecutionInformation",
    m.TaskFailureInfo: "TaskFailureInformation",
    m.UploadLogsResult: "UploadBatchServiceLogsResult",
}
SECRETS: dict[type, set[str]] = {
    m.ContainerRegistry: {"password"},
    m.UserAccount: {"password"},
    m.LinuxUserConfiguration: {"sshPrivateKey"},
    m.AzureBlobFileSystemConfiguration: {"accountKey", "sasKey"},
    m.CIFSMountConfiguration: {"password"},
    m.AzureFileShareConfiguration: {"accountKey"},
    m.VMExtension: {"protectedSettings"},
}
NOT_IN_SPEC = {m.BatchModel, m.FileInfo}
MODELS = sorted(
    (
        obj
        for obj in vars(m).values()
        if isinstance(obj, type) and issubclass(obj, m.BatchModel) and obj not in NOT_IN_SPEC
    ),
    key=lambda model: model.__name__,
)
KINDS = {
    msgspec.inspect.IntType: "integer",
    msgspec.inspect.FloatType: "number",
    msgspec.inspect.BoolType: "boolean",
    msgspec.inspect.StrType: "string",
    msgspec.inspect.DateTimeType: "date-time",
    msgspec.inspect.TimeDeltaType: "duration",
    msgspec.inspect.VarTupleType: "array",
    msgspec.inspect.StructType: "object",
    msgspec.inspect.DictType: "object",
}


def spec_kind(prop: dict[str, Any]) -> str:
    """The kind of a spec property, in the vocabulary of ``KINDS``."""
    if "$ref" in prop:
        return spec_kind(DEFINITIONS[prop["$ref"].split("/")[-1]])
    if prop.get("format") in ("date-time", "duration"):
        return str(prop["format"])
    return "object" if "properties" in prop else str(prop.get("type", "object"))


def model_kinds(info: msgspec.inspect.Type) -> set[str]:
    """The kinds a model field's type accepts, ignoring ``| None``."""
    types = info.types if isinstance(info, msgspec.inspect.UnionType) else (info,)
    return {KINDS[type(t)] for t in types if not isinstance(t, msgspec.inspect.NoneType)}


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_model_has_exactly_the_spec_fields_with_their_types(model: type) -> None:
    definition = DEFINITIONS[SPEC_NAMES.get(model, model.__name__)]
    info = msgspec.inspect.type_info(model)
    assert isinstance(info, msgspec.inspect.StructType)
    wire = {field.encode_name: field for field in info.fields}
    assert set(wire) == set(definition["properties"]) - SECRETS.get(model, set())
    for name, field in wire.items():
        assert spec_kind(definition["properties"][name]) in model_kinds(field.type), name


def test_job_schedule_statistics_share_the_job_statistics_model() -> None:
    names = {field.encode_name for field in msgspec.structs.fields(m.JobStatistics)}
    assert names == set(DEFINITIONS["JobScheduleStatistics"]["properties"])


def spec_enum(definition: str, prop: str | None = None) -> set[str]:
    """The values of a spec enum, given directly or as a property of a definition."""
    node = DEFINITIONS[definition]
    if prop is not None:
        node = node["properties"][prop]
        node = DEFINITIONS[node["$ref"].split("/")[-1]] if "$ref" in node else node
    return set(node["enum"])


CONSTANTS: list[tuple[type[Enum], str, str | None]] = [
    (m.PoolState, "CloudPool", "state"),
    (m.AllocationState, "CloudPool", "allocationState"),
    (m.NodeState, "ComputeNode", "state"),
    (m.SchedulingState, "ComputeNode", "schedulingState"),
    (m.JobState, "JobState", None),
    (m.TaskState, "TaskState", None),
    (m.SubtaskState, "SubtaskState", None),
    (m.TaskRunState, "StartTaskInformation", "state"),
    (m.JobScheduleState, "JobScheduleState", None),
    (m.TaskExecutionResult, "TaskExecutionResult", None),
    (m.ErrorCategory, "ErrorCategory", None),
    (m.NodeDeallocationOption, "ComputeNodeDeallocationOption", None),
    (m.NodeRebootOption, "NodeRebootParameter", "nodeRebootOption"),
    (m.NodeReimageOption, "NodeReimageParameter", "nodeReimageOption"),
    (m.NodeDeallocateOption, "NodeDeallocateParameter", "nodeDeallocateOption"),
    (m.DisableSchedulingOption, "NodeDisableSchedulingParameter", "nodeDisableSchedulingOption"),
    (m.DisableJobOption, "JobDisableParameter", "disableTasks"),
    (m.OnAllTasksComplete, "OnAllTasksComplete", None),
    (m.OnTaskFailure, "OnTaskFailure", None),
    (m.TaskAddStatus, "TaskAddResult", "status"),
]


@pytest.mark.parametrize(
    ("constants", "definition", "prop"), CONSTANTS, ids=[c.__name__ for c, _, _ in CONSTANTS]
)
def test_constants_are_the_spec_enum(constants: type[Enum], definition: str, prop: str) -> None:
    assert {member.value for member in constants} == spec_enum(definition, prop)


def test_constants_compare_and_format_as_plain_strings() -> None:
    assert len(NodeState) == 16
    state: str = "idle"  # as decoded: a plain str
    assert (
        state == NodeState.IDLE and NodeState.IDLE == state and NodeState(state) is NodeState.IDLE
    )
    assert f"state eq '{NodeState.START_TASK_FAILED}'" == "state eq 'starttaskfailed'"
    assert str(m.NodeRebootOption.TASK_COMPLETION) == "taskcompletion"
    assert msgspec.json.encode({"o": m.DisableJobOption.WAIT}) == b'{"o":"wait"}'
