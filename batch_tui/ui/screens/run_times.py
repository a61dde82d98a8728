"""Provides RunTimesScreen: how long a job's tasks ran, as a histogram, and its outliers.

`RunTimesScreen(job_id, tasks=None)` (`:runtimes JOB`, `H` on the job screen) draws the run
times (end - start) of the job's completed tasks as a histogram of block characters, on a log
scale when the spread is wide, with their count, median, p90, p99 and max (`run_times`).
Under it, the outliers: the slowest 20 tasks and every task beyond p99 or 3x the median,
slowest first, with the node each ran on; the line above them names the nodes that hold most
outliers (a slow node). `enter` opens a task, `ctrl+s` exports the outliers.

Opened from the job screen, it starts from the tasks that screen has listed; else it lists
the job's tasks itself. Later refreshes ask only for the tasks whose state changed (a delta):
tasks that completed since join, reactivated ones leave; `r` lists them all again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.css.query import NoMatches
from textual.events import Resize
from textual.widgets import Static

from batch_tui.batch.models.task import Task
from batch_tui.ui.delta import DeltaPlan
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.formatting import FAILED, MISSING, format_age
from batch_tui.ui.routes import route
from batch_tui.ui.run_times import (
    RUN_TIME_FIELDS,
    Outlier,
    RunTime,
    RunTimes,
    histogram_lines,
    outlier_nodes,
    run_time,
    seconds_text,
    summary_line,
)
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.base import ListScreen
from batch_tui.ui.screens.quiet_footer import QuietFooter
from batch_tui.ui.widgets.table_rows import Column, RowData
from batch_tui.ui.widgets.virtual_table import VirtualTable

FULL_RELOAD_EVERY: Final = 20
"""Refreshes between full listings (a delta cannot see deleted tasks)."""

FLUSH_SECONDS: Final = 0.3
"""How often a listing's pages are drawn: sorting 100,000 runs per 1,000-task page would
cost more than the listing."""

CHART_HEIGHT: Final = 4
"""Rows of bars: 32 steps of height, and room for the outliers at 24 lines."""

MIN_BUCKETS: Final = 8
MAX_BUCKETS: Final = 60

OUTLIER_COLUMNS: Final = (
    Column("id", "Task", min_width=8, max_width=40, cut="middle"),
    Column("ran", "Ran", min_width=6, max_width=8, align="right"),
    Column("median", "×Med", min_width=5, max_width=6, align="right"),
    Column("node", "Node", min_width=8, max_width=30, cut="middle"),
    Column("exit", "Exit", min_width=4, max_width=6, align="right"),
    Column("ended", "Ended", min_width=5, max_width=7, align="right"),
    Column("why", "Why", min_width=8, max_width=22),
)
"""The outlier list's columns; they fit 80 cells."""


def outlier_row(outlier: Outlier, now: datetime) -> RowData:
    """The list row of an outlier: task, run time, times the median, node, exit code, when it
    ended and why it is listed; failed tasks in the failure style."""
    run = outlier.run
    ratio = outlier.times_median
    cells = (
        run.task_id,
        seconds_text(run.seconds),
        MISSING if ratio is None else f"{ratio:.1f}×",
        run.node_id or MISSING,
        MISSING if run.exit_code is None else str(run.exit_code),
        format_age(run.ended, now),
        outlier.why,
    )
    ended = run.ended.timestamp() if run.ended is not None else None
    sort = (None, run.seconds, ratio, None, run.exit_code, ended, None)
    return RowData(run.task_id, cells, style=FAILED if run.failed else None, sort_values=sort)


def nodes_line(outliers: Sequence[Outlier]) -> str:
    """The nodes holding most outliers: "Outliers by node: tvm-3 12 · tvm-1 2 · 3 more"."""
    if not outliers:
        return ""
    nodes = outlier_nodes(outliers)
    if not nodes:
        return f"{len(outliers):,} outliers, on no node the service names"
    shown = " · ".join(f"{_short(node)} {count:,}" for node, count in nodes[:3])
    more = f" · {len(nodes) - 3:,} more" if len(nodes) > 3 else ""
    return f"{len(outliers):,} outliers by node: {shown}{more}"


def _short(node_id: str) -> str:
    """A node id cut in the middle to fit the line ("tvmps_d43cf8a…a686f893ff_d"): real ones
    are 70 characters that differ in the middle and share their ends."""
    text = sanitize_text(node_id, limit=None)
    return text if len(text) <= NODE_WIDTH else f"{text[:13]}…{text[-12:]}"


NODE_WIDTH: Final = 26


def bucket_count(runs: int, width: int) -> int:
    """How many bars: about two per square root of the runs, within what the width holds."""
    wanted = max(MIN_BUCKETS, 2 * int(runs**0.5))
    return max(min(wanted, MAX_BUCKETS, width), 1)


