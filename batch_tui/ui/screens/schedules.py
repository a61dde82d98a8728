"""Provides SchedulesScreen, the job schedule list: one row per schedule.

`SchedulesScreen()`: every job schedule with its state, when it makes its next job ("in
42s"), the job it made last, how often, and the pool its jobs run on. Enter opens
`ScheduleDetailScreen(schedule_id)`. The registry's schedule actions act on the marked
schedules (or the one under the cursor): `E` enable, `D` disable, `T` terminate, `X` delete
(its id typed); each is confirmed first, and a key that does not apply says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar, Final

from textual.binding import BindingType

from batch_tui.batch.models import JobSchedule
from batch_tui.ui.action_runs import Outcome
from batch_tui.ui.actions import ActionSpec, Kind
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.routes import route
from batch_tui.ui.schedule_fields import (
    SCHEDULE_COLUMNS,
    SCHEDULE_FIELDS,
    next_run,
    schedule_row,
)
from batch_tui.ui.screens.base import ListScreen
from batch_tui.ui.screens.screen_actions import action_bindings
from batch_tui.ui.widgets.virtual_table import VirtualTable

DUE_GRACE: Final = timedelta(seconds=2)
"""How long after a schedule's next run the list refreshes by itself, to show the job it made
(the service makes it at that time, give or take a second)."""


class SchedulesScreen(ListScreen):
    """The account's job schedules: when each runs next and what it ran last."""

    REFRESH_KIND = "jobs"
    COLUMNS = SCHEDULE_COLUMNS
    BINDINGS: ClassVar[list[BindingType]] = action_bindings("schedule")

    def __init__(self) -> None:
        super().__init__()
        self.schedule_by_id: dict[str, JobSchedule] = {}
        """The schedules on screen, by id."""
        self._due_at: datetime | None = None

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("schedules",)

    def on_mount(self) -> None:
        # Textual runs every class's on_mount in the MRO: no super() call here. "in 42s"
        # counts down between refreshes, which may be a minute apart.
        self.set_interval(1.0, self._redraw_times)

    async def load_data(self) -> None:
        cached = await self.cache.list_job_schedules(select=SCHEDULE_FIELDS, force=self.forced)
        schedules = self.track(cached)
        self.schedule_by_id = {schedule.id: schedule for schedule in schedules}
        self.session.remember_ids("schedule", self.schedule_by_id)
        now = self.now()
        self.table.set_rows(schedule_row(schedule, now) for schedule in schedules)
        coming = [at for schedule in schedules if (at := next_run(schedule)) and at > now]
        self._due_at = min(coming, default=None)
        self.refresh_availability()

    def _redraw_times(self) -> None:
        """Counts the next runs down in the rows on screen; refreshes once one has passed."""
        now = self.now()
        if self._due_at is not None and now >= self._due_at + DUE_GRACE and not self.paused:
            self._due_at = None
            self.refresh_data()
        self.redraw_in_view(
            lambda key: (
                schedule_row(schedule, now)
                if (schedule := self.schedule_by_id.get(key)) is not None
                else None
            )
        )

    def on_action_finished(self, spec: ActionSpec, outcomes: Sequence[Outcome]) -> None:
        self.table.clear_marks()
        self.action_refresh_now()

    def row_entity(self, table: VirtualTable, key: str) -> EntityRef | None:
        """The schedule of a row: `y` shows its JSON, `c` copies its id."""
        return EntityRef.schedule(key)

    def open_row(self, key: str) -> None:
        self.batch_app.open(route("schedule", key))

    def action_targets(self, kind: Kind) -> tuple[str, ...]:
        return self.targets() if kind == "schedule" else ()

    def action_subject(self, kind: Kind, target: str) -> JobSchedule | None:
        return self.schedule_by_id.get(target) if kind == "schedule" else None
