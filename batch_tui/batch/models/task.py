"""Tasks: ``CloudTask`` with execution, failure, constraints, dependencies and exit conditions."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from batch_tui.batch.models.common import (
    ApplicationPackageReference,
    AuthenticationTokenSettings,
    BatchModel,
    ContainerExecutionInfo,
    EnvironmentSetting,
    OutputFile,
    ResourceFile,
    TaskConstraints,
    TaskContainerSettings,
    TaskFailureInfo,
    UserIdentity,
)
from batch_tui.batch.models.errors import ErrorBody


class ExitOptions(BatchModel, frozen=True, kw_only=True):
    """``ExitOptions``: ``job_action`` (``none|disable|terminate``) and
    ``dependency_action`` (``satisfy|block``)."""

    job_action: str | None = None
    dependency_action: str | None = None


class ExitCodeMapping(BatchModel, frozen=True, kw_only=True):
    """``ExitCodeMapping``: what to do when a task exits with ``code``."""

    code: int = 0
    exit_options: ExitOptions | None = None


class ExitCodeRangeMapping(BatchModel, frozen=True, kw_only=True):
    """``ExitCodeRangeMapping``: what to do for exit codes ``start..end`` inclusive."""

    start: int = 0
    end: int = 0
    exit_options: ExitOptions | None = None


class ExitConditions(BatchModel, frozen=True, kw_only=True):
    """``ExitConditions``: how the service reacts to a task's completion."""

    exit_codes: tuple[ExitCodeMapping, ...] = ()
    exit_code_ranges: tuple[ExitCodeRangeMapping, ...] = ()
    pre_processing_error: ExitOptions | None = None
    file_upload_error: ExitOptions | None = None
    default: ExitOptions | None = None


class AffinityInfo(BatchModel, frozen=True, kw_only=True):
    """``AffinityInformation``: the node a task prefers."""

    affinity_id: str = ""


class TaskExecutionInfo(BatchModel, frozen=True, kw_only=True):
    """``TaskExecutionInformation``; ``result`` is a ``TaskExecutionResult``."""

    start_time: datetime | None = None
    end_time: datetime | None = None
    exit_code: int | None = None
    container_info: ContainerExecutionInfo | None = None
    failure_info: TaskFailureInfo | None = None
    retry_count: int = 0
    last_retry_time: datetime | None = None
    requeue_count: int = 0
    last_requeue_time: datetime | None = None
    result: str | None = None


class NodeInfo(BatchModel, frozen=True, kw_only=True):
    """``ComputeNodeInformation``: the node a task (or subtask) ran on."""

    affinity_id: str | None = None
    node_url: str | None = None
    pool_id: str | None = None
    node_id: str | None = None
    task_root_directory: str | None = None
    task_root_directory_url: str | None = None


class MultiInstanceSettings(BatchModel, frozen=True, kw_only=True):
    """``MultiInstanceSettings`` of an MPI-style task."""

    number_of_instances: int | None = None
    coordination_command_line: str = ""
    common_resource_files: tuple[ResourceFile, ...] = ()


class TaskStatistics(BatchModel, frozen=True, kw_only=True):
    """``TaskStatistics`` (``$expand=stats``)."""

    url: str = ""
    start_time: datetime | None = None
    last_update_time: datetime | None = None
    user_cpu_time: timedelta | None = msgspec.field(default=None, name="userCPUTime")
    kernel_cpu_time: timedelta | None = msgspec.field(default=None, name="kernelCPUTime")
    wall_clock_time: timedelta | None = None
    read_iops: int = msgspec.field(default=0, name="readIOps")
    write_iops: int = msgspec.field(default=0, name="writeIOps")
    read_io_gib: float = msgspec.field(default=0.0, name="readIOGiB")
    write_io_gib: float = msgspec.field(default=0.0, name="writeIOGiB")
    wait_time: timedelta | None = None


class TaskIdRange(BatchModel, frozen=True, kw_only=True):
    """``TaskIdRange``: task ids ``start..end`` inclusive."""

    start: int = 0
    end: int = 0


class TaskDependencies(BatchModel, frozen=True, kw_only=True):
    """``TaskDependencies``: the tasks that must complete before this one runs."""

    task_ids: tuple[str, ...] = ()
    task_id_ranges: tuple[TaskIdRange, ...] = ()


class Task(BatchModel, frozen=True, kw_only=True):
    """``CloudTask``; ``state`` and ``previous_state`` are ``TaskState`` values."""

    id: str = ""
    display_name: str | None = None
    url: str = ""
    e_tag: str | None = None
    last_modified: datetime | None = None
    creation_time: datetime | None = None
    exit_conditions: ExitConditions | None = None
    state: str = ""
    state_transition_time: datetime | None = None
    previous_state: str | None = None
    previous_state_transition_time: datetime | None = None
    command_line: str = ""
    container_settings: TaskContainerSettings | None = None
    resource_files: tuple[ResourceFile, ...] = ()
    output_files: tuple[OutputFile, ...] = ()
    environment_settings: tuple[EnvironmentSetting, ...] = ()
    affinity_info: AffinityInfo | None = None
    constraints: TaskConstraints | None = None
    required_slots: int = 1
    user_identity: UserIdentity | None = None
    execution_info: TaskExecutionInfo | None = None
    node_info: NodeInfo | None = None
    multi_instance_settings: MultiInstanceSettings | None = None
    stats: TaskStatistics | None = None
    depends_on: TaskDependencies | None = None
    application_package_references: tuple[ApplicationPackageReference, ...] = ()
    authentication_token_settings: AuthenticationTokenSettings | None = None


class Subtask(BatchModel, frozen=True, kw_only=True):
    """``SubtaskInformation``: one instance of a multi-instance task (``SubtaskState``)."""

    id: int = 0
    node_info: NodeInfo | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    exit_code: int | None = None
    container_info: ContainerExecutionInfo | None = None
    failure_info: TaskFailureInfo | None = None
    state: str = ""
    state_transition_time: datetime | None = None
    previous_state: str | None = None
    previous_state_transition_time: datetime | None = None
    result: str | None = None


class TaskAddResult(BatchModel, frozen=True, kw_only=True):
    """``TaskAddResult``: the outcome of one task in ``addtaskcollection`` (``TaskAddStatus``)."""

    status: str = ""
    task_id: str = ""
    e_tag: str | None = None
    last_modified: datetime | None = None
    location: str | None = None
    error: ErrorBody | None = None