class RunTimesScreen(QuietFooter, ListScreen):
    """The run times of a job's completed tasks, and their outliers.

    Args:
        job_id: The job.
        tasks: The job's tasks as a task list has them (the job screen's), to start from;
            None lists them.
    """

    CSS_PATH = "run_times.tcss"
    REFRESH_KIND = "tasks"
    COLUMNS = OUTLIER_COLUMNS

    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, job_id: str, tasks: Sequence[Task] | None = None) -> None:
        super().__init__()
        self.job_id = job_id
        self.run_by_id: dict[str, RunTime] = {}
        """The completed tasks' runs, by task id."""
        self.listing = tasks is None
        """The job's tasks are being listed (from the start: nothing is known yet)."""
        self._given = tasks
        self._delta = DeltaPlan(full_every=FULL_RELOAD_EVERY)
        self._chart_width = 0

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("jobs", self.job_id, "run times")

    def compose_body(self) -> ComposeResult:
        yield Static(id="runtimes-summary", markup=False)
        yield Static(id="runtimes-chart", markup=False)
        yield Static(id="runtimes-nodes", markup=False)
        yield from super().compose_body()

    def on_mount(self) -> None:
        self.table.sort_by("ran", reverse=True)

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._chart_width:
            self.show_runs()

    # -- loading --------------------------------------------------------------------------

    async def load_data(self) -> None:
        if self._given is not None:
            given, self._given = self._given, None
            self._replace(given)
            self._delta.listed((task.state_transition_time for task in given), 0.0)
            self._delta.refreshes += 1  # this was the first refresh's listing
            return
        if self._delta.wants_full(forced=self.forced):
            await self._list_all()
            return
        changed = await self.client.list_tasks_changed(
            self.job_id, self._delta.changed_since(), select=RUN_TIME_FIELDS
        )
        self._delta.changed(task.state_transition_time for task in changed)
        self._merge(changed)

    async def _list_all(self) -> None:
        """Lists every task of the job, showing the runs as pages arrive."""
        started = time.monotonic()
        self.listing = True
        seen: dict[str, datetime | None] = {}
        last_shown = 0.0
        try:
            async for page in self.client.iter_job_tasks(self.job_id, select=RUN_TIME_FIELDS):
                seen.update((task.id, task.state_transition_time) for task in page)
                self._merge(page, show=False)
                if time.monotonic() - last_shown >= FLUSH_SECONDS:
                    self.show_runs()
                    last_shown = time.monotonic()
        finally:
            self.listing = False
            self.show_runs()  # a failed listing: no longer "listing…"
        for gone in [task_id for task_id in self.run_by_id if task_id not in seen]:
            del self.run_by_id[gone]
        self._delta.listed(seen.values(), time.monotonic() - started)
        self.show_runs()

    def _replace(self, tasks: Iterable[Task]) -> None:
        self.run_by_id = {}
        self._merge(tasks)

    def _merge(self, tasks: Iterable[Task], *, show: bool = True) -> None:
        """Adds the runs of completed tasks; drops tasks that are no longer completed."""
        for task in tasks:
            run = run_time(task)
            if run is None:
                self.run_by_id.pop(task.id, None)
            else:
                self.run_by_id[task.id] = run
        if show:
            self.show_runs()

    def tasks_deleted(self, job_id: str, task_ids: Sequence[str]) -> None:
        if job_id == self.job_id:
            for task_id in task_ids:
                self.run_by_id.pop(task_id, None)
            self.show_runs()

    # -- showing --------------------------------------------------------------------------

    def show_runs(self) -> None:
        """Draws the summary, the histogram and the outliers of the runs in hand."""
        try:
            chart = self.query_one("#runtimes-chart", Static)
        except NoMatches:
            return  # closed meanwhile
        runs = RunTimes(self.run_by_id.values())
        summary = runs.summary()
        width = max(self.size.width - 2, 20)
        self._chart_width = self.size.width
        text = summary_line(summary, log=runs.log_scaled())
        if self.listing:
            text += " · listing…"
        self.query_one("#runtimes-summary", Static).update(text)
        buckets = runs.buckets(bucket_count(len(runs), width - 8))
        chart.update("\n".join(histogram_lines(buckets, width, CHART_HEIGHT)))
        chart.display = bool(buckets)
        outliers = runs.outliers()
        self.query_one("#runtimes-nodes", Static).update(nodes_line(outliers))
        now = self.now()
        self.table.set_rows(outlier_row(outlier, now) for outlier in outliers)
        self.update_status()

    def open_row(self, key: str) -> None:
        self.batch_app.open(route("task", self.job_id, key))

    def row_entity(self, table: VirtualTable, key: str) -> EntityRef | None:
        return EntityRef.task(self.job_id, key)

    def export_subject(self, table: VirtualTable) -> tuple[str, ...]:
        return ("run-times", self.job_id)


__all__ = ["RunTimesScreen", "bucket_count", "nodes_line", "outlier_row"]
