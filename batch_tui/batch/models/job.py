"""Jobs: ``CloudJob`` with constraints, execution info, manager/prep/release tasks, counts."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from batch_tui.batch.models.common import (
    ApplicationPackageReference,
    AuthenticationTokenSettings,
    BatchModel,
    ContainerExecutionInfo,
    EnvironmentSetting,
    MetadataItem,
    NameValuePair,
    OutputFile,
    ResourceFile,
    TaskConstraints,
    TaskContainerSettings,
    TaskFailureInfo,
    UserIdentity,
)
from batch_tui.batch.models.pool import PoolSpecification


class JobConstraints(BatchModel, frozen=True, kw_only=True):
    """``JobConstraints``; ``UNLIMITED`` (or absence) means no wall-clock limit."""

    max_wall_clock_time: timedelta | None = None
    max_task_retry_count: int | None = None


class JobSchedulingError(BatchModel, frozen=True, kw_only=True):
    """``JobSchedulingError``: why the service could not start a job (``ErrorCategory``)."""

    category: str = ""
    code: str | None = None
    message: str | None = None
    details: tuple[NameValuePair, ...] = ()


class JobExecutionInfo(BatchModel, frozen=True, kw_only=True):
    """``JobExecutionInformation``; ``terminate_reason`` e.g. ``UserTerminate``."""

    start_time: datetime | None = None
    end_time: datetime | None = None
    pool_id: str | None = None
    scheduling_error: JobSchedulingError | None = None
    terminate_reason: str | None = None


class JobStatistics(BatchModel, frozen=True, kw_only=True):
    """``JobStatistics`` (and ``JobScheduleStatistics``, which has the same fields)."""

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
    num_succeeded_tasks: int = 0
    num_failed_tasks: int = 0
    num_task_retries: int = 0
    wait_time: timedelta | None = None


class AutoPoolSpecification(BatchModel, frozen=True, kw_only=True):
    """``AutoPoolSpecification``: a pool created for a job or job schedule."""

    auto_pool_id_prefix: str | None = None
    pool_lifetime_option: str = ""
    keep_alive: bool | None = None
    pool: PoolSpecification | None = None


class PoolInformation(BatchModel, frozen=True, kw_only=True):
    """``PoolInformation``: the pool a job runs on, by id or as an auto-pool."""

    pool_id: str | None = None
    auto_pool_specification: AutoPoolSpecification | None = None


class JobNetworkConfiguration(BatchModel, frozen=True, kw_only=True):
    """``JobNetworkConfiguration``."""

    subnet_id: str = ""
    skip_withdraw_from_vnet: bool | None = msgspec.field(default=None, name="skipWithdrawFromVNet")


class JobManagerTask(BatchModel, frozen=True, kw_only=True):
    """``JobManagerTask``: the task started with the job that usually adds the others."""

    id: str = ""
    display_name: str | None = None
    command_line: str = ""
    container_settings: TaskContainerSettings | None = None
    resource_files: tuple[ResourceFile, ...] = ()
    output_files: tuple[OutputFile, ...] = ()
    environment_settings: tuple[EnvironmentSetting, ...] = ()
    constraints: TaskConstraints | None = None
    required_slots: int | None = None
    kill_job_on_completion: bool | None = None
    user_identity: UserIdentity | None = None
    run_exclusive: bool | None = None
    application_package_references: tuple[ApplicationPackageReference, ...] = ()
    authentication_token_settings: AuthenticationTokenSettings | None = None
    allow_low_priority_node: bool | None = None


class JobPreparationTask(BatchModel, frozen=True, kw_only=True):
    """``JobPreparationTask``: runs on each node before the job's first task there."""

    id: str | None = None
    command_line: str = ""
    container_settings: TaskContainerSettings | None = None
    resource_files: tuple[ResourceFile, ...] = ()
    environment_settings: tuple[EnvironmentSetting, ...] = ()
    constraints: TaskConstraints | None = None
    wait_for_success: bool | None = None
    user_identity: UserIdentity | None = None
    rerun_on_node_reboot_after_success: bool | None = None


