"""Provides a job's fields as the job views show them: its pool, task counts and details.

- `job_pool(job)`: the pool a job runs on (the job list's Pool column, the job panel);
- `counts_line(counts)`: task counts with a progress bar;
- `job_info(job, counts, now, full=...)`: the job panel's label/value pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textual.content import Content

from batch_tui.batch.models.job import Job, JobSchedulingError, TaskCountsResult
from batch_tui.ui.detail_fields import Value
from batch_tui.ui.formatting import (
    FAILED,
    MISSING,
    format_age,
    format_duration,
    format_time,
    progress_bar,
    state_style,
)


def job_pool(job: Job) -> str | None:
    """The pool a job runs on: the one it ran on, else the one it names."""
    if job.execution_info is not None and job.execution_info.pool_id:
        return job.execution_info.pool_id
    return job.pool_info.pool_id if job.pool_info is not None else None


def counts_line(counts: TaskCountsResult | None, width: int = 12) -> Content:
    """One line of task counts with a progress bar: "█████      12/40 done · 3 failed"."""
    if counts is None:
        return Content(MISSING)
    c = counts.task_counts
    total = c.active + c.running + c.completed
    parts: list[str | tuple[str, str]] = [
        (progress_bar(c.completed, total, width), "ansi_green"),
        f" {c.completed:,}/{total:,} done · {c.active:,} active · {c.running:,} running · ",
        (f"{c.failed:,} failed", FAILED) if c.failed else "0 failed",
    ]
    return Content.assemble(*parts)


def job_info(
    job: Job, counts: TaskCountsResult | None, now: datetime, *, full: bool
) -> Sequence[tuple[str, Value]]:
    """The fields of a job's detail panel: a few lines, or all of them when `full`.

    Args:
        job: The job (fetched whole).
        counts: Its task counts, if known.
        now: The current time.
        full: Add constraints, execution info and the manager/prep/release tasks.
    """
    state = Content.styled(job.state or MISSING, state_style("job", job.state))
    since = format_age(job.state_transition_time, now)
    pairs: list[tuple[str, Value]] = [
        ("State", Content.assemble(state, f" for {since}")),
        ("Pool", job_pool(job)),
        ("Priority", f"{job.priority} · max parallel tasks {_parallel(job.max_parallel_tasks)}"),
        ("Tasks", counts_line(counts)),
    ]
    if full:
        pairs.extend(_job_extra(job, now))
    return pairs


def _parallel(value: int) -> str:
    return "unlimited" if value < 0 else str(value)


def _job_extra(job: Job, now: datetime) -> list[tuple[str, Value]]:
    info = job.execution_info
    constraints = job.constraints
    error = info.scheduling_error if info is not None else None
    pairs: list[tuple[str, Value]] = [
        ("Created", format_time(job.creation_time, now)),
        ("Started", format_time(info.start_time if info else None, now)),
        ("Ended", format_time(info.end_time if info else None, now)),
        ("End reason", info.terminate_reason if info else None),
        ("Sched. error", Content.styled(_error_text(error), FAILED) if error else None),
        ("Wall clock", format_duration(constraints.max_wall_clock_time if constraints else None)),
        ("Max retries", _retries(constraints.max_task_retry_count if constraints else None)),
        ("All complete", job.on_all_tasks_complete),
        ("Task failure", job.on_task_failure),
    ]
    if job.job_manager_task is not None:
        manager = job.job_manager_task
        pairs.append(("Manager task", f"{manager.id}: {manager.command_line}"))
    if job.job_preparation_task is not None:
        pairs.append(("Prep task", job.job_preparation_task.command_line))
    if job.job_release_task is not None:
        pairs.append(("Release task", job.job_release_task.command_line))
    return pairs


def _error_text(error: JobSchedulingError) -> str:
    return ": ".join(part for part in (error.category, error.code, error.message) if part)


def _retries(value: int | None) -> str | None:
    if value is None:
        return None
    return "unlimited" if value < 0 else str(value)
