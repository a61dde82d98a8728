"""Provides a job schedule's fields as the schedule views show them (pure Content building).

- `format_until(moment, now)`: a time to come, relative ("in 42s", "due");
- `recurrence_text(schedule)`, `spec_pool(spec)`: the list's Every and Pool columns;
- `schedule_row(schedule, now)`: a row of the schedule list;
- `schedule_sections(schedule, now)`: the detail's blocks (schedule and execution,
  statistics, job specification);
- `schedule_job_row(job, now)`: a row of the detail's table of the schedule's jobs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from textual.content import Content

from batch_tui.batch.models import Job, JobSchedule, JobSpecification, JobStatistics, Schedule
from batch_tui.ui.detail_fields import Value, section, styled_state, when
from batch_tui.ui.formatting import (
    FAILED,
    MISSING,
    format_age,
    format_duration,
    format_time,
    state_style,
)
from batch_tui.ui.widgets.table_rows import Cell, Column, RowData

SCHEDULE_FIELDS: Final = (
    "id",
    "state",
    "schedule",
    "executionInfo",
    "jobSpecification",
    "creationTime",
)
"""The schedule fields the list shows ($select): the pool is in the job specification."""

SCHEDULE_COLUMNS: Final = (
    Column("id", "Schedule", min_width=8, max_width=32),
    Column("state", "State", min_width=8, max_width=11),
    Column("next", "Next run", min_width=8, max_width=12, align="right"),
    Column("recent", "Recent job", min_width=10, max_width=36),
    Column("every", "Every", min_width=5, max_width=8, align="right"),
    Column("pool", "Pool", min_width=6, max_width=24),
)
"""The schedule list's columns."""

SCHEDULE_JOB_FIELDS: Final = (
    "id",
    "state",
    "creationTime",
    "executionInfo",
    "stateTransitionTime",
)
"""The fields of the schedule's jobs the detail shows ($select)."""

SCHEDULE_JOB_COLUMNS: Final = (
    Column("id", "Job", min_width=10, max_width=40),
    Column("state", "State", min_width=9, max_width=11),
    Column("created", "Created", min_width=8, max_width=14, align="right"),
    Column("took", "Took", min_width=4, max_width=8, align="right"),
    Column("end", "End reason", min_width=10, max_width=30),
)
"""The columns of the detail's table of the schedule's jobs."""

FAILURE_REASONS: Final = frozenset({"TaskFailed", "MaxWallClockTimeExpiry"})
"""`executionInfo.terminateReason` values that mean a job ended badly."""


def format_until(moment: datetime | None, now: datetime) -> str:
    """Formats a time to come relative to now: "in 42s", "in 3m12s"; "due" once it passed.

    Args:
        moment: The time, or None (nothing planned).
        now: The current time.

    Returns:
        The text, or "-" for None.
    """
    if moment is None:
        return MISSING
    left = moment - now if (moment.tzinfo is None) == (now.tzinfo is None) else None
    if left is None:  # one naive, one aware: compare in UTC as the service means it
        left = moment.replace(tzinfo=now.tzinfo) - now
    if left <= timedelta(0):
        return "due"
    return f"in {format_duration(left)}"


def recurrence_text(schedule: Schedule | None) -> str:
    """How often the schedule makes a job: "1m", "1d"; "once" without a recurrence."""
    every = schedule.recurrence_interval if schedule is not None else None
    return format_duration(every) if every else "once"


def spec_pool(spec: JobSpecification | None) -> str | None:
    """The pool the schedule's jobs run on: its id, or "auto <prefix>" for an auto pool."""
    info = spec.pool_info if spec is not None else None
    if info is None:
        return None
    if info.pool_id:
        return info.pool_id
    auto = info.auto_pool_specification
    if auto is None:
        return None
    return f"auto {auto.auto_pool_id_prefix or ''}".rstrip()


def recent_job_id(schedule: JobSchedule) -> str | None:
    """The id of the job the schedule made last, if it made one."""
    info = schedule.execution_info
    recent = info.recent_job if info is not None else None
    return recent.id if recent is not None else None


def next_run(schedule: JobSchedule) -> datetime | None:
    """When the schedule makes its next job, if it will."""
    info = schedule.execution_info
    return info.next_run_time if info is not None else None


def schedule_row(schedule: JobSchedule, now: datetime) -> RowData:
    """Returns the list row of a schedule: state, next run (relative), recent job, every, pool."""
    state: Cell = Content.styled(schedule.state or MISSING, state_style("schedule", schedule.state))
    coming = next_run(schedule)
    cells: tuple[Cell, ...] = (
        schedule.id,
        state,
        format_until(coming, now),
        recent_job_id(schedule) or MISSING,
        recurrence_text(schedule.schedule),
        spec_pool(schedule.job_specification) or MISSING,
    )
    every = schedule.schedule.recurrence_interval if schedule.schedule else None
    sort_values = (
        None,
        None,
        coming.timestamp() if coming is not None else None,
        None,
        every.total_seconds() if every else None,
        None,
    )
    return RowData(schedule.id, cells, sort_values=sort_values)


def _moment(value: datetime | None, now: datetime, *, coming: bool = False) -> str | None:
    """An absolute time with how far it is: "14:03:27 (in 42s)" or "... (3m ago)"; with
    `coming` (a next run), a time that passed is "due" rather than ago."""
    if value is None:
        return None
    if value > now or coming:
        return f"{format_time(value, now)} ({format_until(value, now)})"
    return when(value, now)


