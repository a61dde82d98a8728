"""Provides JobsScreen, the job list: one row per job, with its task counts.

`JobsScreen()`: every job with its state, pool, priority and task counts with a progress
bar; failing jobs stand out. Enter opens `JobDetailScreen(job_id)`. The registry's job
actions act on the marked jobs (or the one under the cursor): `T` terminate, `D` disable
(requeue, terminate or wait for running tasks), `E` enable, `X` delete (its id typed); each
is confirmed first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Final

from textual.binding import Binding, BindingType
from textual.content import Content

from batch_tui.batch.errors import BatchError
from batch_tui.batch.models.job import Job, TaskCountsResult
from batch_tui.ui.actions import ACTIONS, Kind
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.formatting import FAILED, MISSING, format_age, progress_bar, state_style
from batch_tui.ui.job_fields import job_pool
from batch_tui.ui.routes import route
from batch_tui.ui.screens import create_flows
from batch_tui.ui.screens.base import ListScreen
from batch_tui.ui.screens.quiet_footer import QuietFooter
from batch_tui.ui.screens.screen_actions import action_binding, action_bindings
from batch_tui.ui.widgets.table_rows import Cell, Column, RowData
from batch_tui.ui.widgets.virtual_table import VirtualTable

JOB_FIELDS: Final = (
    "id",
    "state",
    "poolInfo",
    "executionInfo",
    "priority",
    "creationTime",
    "stateTransitionTime",
)
"""The job fields the list shows ($select)."""

MAX_COUNTED_JOBS: Final = 200
"""Jobs whose task counts the list fetches (one request each), unfinished jobs first."""

PARALLEL_COUNTS: Final = 8
"""Task-count requests in flight at once: quick for a page of jobs, gentle on throttling."""

BAR_WIDTH: Final = 10
"""Cells of a job's progress bar (fits 80 columns with the other columns)."""

JOB_COLUMNS: Final = (
    Column("id", "Job", min_width=8, max_width=36),
    Column("state", "State", min_width=9, max_width=11),
    Column("pool", "Pool", min_width=6, max_width=24),
    Column("priority", "Pri", min_width=3, max_width=5, align="right"),
    Column("progress", "Progress", width=BAR_WIDTH, sortable=False),
    Column("active", "Act", min_width=3, max_width=7, align="right"),
    Column("running", "Run", min_width=3, max_width=7, align="right"),
    Column("done", "Done", min_width=4, max_width=7, align="right"),
    Column("failed", "Fail", min_width=4, max_width=7, align="right"),
    Column("age", "Age", min_width=4, max_width=6, align="right"),
)
"""The job list's columns."""

FAILURE_REASONS: Final = frozenset({"TaskFailed", "MaxWallClockTimeExpiry"})
"""`executionInfo.terminateReason` values that mean the job ended badly."""


def job_failing(job: Job, counts: TaskCountsResult | None) -> bool:
    """Whether a job needs attention: failed tasks, a scheduling error, or a failure end."""
    info = job.execution_info
    if info is not None and info.scheduling_error is not None:
        return True
    if info is not None and info.terminate_reason in FAILURE_REASONS:
        return True
    return counts is not None and counts.task_counts.failed > 0


def job_row(job: Job, counts: TaskCountsResult | None, now: datetime) -> RowData:
    """Returns the list row of a job with its task counts and progress bar."""
    state: Cell = Content.styled(job.state or MISSING, state_style("job", job.state))
    numbers: tuple[Cell, ...] = (MISSING,) * 5
    sort_numbers: tuple[float | None, ...] = (None,) * 5
    if counts is not None:
        c = counts.task_counts
        total = c.active + c.running + c.completed
        bar = Content.styled(progress_bar(c.completed, total, BAR_WIDTH), "ansi_green")
        failed: Cell = Content.styled(str(c.failed), FAILED) if c.failed else "0"
        numbers = (bar, str(c.active), str(c.running), str(c.completed), failed)
        done = c.completed / total if total else 0.0
        sort_numbers = (done, c.active, c.running, c.completed, c.failed)
    created = job.creation_time
    age_sort = -created.timestamp() if created is not None else None
    cells = (job.id, state, job_pool(job) or MISSING, str(job.priority), *numbers)
    cells += (format_age(created, now),)
    sort_values = (None, None, None, job.priority, *sort_numbers, age_sort)
    style = FAILED if job_failing(job, counts) else None
    return RowData(job.id, cells, style=style, sort_values=sort_values)


class JobsScreen(QuietFooter, ListScreen):
    """The account's jobs with task counts; failures stand out."""

    REFRESH_KIND = "jobs"
    COLUMNS = JOB_COLUMNS
    BINDINGS: ClassVar[list[BindingType]] = [
        *action_bindings("job"),
        action_binding(ACTIONS["job.add"]),
        Binding("C", "schedule_list", "Schedules", id="jobs.schedules",
                tooltip="The job schedules that make jobs (cron)"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.job_by_id: dict[str, Job] = {}
        """The jobs on screen, by id."""

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("jobs",)

    async def load_data(self) -> None:
        jobs = self.track(await self.cache.list_jobs(select=JOB_FIELDS, force=self.forced))
        self.job_by_id = {job.id: job for job in jobs}
        self.session.remember_ids("job", self.job_by_id)
        counts = await self._task_counts(jobs)
        now = self.now()
        self.table.set_rows(job_row(job, counts.get(job.id), now) for job in jobs)
        self.refresh_bindings()

    async def _task_counts(self, jobs: Sequence[Job]) -> dict[str, TaskCountsResult]:
        """Fetches task counts, unfinished jobs first; one failure leaves one gap."""
        chosen = sorted(jobs, key=lambda job: job.state == "completed")[:MAX_COUNTED_JOBS]
        gate = asyncio.Semaphore(PARALLEL_COUNTS)

        async def one(job_id: str) -> tuple[str, TaskCountsResult | None]:
            async with gate:
                try:
                    cached = await self.cache.get_task_counts(job_id, force=self.forced)
                except BatchError:
                    return job_id, None
            return job_id, self.track(cached)

        results = await asyncio.gather(*(one(job.id) for job in chosen))
        return {job_id: counts for job_id, counts in results if counts is not None}

    def open_row(self, key: str) -> None:
        self.batch_app.open(route("job", key))

    def flow_add_job(self) -> None:
        """Adds a job from a JSON body (`a`)."""
        create_flows.add_job(self)

    def row_entity(self, table: VirtualTable, key: str) -> EntityRef | None:
        return EntityRef.job(key)

    def action_targets(self, kind: Kind) -> tuple[str, ...]:
        return self.targets() if kind == "job" else ()

    def action_subject(self, kind: Kind, target: str) -> Job | None:
        return self.job_by_id.get(target)

    def action_schedule_list(self) -> None:
        """Opens the job schedule list."""
        self.batch_app.open(route("schedules"))