class JobReleaseTask(BatchModel, frozen=True, kw_only=True):
    """``JobReleaseTask``: runs on each node that ran the job's tasks when the job ends."""

    id: str | None = None
    command_line: str = ""
    container_settings: TaskContainerSettings | None = None
    resource_files: tuple[ResourceFile, ...] = ()
    environment_settings: tuple[EnvironmentSetting, ...] = ()
    max_wall_clock_time: timedelta | None = None
    retention_time: timedelta | None = None
    user_identity: UserIdentity | None = None


class Job(BatchModel, frozen=True, kw_only=True):
    """``CloudJob``; ``state`` and ``previous_state`` are ``JobState`` values.

    ``on_all_tasks_complete`` is an ``OnAllTasksComplete``, ``on_task_failure`` an
    ``OnTaskFailure``. Job-schedule jobs have ids ``<scheduleId>:job-<n>``.
    """

    id: str = ""
    display_name: str | None = None
    uses_task_dependencies: bool = False
    url: str = ""
    e_tag: str | None = None
    last_modified: datetime | None = None
    creation_time: datetime | None = None
    state: str = ""
    state_transition_time: datetime | None = None
    previous_state: str | None = None
    previous_state_transition_time: datetime | None = None
    priority: int = 0
    allow_task_preemption: bool = False
    max_parallel_tasks: int = -1
    constraints: JobConstraints | None = None
    job_manager_task: JobManagerTask | None = None
    job_preparation_task: JobPreparationTask | None = None
    job_release_task: JobReleaseTask | None = None
    common_environment_settings: tuple[EnvironmentSetting, ...] = ()
    pool_info: PoolInformation | None = None
    on_all_tasks_complete: str | None = None
    on_task_failure: str | None = None
    network_configuration: JobNetworkConfiguration | None = None
    metadata: tuple[MetadataItem, ...] = ()
    execution_info: JobExecutionInfo | None = None
    stats: JobStatistics | None = None


class TaskCounts(BatchModel, frozen=True, kw_only=True):
    """``TaskCounts`` of a job: tasks by state, and completed ones by result."""

    active: int = 0
    running: int = 0
    completed: int = 0
    succeeded: int = 0
    failed: int = 0


class TaskSlotCounts(BatchModel, frozen=True, kw_only=True):
    """``TaskSlotCounts``: task slots used by the job's tasks, by state."""

    active: int = 0
    running: int = 0
    completed: int = 0
    succeeded: int = 0
    failed: int = 0


class TaskCountsResult(BatchModel, frozen=True, kw_only=True):
    """``TaskCountsResult``: the body of ``GET /jobs/{id}/taskcounts``."""

    task_counts: TaskCounts = msgspec.field(default_factory=TaskCounts)
    task_slot_counts: TaskSlotCounts = msgspec.field(default_factory=TaskSlotCounts)


class JobPreparationTaskExecutionInfo(BatchModel, frozen=True, kw_only=True):
    """``JobPreparationTaskExecutionInformation`` on one node (``TaskRunState``)."""

    start_time: datetime | None = None
    end_time: datetime | None = None
    state: str = ""
    task_root_directory: str | None = None
    task_root_directory_url: str | None = None
    exit_code: int | None = None
    container_info: ContainerExecutionInfo | None = None
    failure_info: TaskFailureInfo | None = None
    retry_count: int = 0
    last_retry_time: datetime | None = None
    result: str | None = None


class JobReleaseTaskExecutionInfo(BatchModel, frozen=True, kw_only=True):
    """``JobReleaseTaskExecutionInformation`` on one node (``TaskRunState``)."""

    start_time: datetime | None = None
    end_time: datetime | None = None
    state: str = ""
    task_root_directory: str | None = None
    task_root_directory_url: str | None = None
    exit_code: int | None = None
    container_info: ContainerExecutionInfo | None = None
    failure_info: TaskFailureInfo | None = None
    result: str | None = None


class JobPrepReleaseStatus(BatchModel, frozen=True, kw_only=True):
    """``JobPreparationAndReleaseTaskExecutionInformation``: one node's prep/release runs."""

    pool_id: str | None = None
    node_id: str | None = None
    node_url: str | None = None
    job_preparation_task_execution_info: JobPreparationTaskExecutionInfo | None = None
    job_release_task_execution_info: JobReleaseTaskExecutionInfo | None = None