def schedule_fields(schedule: JobSchedule, now: datetime) -> list[tuple[str, Value]]:
    """The schedule's state, its next run and recent job first (they fit the compact panel),
    then its timing: doNotRunUntil, doNotRunAfter, startWindow; fields it lacks are left out
    where "-" would say nothing."""
    timing = schedule.schedule or Schedule()
    info = schedule.execution_info
    since = format_age(schedule.state_transition_time, now)
    fields: list[tuple[str, Value]] = [
        ("State", Content.assemble(styled_state("schedule", schedule.state), f" for {since}")),
        ("Next run", _moment(next_run(schedule), now, coming=True) or "none planned"),
        ("Recent job", recent_job_id(schedule) or "none yet"),
        ("Recurrence", f"every {format_duration(timing.recurrence_interval)}"
         if timing.recurrence_interval else "once"),
        ("Not before", _moment(timing.do_not_run_until, now) or "no limit"),
        ("Not after", _moment(timing.do_not_run_after, now) or "no limit"),
        ("Start window", format_duration(timing.start_window) if timing.start_window
         else "no limit"),
        ("Created", when(schedule.creation_time, now)),
    ]  # fmt: skip
    optional: list[tuple[str, Value]] = [
        ("Ended", _moment(info.end_time if info else None, now)),
        ("Previous state", schedule.previous_state),
        ("Display name", schedule.display_name),
    ]
    return fields + [(label, value) for label, value in optional if value]


def stats_fields(stats: JobStatistics | None) -> list[tuple[str, Value]]:
    """The schedule's task statistics over all its jobs (the service updates them about every
    30 minutes), or [] when it sent none."""
    if stats is None:
        return []
    failed = str(stats.num_failed_tasks)
    return [
        ("Succeeded tasks", str(stats.num_succeeded_tasks)),
        ("Failed tasks", Content.styled(failed, FAILED) if stats.num_failed_tasks else failed),
        ("Task retries", str(stats.num_task_retries)),
        ("Wall clock", format_duration(stats.wall_clock_time)),
    ]


def spec_fields(spec: JobSpecification | None) -> list[tuple[str, Value]]:
    """A summary of the job specification: pool, priority, completion, manager, constraints."""
    if spec is None:
        return [("Job spec", None)]
    constraints = spec.constraints
    retries = constraints.max_task_retry_count if constraints else None
    manager = spec.job_manager_task
    fields: list[tuple[str, Value]] = [
        ("Pool", spec_pool(spec)),
        ("Auto pool", _auto_pool(spec)),
        ("Priority", str(spec.priority) if spec.priority is not None else None),
        ("All complete", spec.on_all_tasks_complete),
        ("Task failure", spec.on_task_failure),
        ("Manager task", manager.command_line if manager else "none"),
        ("Prep task", spec.job_preparation_task.command_line
         if spec.job_preparation_task else None),
        ("Wall clock", format_duration(constraints.max_wall_clock_time if constraints else None)),
        ("Max retries", ("unlimited" if retries < 0 else str(retries))
         if retries is not None else None),
    ]  # fmt: skip
    # An auto pool or a preparation task the spec does not have would only add a "-".
    return [(label, value) for label, value in fields
            if value is not None or label not in ("Auto pool", "Prep task")]  # fmt: skip


def _auto_pool(spec: JobSpecification) -> str | None:
    info = spec.pool_info
    auto = info.auto_pool_specification if info is not None else None
    if auto is None:
        return None
    size = auto.pool.vm_size if auto.pool is not None else None
    parts = (auto.pool_lifetime_option and f"lives per {auto.pool_lifetime_option}", size)
    return ", ".join(part for part in parts if part) or None


def schedule_sections(schedule: JobSchedule, now: datetime) -> list[Content]:
    """The detail's blocks: schedule, statistics (when sent), job specification."""
    blocks = [section(f"Job schedule {schedule.id}", schedule_fields(schedule, now))]
    stats = stats_fields(schedule.stats)
    if stats:
        blocks.append(section("Statistics", stats))
    blocks.append(section("Job specification", spec_fields(schedule.job_specification)))
    return blocks


def schedule_job_row(job: Job, now: datetime) -> RowData:
    """A row of the schedule's jobs: state, created (age), how long it took, end reason."""
    info = job.execution_info
    reason = info.terminate_reason if info is not None else None
    failed = reason in FAILURE_REASONS or (info is not None and info.scheduling_error is not None)
    start = info.start_time if info is not None else None
    end = info.end_time if info is not None else None
    took = format_duration(end - start) if start is not None and end is not None else MISSING
    created = job.creation_time
    cells: tuple[Cell, ...] = (
        job.id,
        Content.styled(job.state or MISSING, state_style("job", job.state)),
        f"{format_age(created, now)} ago" if created is not None else MISSING,
        took,
        reason or MISSING,
    )
    # Newest first by default: the age column sorts by creation time, latest on top.
    age_sort = -created.timestamp() if created is not None else None
    sort_values = (None, None, age_sort, None, None)
    return RowData(job.id, cells, style=FAILED if failed else None, sort_values=sort_values)
