"""Job schedules: ``CloudJobSchedule``, its schedule, job specification and recent job."""

from __future__ import annotations

from datetime import datetime, timedelta

from batch_tui.batch.models.common import BatchModel, EnvironmentSetting, MetadataItem
from batch_tui.batch.models.job import (
    JobConstraints,
    JobManagerTask,
    JobNetworkConfiguration,
    JobPreparationTask,
    JobReleaseTask,
    JobStatistics,
    PoolInformation,
)


class Schedule(BatchModel, frozen=True, kw_only=True):
    """``Schedule``: when a job schedule creates jobs (``recurrence_interval`` apart)."""

    do_not_run_until: datetime | None = None
    do_not_run_after: datetime | None = None
    start_window: timedelta | None = None
    recurrence_interval: timedelta | None = None


class JobSpecification(BatchModel, frozen=True, kw_only=True):
    """``JobSpecification``: the template of the jobs a schedule creates."""

    priority: int | None = None
    allow_task_preemption: bool | None = None
    max_parallel_tasks: int | None = None
    display_name: str | None = None
    uses_task_dependencies: bool | None = None
    on_all_tasks_complete: str | None = None
    on_task_failure: str | None = None
    network_configuration: JobNetworkConfiguration | None = None
    constraints: JobConstraints | None = None
    job_manager_task: JobManagerTask | None = None
    job_preparation_task: JobPreparationTask | None = None
    job_release_task: JobReleaseTask | None = None
    common_environment_settings: tuple[EnvironmentSetting, ...] = ()
    pool_info: PoolInformation | None = None
    metadata: tuple[MetadataItem, ...] = ()


class RecentJob(BatchModel, frozen=True, kw_only=True):
    """``RecentJob``: the job a schedule created last."""

    id: str | None = None
    url: str | None = None


class JobScheduleExecutionInfo(BatchModel, frozen=True, kw_only=True):
    """``JobScheduleExecutionInformation``."""

    next_run_time: datetime | None = None
    recent_job: RecentJob | None = None
    end_time: datetime | None = None


class JobSchedule(BatchModel, frozen=True, kw_only=True):
    """``CloudJobSchedule``; ``state`` and ``previous_state`` are ``JobScheduleState`` values."""

    id: str = ""
    display_name: str | None = None
    url: str = ""
    e_tag: str | None = None
    last_modified: datetime | None = None
    creation_time: datetime | None = None
    state: str = ""
    state_transition_time: datetime | None = None
    previous_state: str | None = None
    previous_state_transition_time: datetime | None = None
    schedule: Schedule | None = None
    job_specification: JobSpecification | None = None
    execution_info: JobScheduleExecutionInfo | None = None
    metadata: tuple[MetadataItem, ...] = ()
    stats: JobStatistics | None = None
