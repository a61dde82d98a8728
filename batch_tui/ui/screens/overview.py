"""Provides the account overview: pools with node counts by state, jobs with task progress.

When the cache was seeded from the last-known snapshot (`batch_tui.batch.snapshot`), the
overview shows that data as soon as it mounts, its section titles marked "cached 2h ago,
refreshing…", and the live refresh replaces it; a successful refresh asks the app to save
the snapshot (`AccountSession.save_snapshot_soon`, throttled).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Static

from batch_tui.batch.cache import Cached, query_of
from batch_tui.batch.errors import BatchError
from batch_tui.batch.models import Job, Pool, PoolNodeCounts, TaskCountsResult
from batch_tui.ui.actions import specs_of
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.formatting import FAILED, format_age, progress_bar, state_style
from batch_tui.ui.history import History
from batch_tui.ui.history_view import job_eta_short, pool_trend
from batch_tui.ui.node_counts import node_state_counts, states_cell
from batch_tui.ui.overview_reads import (
    JOB_FIELDS,
    MAX_COUNTED_JOBS,
    POOL_FIELDS,
    read_jobs,
    read_pools,
)
from batch_tui.ui.routes import route
from batch_tui.ui.screens.base import FilterBar, ListScreen, ListTable
from batch_tui.ui.screens.pool_actions import PoolActionScreen
from batch_tui.ui.screens.screen_actions import action_binding
from batch_tui.ui.widgets.table_rows import Column, RowData
from batch_tui.ui.widgets.virtual_table import VirtualTable

PARALLEL_COUNTS = 8
"""Task-count requests in flight at once."""

T = TypeVar("T")

FAILED_NODE_STATES = frozenset({"starttaskfailed", "unusable", "unknown"})


def oldest_stale(*results: Cached[Any] | None) -> datetime | None:
    """When the oldest stale (seeded or failed-refresh) result was fetched; None if none is."""
    stale = [result.fetched_at for result in results if result is not None and result.stale]
    return min(stale, default=None)


def section_title(
    name: str, count: int, cached_at: datetime | None, now: datetime, refreshing: bool = False
) -> str:
    """A section's title: "Pools (3)", or "Pools (3) · cached 2h ago, refreshing…" for
    data older than this refresh (seeded from the snapshot, or kept after a failure)."""
    title = f"{name} ({count})"
    if cached_at is None:
        return title
    mark = f"{title} · cached {format_age(cached_at, now)} ago"
    return f"{mark}, refreshing…" if refreshing else mark


def _value(cached: Cached[T] | None) -> T | None:
    return None if cached is None else cached.value


def pool_row(pool: Pool, counts: PoolNodeCounts | None, trend: Content | None = None) -> RowData:
    """Returns the overview row of a pool; `trend` its history cell (`pool_trend`)."""
    states = node_state_counts(counts)
    failing = bool(pool.resize_errors) or any(states.get(state) for state in FAILED_NODE_STATES)
    alloc = Content.styled(pool.allocation_state, state_style("pool", pool.allocation_state))
    if pool.resize_errors:
        alloc = alloc.append_text(" resize error", FAILED)
    dedicated = f"{pool.current_dedicated_nodes}/{pool.target_dedicated_nodes}"
    low = f"{pool.current_low_priority_nodes}/{pool.target_low_priority_nodes}"
    cells = (pool.id, alloc, pool.vm_size, dedicated, low, states_cell(states), trend or "")
    return RowData(pool.id, cells, style=FAILED if failing else None)


def job_pool_id(job: Job) -> str | None:
    """The pool a job runs on: the one it was given, or the auto pool made for it."""
    return (job.execution_info.pool_id if job.execution_info else None) or (
        job.pool_info.pool_id if job.pool_info else None
    )


def job_row(
    job: Job, counts: TaskCountsResult | None, bar_width: int = 12, history: History | None = None
) -> RowData:
    """Returns the overview row of a job, with its task counts, a progress bar and its ETA
    from the `history` of its completions."""
    pool = job_pool_id(job)
    state = Content.styled(job.state, state_style("job", job.state))
    if counts is None:
        numbers: tuple[str | Content, ...] = ("-", "-", "-", "-", "", "-")
        failing = False
    else:
        c = counts.task_counts
        total = c.active + c.running + c.completed
        failed = Content.styled(str(c.failed), FAILED if c.failed else "")
        bar = f"{progress_bar(c.completed, total, bar_width)} {c.completed}/{total}"
        eta = job_eta_short(history, job.id, c)
        numbers = (str(c.active), str(c.running), str(c.succeeded), failed, bar, eta)
        failing = c.failed > 0
    cells = (job.id, state, pool or "-", *numbers)
    return RowData(job.id, cells, style=FAILED if failing else None)


class OverviewScreen(PoolActionScreen, ListScreen):
    """What the account is doing: pools by node state, jobs by task state; failures in red.

    The pool actions (resize, autoscale ...) act on the pool row under the cursor.
    """

    REFRESH_KIND = "overview"
    COLUMNS: ClassVar[Sequence[Column]] = (
        Column("id", "Pool", min_width=6, max_width=28, cut="middle"),
        Column("alloc", "Allocation", min_width=6, max_width=24),
        Column("vm", "VM size", min_width=6, max_width=20),
        Column("dedicated", "Ded", min_width=3, max_width=9, align="right"),
        Column("low", "Low", min_width=3, max_width=9, align="right"),
        Column("nodes", "Nodes by state", min_width=10, max_width=80),
        Column("trend", "Trend", min_width=5, max_width=17, sortable=False),
    )
    JOB_COLUMNS: ClassVar[Sequence[Column]] = (
        Column("id", "Job", min_width=6, max_width=28, cut="middle"),
        Column("state", "State", min_width=6, max_width=12),
        Column("pool", "Pool", min_width=4, max_width=20),
        Column("active", "Act", min_width=3, max_width=8, align="right"),
        Column("running", "Run", min_width=3, max_width=8, align="right"),
        Column("succeeded", "OK", min_width=3, max_width=8, align="right"),
        Column("failed", "Fail", min_width=4, max_width=8, align="right"),
        Column("progress", "Progress", min_width=8, max_width=30),
        Column("eta", "ETA", min_width=3, max_width=14, sortable=False),
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "heatmap", "Heatmap", id="overview.heatmap",
                tooltip="The pool's node heatmap"),
        Binding("d", "pool_detail", "Pool detail", id="overview.pool-detail",
                tooltip="The pool's settings and errors"),
        Binding("P", "pool_tree", "Pool tree", id="overview.pool-tree",
                tooltip="Pools and nodes by state"),
        Binding("J", "job_list", "Jobs", id="overview.jobs", tooltip="The job list"),
        Binding("C", "schedule_list", "Schedules", id="overview.schedules",
                tooltip="The job schedules (cron)"),
        # Off the key bar, in help (`?`): at 80 columns they would push out enter (Open).
        *(dataclasses.replace(action_binding(spec), show=False) for spec in specs_of("pool")),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self._pool_data: dict[str, Pool] = {}
        """The pools as last listed, by id (the pool actions' subjects)."""
        self._history: History | None = None
        """The account's history, once opened (the first refresh opens it)."""
        self._listed_pools: tuple[Cached[list[Pool]], Cached[list[PoolNodeCounts]]] | None = None
        self._listed_jobs: tuple[Cached[list[Job]], dict[str, Cached[TaskCountsResult]]] | None = (
            None
        )
        """This refresh's reads, sampled into the history when both have arrived."""

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("overview",)

    def compose_body(self) -> ComposeResult:
        yield Static("Pools", classes="section-title", id="pools-title")
        yield ListTable(self.COLUMNS, id="list-table")
        yield Static("Jobs", classes="section-title", id="jobs-title")
        yield ListTable(self.JOB_COLUMNS, id="jobs-table")
        yield FilterBar()

    @property
    def jobs_table(self) -> VirtualTable:
        """The job table (the pool table is `self.table`)."""
        return self.query_one("#jobs-table", VirtualTable)

    def _pool_focused(self) -> bool:
        return self.active_table() is self.table

    def on_mount(self) -> None:
        # Textual runs every class's on_mount in the MRO: no super() call here.
        self._show_snapshot()

    def _show_snapshot(self) -> None:
        """Shows data seeded from the last-known snapshot at once, marked, until live data lands.

        Only stale data is shown here (seeded, or kept after a failed refresh); fresh data in
        the cache means the refresh about to start will show it in a moment anyway.
        """
        cache = self.cache
        pools = cache.peek("pools", query_of(select=POOL_FIELDS))
        if pools is not None and pools.stale:
            self._show_pools(pools, cache.peek("nodecounts"), refreshing=True)
        jobs = cache.peek("jobs", query_of(select=JOB_FIELDS))
        if jobs is not None and jobs.stale:
            peeked = {job.id: cache.peek(f"jobs/{job.id}/taskcounts") for job in jobs.value}
            counts = {job_id: found for job_id, found in peeked.items() if found is not None}
            self._show_jobs(jobs, counts, refreshing=True)

    async def load_data(self) -> None:
        # Pools show as soon as they arrive; the jobs wait for their task counts. Both are
        # awaited before the refresh counts as done, and the first error is raised after.
        self._history = self._history or await self.session.open_history()
        self._listed_pools = self._listed_jobs = None
        results = await asyncio.gather(
            self._load_pools(), self._load_jobs(), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        self._sample()
        self.run_worker(self.session.save_history_soon(), group="history-save", exit_on_error=False)
        saving = self.session.save_snapshot_soon(self.now())
        self.run_worker(saving, group="snapshot-save", exit_on_error=False)

    def _sample(self) -> None:
        """Samples this refresh's reads into the history (no request of its own): each
        pool's nodes by state and the tasks running on it, each counted job's completions;
        then redraws the trends and ETAs."""
        if self._history is None or self._listed_pools is None or self._listed_jobs is None:
            return
        pools, node_counts = self._listed_pools
        jobs, task_counts = self._listed_jobs
        now = self.now()
        running: dict[str, int] = {}
        for job in jobs.value:
            cached = task_counts.get(job.id)
            pool_id = job_pool_id(job)
            if cached is not None and pool_id:
                running[pool_id] = running.get(pool_id, 0) + cached.value.task_counts.running
        by_pool = {item.pool_id: item for item in node_counts.value}
        states = {pool.id: node_state_counts(by_pool.get(pool.id)) for pool in pools.value}
        self._history.record_pools(now, states, running)
        completed = {key: found.value.task_counts.completed for key, found in task_counts.items()}
        self._history.record_jobs(now, completed)
        self._show_pools(pools, node_counts)
        self._show_jobs(jobs, task_counts)

    async def _load_pools(self) -> None:
        pools, counts = await read_pools(self.cache, self.forced)
        self.track(pools)
        self.track(counts)
        self._listed_pools = (pools, counts)
        self._show_pools(pools, counts)

    def _show_pools(
        self,
        pools: Cached[list[Pool]],
        counts: Cached[list[PoolNodeCounts]] | None,
        *,
        refreshing: bool = False,
    ) -> None:
        by_pool = {item.pool_id: item for item in (counts.value if counts else ())}
        self._pool_data = {pool.id: pool for pool in pools.value}
        history = self._history
        self.table.set_rows(
            pool_row(
                pool, by_pool.get(pool.id), pool_trend(history.pool(pool.id) if history else None)
            )
            for pool in pools.value
        )
        self.session.remember_ids("pool", (pool.id for pool in pools.value))
        title = section_title(
            "Pools", len(pools.value), oldest_stale(pools, counts), self.now(), refreshing
        )
        self.query_one("#pools-title", Static).update(title)

    async def _load_jobs(self) -> None:
        jobs = await read_jobs(self.cache, self.forced)
        self.track(jobs)
        counts = await self._task_counts(jobs.value)
        self._listed_jobs = (jobs, counts)
        self._show_jobs(jobs, counts)

    def _show_jobs(
        self,
        jobs: Cached[list[Job]],
        counts: Mapping[str, Cached[TaskCountsResult]],
        *,
        refreshing: bool = False,
    ) -> None:
        self.session.remember_ids("job", (job.id for job in jobs.value))
        rows = (
            job_row(job, _value(counts.get(job.id)), history=self._history) for job in jobs.value
        )
        self.jobs_table.set_rows(rows)
        cached_at = oldest_stale(jobs, *counts.values())
        title = section_title("Jobs", len(jobs.value), cached_at, self.now(), refreshing)
        self.query_one("#jobs-title", Static).update(title)

    async def _task_counts(self, jobs: Sequence[Job]) -> dict[str, Cached[TaskCountsResult]]:
        """Fetches task counts for the first jobs, unfinished first; a failure leaves a gap."""
        chosen = sorted(jobs, key=lambda job: job.state == "completed")[:MAX_COUNTED_JOBS]
        gate = asyncio.Semaphore(PARALLEL_COUNTS)

        async def one(job_id: str) -> tuple[str, Cached[TaskCountsResult] | None]:
            async with gate:
                try:
                    cached = await self.cache.get_task_counts(job_id, force=self.forced)
                except BatchError:
                    return job_id, None
                self.track(cached)
                return job_id, cached

        results = await asyncio.gather(*(one(job.id) for job in chosen))
        return {job_id: counts for job_id, counts in results if counts is not None}

    def availability(self, action: str) -> bool | None:
        if action in ("heatmap", "pool_detail"):
            return True if self._pool_focused() and self.table.cursor_key else None
        return True

    def pool_targets(self) -> tuple[str, ...]:
        key = self.table.cursor_key if self._pool_focused() else None
        return (key,) if key else ()

    def known_pool(self, pool_id: str) -> Pool | None:
        return self._pool_data.get(pool_id)

    def open_row(self, key: str) -> None:
        self.batch_app.open(route("nodes", key) if self._pool_focused() else route("job", key))

    def row_entity(self, table: VirtualTable, key: str) -> EntityRef | None:
        return EntityRef.pool(key) if table is self.table else EntityRef.job(key)

    def action_heatmap(self) -> None:
        """Opens the heatmap of the pool under the cursor."""
        if self.table.cursor_key:
            self.batch_app.open(route("heatmap", self.table.cursor_key))

    def action_pool_detail(self) -> None:
        """Opens the detail of the pool under the cursor."""
        if self.table.cursor_key:
            self.batch_app.open(route("pool", self.table.cursor_key))

    def action_pool_tree(self) -> None:
        """Opens the pool tree."""
        self.batch_app.open(route("pools"))

    def action_job_list(self) -> None:
        """Opens the job list."""
        self.batch_app.open(route("jobs"))

    def action_schedule_list(self) -> None:
        """Opens the job schedule list."""
        self.batch_app.open(route("schedules"))
