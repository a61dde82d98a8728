"""Provides PrepReleaseScreen: how a job's preparation and release tasks ran on each node.

`PrepReleaseScreen(job_id)`: one row per node that ran the job: the preparation task's state,
exit code, retries and times, and the release task's state and exit code. Failures stand
out. Enter opens the node's detail. A job without a preparation task says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from batch_tui.batch.errors import Conflict
from batch_tui.batch.models.job import (
    JobPreparationTaskExecutionInfo,
    JobPrepReleaseStatus,
    JobReleaseTaskExecutionInfo,
)
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.formatting import FAILED, MISSING, format_duration, format_time, state_style
from batch_tui.ui.routes import route
from batch_tui.ui.screens.base import ListScreen
from batch_tui.ui.screens.quiet_footer import QuietFooter
from batch_tui.ui.widgets.table_rows import Cell, Column, RowData
from batch_tui.ui.widgets.virtual_table import VirtualTable

NO_PREP_TASK: Final = "JobPreparationTaskNotSpecified"
"""The error code of the status list for a job without a preparation task."""

PREP_COLUMNS: Final = (
    Column("node", "Node", min_width=10, max_width=40),
    Column("pool", "Pool", min_width=6, max_width=20),
    Column("prep", "Prep", min_width=9, max_width=10),
    Column("prep-exit", "Exit", min_width=4, max_width=5, align="right"),
    Column("prep-retries", "Retry", min_width=5, max_width=5, align="right"),
    Column("prep-ran", "Ran", min_width=5, max_width=7, align="right"),
    Column("release", "Release", min_width=9, max_width=10),
    Column("release-exit", "Exit", min_width=4, max_width=5, align="right"),
    Column("ended", "Ended", min_width=8, max_width=14),
)
"""The columns; they fit 80 cells."""

Run = JobPreparationTaskExecutionInfo | JobReleaseTaskExecutionInfo


def _run_failed(run: Run | None) -> bool:
    if run is None:
        return False
    return run.result == "failure" or run.exit_code not in (None, 0) or bool(run.failure_info)


def _state_cell(run: Run | None) -> Cell:
    if run is None:
        return MISSING
    failed = _run_failed(run)
    text = "failed" if failed else run.state or MISSING
    return Content.styled(text, state_style("task", run.state, failed=failed))


def _exit(run: Run | None) -> str:
    return MISSING if run is None or run.exit_code is None else str(run.exit_code)


def status_row(status: JobPrepReleaseStatus, now: datetime) -> RowData:
    """Returns the row of one node's preparation and release runs."""
    prep = status.job_preparation_task_execution_info
    release = status.job_release_task_execution_info
    ran = None
    if prep is not None and prep.start_time is not None:
        ran = (prep.end_time or now) - prep.start_time
    last = release or prep
    cells: tuple[Cell, ...] = (
        status.node_id or MISSING,
        status.pool_id or MISSING,
        _state_cell(prep),
        _exit(prep),
        str(prep.retry_count) if prep is not None else MISSING,
        format_duration(ran),
        _state_cell(release),
        _exit(release),
        format_time(last.end_time if last is not None else None, now),
    )
    failed = _run_failed(prep) or _run_failed(release)
    key = f"{status.pool_id or ''}/{status.node_id or ''}"
    return RowData(key, cells, style=FAILED if failed else None)


class PrepReleaseScreen(QuietFooter, ListScreen):
    """A job's preparation/release task status per node."""

    REFRESH_KIND = "detail"
    COLUMNS = PREP_COLUMNS

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("jobs", self.job_id, "prep/release")

    async def load_data(self) -> None:
        try:
            cached = await self.cache.list_job_prep_release_status(self.job_id, force=self.forced)
        except Conflict as error:
            if error.code != NO_PREP_TASK:
                raise
            self.table.set_rows([])
            self.notice("This job has no job preparation task: nothing runs per node.")
            return
        statuses = self.track(cached)
        now = self.now()
        self.table.set_rows(status_row(status, now) for status in statuses)
        self.notice("" if statuses else "No node has run this job yet.")

    def compose_body(self) -> ComposeResult:
        yield Static(id="prep-note", classes="muted hidden", markup=False)
        yield from super().compose_body()

    def notice(self, text: str) -> None:
        """Shows a note above the table ("" hides it)."""
        note = self.query_one("#prep-note", Static)
        note.update(text)
        note.set_class(not text, "hidden")

    def open_row(self, key: str) -> None:
        pool_id, _, node_id = key.partition("/")
        if not pool_id or not node_id:
            return
        self.batch_app.open(route("node", pool_id, node_id))

    def row_entity(self, table: VirtualTable, key: str) -> EntityRef | None:
        pool_id, _, node_id = key.partition("/")  # the node the row's status is of
        return EntityRef.node(pool_id, node_id) if pool_id and node_id else None
