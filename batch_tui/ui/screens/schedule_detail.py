"""Provides ScheduleDetailScreen: one job schedule over the list of the jobs it made.

`ScheduleDetailScreen(schedule_id)`: the schedule (state; its timing: not before, not after,
start window, recurrence; the next run and the recent job; statistics when the service sends
them; a summary of the job specification) over its jobs (the service's List Jobs From
Schedule), newest first. Enter opens a job's screen; `i` shows more or less of the schedule.
The schedule's actions act on it: `E` enable, `D` disable, `T` terminate, `X` delete (its id
typed); after a delete the screen goes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from batch_tui.batch.models import Job, JobSchedule
from batch_tui.ui.action_runs import Outcome
from batch_tui.ui.actions import ActionSpec, Kind
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.routes import route
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.schedule_fields import (
    SCHEDULE_JOB_COLUMNS,
    SCHEDULE_JOB_FIELDS,
    schedule_job_row,
    schedule_sections,
)
from batch_tui.ui.screens.base import ListScreen
from batch_tui.ui.screens.screen_actions import action_bindings
from batch_tui.ui.widgets.header import short_id
from batch_tui.ui.widgets.virtual_table import VirtualTable


class ScheduleDetailScreen(ListScreen):
    """A job schedule and the jobs it made; enter opens a job."""

    CSS_PATH = "schedule_detail.tcss"
    REFRESH_KIND = "detail"
    COLUMNS = SCHEDULE_JOB_COLUMNS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "toggle_info", "Info", id="schedule.info",
                tooltip="More or less of the schedule above its jobs"),
        *action_bindings("schedule"),
    ]  # fmt: skip

    def __init__(self, schedule_id: str) -> None:
        super().__init__()
        self.schedule_id = schedule_id
        self.schedule: JobSchedule | None = None
        """The schedule as last fetched (with its statistics)."""
        self.jobs: list[Job] = []
        """Its jobs as last listed."""

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("schedules", short_id(self.schedule_id))

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="schedule-info-box"):
            yield Static(Content("loading…"), id="schedule-info")
        yield Static("Jobs", id="schedule-jobs-title", markup=False)
        yield from super().compose_body()

    async def load_data(self) -> None:
        schedule_c, jobs_c = await asyncio.gather(
            self.cache.get_job_schedule(self.schedule_id, expand="stats", force=self.forced),
            self.cache.list_schedule_jobs(
                self.schedule_id, select=SCHEDULE_JOB_FIELDS, force=self.forced
            ),
        )
        self.schedule, self.jobs = self.track(schedule_c), self.track(jobs_c)
        self.session.remember_ids("schedule", (self.schedule_id,))
        self.session.remember_ids("job", (job.id for job in self.jobs))
        self._show()
        self.refresh_availability()

    def _show(self) -> None:
        now = self.now()
        if self.schedule is not None:
            blocks = schedule_sections(self.schedule, now)
            self.query_one("#schedule-info", Static).update(Content("\n\n").join(blocks))
        self.table.set_rows(schedule_job_row(job, now) for job in self.jobs)
        title = f"Jobs of {sanitize_text(self.schedule_id)} ({len(self.jobs):,}, newest first)"
        self.query_one("#schedule-jobs-title", Static).update(title)

    def on_mount(self) -> None:
        # Textual runs every class's on_mount in the MRO: no super() call here.
        self.table.sort_by("created")

    def row_entity(self, table: VirtualTable, key: str) -> EntityRef | None:
        """A row is a job of the schedule: `y` shows its JSON, `c` copies its id."""
        return EntityRef.job(key)

    def open_row(self, key: str) -> None:
        self.batch_app.open(route("job", key))

    def action_toggle_info(self) -> None:
        """Shows more or less of the schedule."""
        self.toggle_class("full-info")

    # -- actions ------------------------------------------------------------------------

    def action_targets(self, kind: Kind) -> tuple[str, ...]:
        return (self.schedule_id,) if kind == "schedule" else ()

    def action_subject(self, kind: Kind, target: str) -> JobSchedule | None:
        return self.schedule if kind == "schedule" else None

    def targets_marked(self, kind: Kind) -> bool:
        return False  # the marks are on jobs; the actions act on the schedule shown

    def on_action_finished(self, spec: ActionSpec, outcomes: Sequence[Outcome]) -> None:
        if spec.id == "schedule.delete" and all(outcome.error is None for outcome in outcomes):
            self.leave()
            return
        self.action_refresh_now()
