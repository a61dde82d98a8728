"""Provides JobDetailScreen: a job's detail and its task list, built for 100,000 tasks.

`JobDetailScreen(job_id)`: the job (state, pool, priority, task counts; `i` adds constraints,
execution info and the manager/prep/release tasks) over its tasks. The state filter runs on
the service (`$filter`): `1` all, `2` active, `3` running, `4` completed, `5` failed. Tasks
stream in page by page (the first page shows at once); later refreshes fetch only the tasks
whose state changed since (`stateTransitionTime ge ...`), and `r` reloads everything. `/`
filters the rows (`exit:137 state:failed node:tvm-3 oom`: exit code, state, result and retries
go to the service as `$filter` on enter, the rest filter here; `TermFilterScreen`), `g` goes
to a task by id (fetching it when it is not loaded), `enter` opens the task, `P` the job
preparation/release status, `F` failure triage (the failed tasks grouped by cause), `H` the
tasks' run times (histogram, outliers). Task
actions on the marked tasks (or the cursor's): `t` terminate, `R` reactivate, `ctrl+d`
delete; job actions on the job: `T` terminate, `D` disable, `E` enable, `X` delete. `a` adds
a task from a JSON body, `C` clones the cursor's task (a rerun after a fix): see
`create_flows`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import Static

from batch_tui.batch import odata
from batch_tui.batch.errors import BatchError, NotFound
from batch_tui.batch.id_range_listing import ListingStats
from batch_tui.batch.models.job import Job, TaskCounts, TaskCountsResult
from batch_tui.batch.models.task import Task
from batch_tui.batch.task_snapshot import TaskListSnapshot
from batch_tui.ui import heap
from batch_tui.ui.action_runs import Outcome
from batch_tui.ui.actions import ACTIONS, Kind, Scope
from batch_tui.ui.actions import ActionSpec as Spec
from batch_tui.ui.commands import id_kind
from batch_tui.ui.delta import DeltaPlan, newer
from batch_tui.ui.detail_fields import field_lines
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.formatting import FAILED, Colors, format_age, progress_bar, terminal_style
from batch_tui.ui.history_view import job_eta
from batch_tui.ui.job_fields import job_info
from batch_tui.ui.routes import route
from batch_tui.ui.screens import create_flows
from batch_tui.ui.screens.dialogs import PromptScreen
from batch_tui.ui.screens.quiet_footer import QuietFooter
from batch_tui.ui.screens.screen_actions import action_binding, action_bindings
from batch_tui.ui.screens.term_filter import TermFilterScreen
from batch_tui.ui.task_rows import (
    STATE_FILTERS,
    TASK_COLUMNS,
    TASK_FIELDS,
    TASK_FILTER_COLUMNS,
    task_failed,
    task_row,
)
from batch_tui.ui.widgets.table_lines import terminal_colors
from batch_tui.ui.widgets.virtual_table import VirtualTable

FLUSH_SECONDS: Final = 0.3
"""How often streamed pages are merged into the table: a few times a second keeps the count
moving without re-sorting 100,000 rows for every 1,000-row page."""

FULL_RELOAD_EVERY: Final = 20
"""Refreshes between full reloads (deleted tasks only show up in a full list)."""

_STATE_KEYS: Final = tuple(STATE_FILTERS)


def listed_counts(tasks: Iterable[Task]) -> TaskCounts:
    """Counts listed tasks by state as the state tabs do (preparing ones run)."""
    states: Counter[str | None] = Counter()
    failed = 0
    for task in tasks:
        states[task.state] += 1
        failed += task.state == "completed" and task_failed(task)
    completed = states["completed"]
    running = states["running"] + states["preparing"]
    return TaskCounts(
        active=states["active"], running=running, completed=completed,
        succeeded=completed - failed, failed=failed,
    )  # fmt: skip


def tasks_line(counts: TaskCounts, colors: Colors, note: str = "") -> Content:
    """The header's task counts, failed and running first (they stay in view at 80
    columns): "██▌       12/40 done · 3 failed · 5 running · 20 active"."""
    total = counts.active + counts.running + counts.completed
    failed = f"{counts.failed:,} failed"
    return Content.assemble(
        (progress_bar(counts.completed, total, 10), terminal_style("ansi_green", colors)),
        f" {counts.completed:,}/{total:,} done · ",
        (failed, terminal_style(FAILED, colors)) if counts.failed else failed,
        f" · {counts.running:,} running · {counts.active:,} active",
        (note, "bold") if note else "",
    )


KEPT_FIRST_ROWS: Final = 1_000
"""Rows of a kept listing shown before the rest: a page's worth, as a cold listing's first."""

PAINT_PAUSE: Final = 0.05
"""Seconds a reopened job waits after its first rows, so that a frame shows them before the
rest of the rows are built (a few frames at Textual's 60 a second)."""

REMEMBERED_TASKS = 10_000
"""A job's task ids are kept for completion up to this many (a bigger job's would cost memory
and a sort per tab press for little: its ids are not typed from memory)."""


class JobDetailScreen(QuietFooter, TermFilterScreen):
    """A job and its tasks."""

    CSS_PATH = "job_detail.tcss"
    REFRESH_KIND = "tasks"
    COLUMNS = TASK_COLUMNS
    FILTER_COLUMNS = TASK_FILTER_COLUMNS
    FILTER_HINT = "exit:137 state:failed node:… or a regex"

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(str(index + 1), f"state('{key}')", f"{key.capitalize()}", show=index == 0,
                    id=f"tasks.state-{key}", tooltip=f"Show {key} tasks (filtered by the service)")
            for index, key in enumerate(_STATE_KEYS)
        ),
        Binding("ctrl+g", "go_to_task", "Go to", id="tasks.go-to", tooltip="Go to a task by id"),
        Binding("i", "toggle_info", "Info", id="job.info", tooltip="More or less job detail"),
        Binding("P", "prep_release", "Prep/release", id="job.prep-release",
                tooltip="Job preparation and release status per node"),
        Binding("F", "failures", "Failures", id="job.failures",
                tooltip="Failed tasks grouped by cause (exit code, failure, stderr)"),
        Binding("H", "run_times", "Run times", id="job.run-times", show=False,
                tooltip="Histogram of the tasks' run times and the slowest tasks"),
        *action_bindings("task", "job"),
        action_binding(ACTIONS["task.add"]),
        action_binding(ACTIONS["task.clone"]),
    ]  # fmt: skip

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.job: Job | None = None
        self.counts: TaskCountsResult | None = None
        self.state_key = "all"
        """The server-side state filter in use (a key of `STATE_FILTERS`)."""
        self.task_by_id: dict[str, Task] = {}
        """The loaded tasks, by id."""
        self.streaming = False
        """A full listing is streaming in."""
        self._full_info = False
        self._delta = DeltaPlan(full_every=FULL_RELOAD_EVERY)
        self._generation = 0
        self._delta_after_listing = False
        self._listed = False
        """The tasks of the state tab are all loaded (a listing finished)."""
        self._kept_checked = False
        self.kept_at: datetime | None = None
        """When the rows on screen were listed, while they come from a kept listing that the
        first refresh has not brought up to date yet."""

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("jobs", self.job_id)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="job-info-box"):
            yield Static(id="job-info")
        yield Static(id="task-states")
        yield from super().compose_body()

    def on_mount(self) -> None:
        # Tasks are listed by state, several streams at once: in id order, the list reads
        # as one listing would (the service lists ids in order).
        self.table.order_by_key()

    # -- refresh ------------------------------------------------------------------------

    async def load_data(self) -> None:
        if not self._kept_checked:
            self._kept_checked = True
            await self._restore_kept()
        job_c, counts_c = await asyncio.gather(
            self.cache.get_job(self.job_id, force=self.forced),
            self.cache.get_task_counts(self.job_id, force=self.forced),
        )
        self.job, self.counts = self.track(job_c), self.track(counts_c)
        await self._sample(self.counts)
        self.session.remember_ids("job", (self.job_id,))
        self.show_job()
        if self.streaming:
            return
        if self._delta.wants_full(forced=self.forced):
            self.start_stream()
        else:
            await self._load_delta()
            self.show_job()  # counts from the list just updated

    async def _sample(self, counts: TaskCountsResult) -> None:
        """Samples the job's completions into the history (for its rate and ETA)."""
        history = await self.session.open_history()
        history.record_jobs(self.now(), {self.job_id: counts.task_counts.completed})

    def _eta(self) -> str:
        """The job's ETA from its recent rate: "~14 min left at 212 tasks/min", "-"."""
        c = self.counts.task_counts if self.counts is not None else TaskCounts()
        return job_eta(self.session.history, self.job_id, c)

    def show_job(self) -> None:
        """Redraws the job panel and the state bar."""
        if self.job is not None:
            pairs = job_info(self.job, self.counts, self.now(), full=self._full_info)
            if self.counts is not None:
                tasks = self._tasks_line()
                pairs = [(name, tasks if name == "Tasks" else value) for name, value in pairs]
                # Beside the state, not on a line of its own: the panel shows four lines.
                eta = f" · ETA {self._eta()}"
                pairs = [
                    (name, Content.assemble(value or "", eta) if name == "State" else value)
                    for name, value in pairs
                ]
            self.query_one("#job-info", Static).update(field_lines(pairs))
        self._show_states()

    def _tasks_line(self) -> Content:
        """The task counts: counted from the list when it holds all the job's tasks, so
        that they agree with the state tabs; else the service's, which can lag the list
        by seconds (then, when the tab's listed tasks differ, the line says so)."""
        colors = terminal_colors(self.app)
        counted = self.counts.task_counts if self.counts is not None else TaskCounts()
        if not self._listed or self.streaming or self.service_filter is not None:
            return tasks_line(counted, colors)  # the list holds only some of a state's tasks
        if self.state_key == "all":
            return tasks_line(listed_counts(self.task_by_id.values()), colors)
        listed = len(self.task_by_id)
        service = getattr(counted, self.state_key)
        if listed == service:
            return tasks_line(counted, colors)
        note = f" · service counts lag: {listed:,} {self.state_key} listed"
        return tasks_line(counted, colors, note)

    def _show_states(self) -> None:
        parts: list[str | tuple[str, str]] = ["Tasks: "]
        for index, key in enumerate(_STATE_KEYS):
            style = "reverse bold" if key == self.state_key else ""
            parts.extend([(f"{index + 1} {key}", style), " "])
        if self.streaming:
            parts.append(f"· loading… {len(self.task_by_id):,}")
        elif self.kept_at is not None:
            parts.append(f"· as listed {format_age(self.kept_at, self.now())} ago, refreshing…")
        self.query_one("#task-states", Static).update(Content.assemble(*parts))

    def start_stream(self) -> None:
        """Lists the tasks again from the start, page by page, in its own worker."""
        self.streaming = True
        self._generation += 1
        self._show_states()
        self.run_worker(
            self._stream_tasks(self._generation),
            group="job-detail-tasks",
            exclusive=True,
            exit_on_error=False,
        )

    async def _stream_tasks(self, generation: int) -> None:
        started = time.monotonic()
        listed = False
        try:
            await self._stream_pages(started)
            listed = True
        except Exception as error:  # noqa: BLE001 - a BatchError, or a bug: shown, never raised
            self.show_error(error)
        finally:
            if generation == self._generation:  # not replaced by a newer stream
                # NoMatches: the screen was closed while its tasks streamed in (a deleted job
                # goes back); there is nothing left to draw on.
                with contextlib.suppress(NoMatches):
                    self._stream_done(listed)

    def _stream_done(self, listed: bool) -> None:
        self.streaming = False
        self._listed = self._listed or listed
        self.show_job()
        self.update_status()
        if listed and self._delta_after_listing:
            # Listed in parts: catch the tasks that changed state while it ran, now.
            self.refresh_data()

    async def _stream_pages(self, started: float) -> None:
        """Lists the tasks again and merges them in as they arrive: the first page at once,
        later ones a few times a second. Rows already on screen stay where they are (the
        cursor does not jump); rows of tasks that are gone leave at the end.

        All of a job's tasks ("all") are listed in ranges of ids, several at once
        (`BatchClient.iter_job_tasks`): each range's pages come in id order, and a task that
        changed state since its page was read is caught by the delta refresh right after.
        """
        server = self._listing_filter()
        parts = ListingStats()
        if server is None:
            pages = self.client.iter_job_tasks(self.job_id, select=TASK_FIELDS, stats=parts)
        else:
            pages = self.client.iter_tasks(self.job_id, select=TASK_FIELDS, filter=server)
        self._delta_after_listing = False
        seen: dict[str, Task] = {}
        pending: dict[str, Task] = {}
        last_flush = 0.0
        try:
            async for page in pages:
                for task in page:
                    if newer(task, seen.get(task.id)):
                        seen[task.id] = pending[task.id] = task
                if time.monotonic() - last_flush >= FLUSH_SECONDS:
                    self._merge(pending)
                    pending, last_flush = {}, time.monotonic()
        except BatchError:
            self._merge(pending)  # a listing the client stopped keeps what it had listed
            raise
        self._merge(pending)
        gone = [task_id for task_id in self.task_by_id if task_id not in seen]
        if gone:
            self.forget_tasks(gone)
        stamps = (task.state_transition_time for task in seen.values())
        self._delta.listed(stamps, time.monotonic() - started)
        if len(seen) <= REMEMBERED_TASKS:  # `:task JOB <tab>` completes them
            self.session.remember_ids(id_kind("task", self.job_id), seen)
        self._delta_after_listing = parts.ranges > 1
        self.kept_at = None
        await self._keep()

    def _listing_filter(self) -> odata.Filter | None:
        """The `$filter` of the listing: the state tab's and the `/` filter's service terms."""
        parts = [STATE_FILTERS[self.state_key].server, self.service_filter]
        given = [part for part in parts if part is not None]
        return odata.and_(*given) if given else None

    def _listing_test(self) -> Callable[[Task], bool]:
        """`_listing_filter` on a task in hand (a delta refresh drops tasks that left it)."""
        state, terms = STATE_FILTERS[self.state_key].matches, self.service_test
        if terms is None:
            return state
        return lambda task: state(task) and terms(task)

    def _merge(self, tasks: dict[str, Task]) -> None:
        """Adds or replaces streamed tasks in the list."""
        now = self.now()
        self.task_by_id.update(tasks)
        self.table.update_rows([task_row(task, now) for task in tasks.values()])
        self._show_states()
        self.update_status()

    async def _load_delta(self) -> None:
        """Fetches the tasks whose state changed since the last listing and merges them."""
        since = self._delta.changed_since()
        changed = await self.client.list_tasks_changed(self.job_id, since, select=TASK_FIELDS)
        matches = self._listing_test()
        keep = [task for task in changed if matches(task)]
        gone = [task.id for task in changed if not matches(task) and task.id in self.task_by_id]
        for task in keep:
            self.task_by_id[task.id] = task
        for task_id in gone:
            del self.task_by_id[task_id]
        now = self.now()
        self.table.update_rows([task_row(task, now) for task in keep])
        if gone:
            self.table.remove_keys(gone)
        self._delta.changed(task.state_transition_time for task in changed)
        if self.kept_at is not None:
            self.kept_at = None
            self._show_states()
        fresh = {task.id for task in keep}
        self.redraw_in_view(
            lambda key: (
                None
                if key in fresh or (task := self.task_by_id.get(key)) is None
                else task_row(task, now)
            )
        )

    async def _restore_kept(self) -> None:
        """Shows the job's last listing at once (kept by this session, or on disk from an
        earlier one); the refresh that follows asks only for the tasks changed since."""
        if self._listing_filter() is not None or self.task_by_id:
            return
        kept = await self.session.load_task_list(self.job_id)
        if kept is None or not kept.tasks or kept.since is None:
            return
        # The first screenful first, painted, then the rest: building 100,000 rows before the
        # first frame made a reopen paint later than a cold listing's first page.
        first, rest = kept.tasks[:KEPT_FIRST_ROWS], kept.tasks[KEPT_FIRST_ROWS:]
        self._merge({task.id: task for task in first})
        if rest:
            await asyncio.sleep(PAINT_PAUSE)
            self._merge({task.id: task for task in rest})
        self._delta.since, self._delta.listing_seconds = kept.since, kept.listing_seconds
        self._listed = True
        self.kept_at = kept.saved_at
        self._show_states()

    def _kept_listing(self, *, listed: bool) -> TaskListSnapshot | None:
        """The rows of the whole job (no tab, no service term) as a listing to keep, if a
        listing of them finished."""
        if self._listing_filter() is not None or not listed or self._delta.since is None:
            return None
        return TaskListSnapshot(
            endpoint=self.session.endpoint,
            job_id=self.job_id,
            saved_at=datetime.now(timezone.utc),
            since=self._delta.since,
            listing_seconds=self._delta.listing_seconds,
            tasks=list(self.task_by_id.values()),
        )

    async def _keep(self) -> None:
        listing = self._kept_listing(listed=True)
        if listing is not None:
            await self.session.keep_task_list(listing)

    def on_unmount(self) -> None:
        # Closed: keep the rows as they are now (deltas included) for the next opening. The
        # app runs the save: this screen's workers stop with it.
        listing = self._kept_listing(listed=self._listed)
        if listing is not None and self.app.is_running:
            self.app.run_worker(self.session.keep_task_list(listing), exit_on_error=False)

    def on_screen_resume(self) -> None:
        # Back from a task's detail, where it may have changed: a delta is one small request.
        # (Textual also runs BatchScreen's handler, which resumes the timer.)
        if self._gone:
            return  # deleted meanwhile: BatchScreen's handler goes back
        if self._delta.since is not None and not self.streaming and self.is_mounted:
            self.refresh_data()

    def tasks_deleted(self, job_id: str, task_ids: Sequence[str]) -> None:
        if job_id == self.job_id:
            self.forget_tasks(task_ids)

    def forget_tasks(self, task_ids: Iterable[str]) -> None:
        """Drops deleted tasks from the list (a delta refresh cannot see deletions)."""
        gone = [task_id for task_id in task_ids if self.task_by_id.pop(task_id, None)]
        self.table.remove_keys(gone)

    # -- keys ---------------------------------------------------------------------------

    def action_state(self, key: str) -> None:
        """Shows the tasks of one state, filtered by the service."""
        if key not in STATE_FILTERS or key == self.state_key and not self.streaming:
            return
        self.state_key = key
        self._list_again()

    def service_filter_changed(self) -> None:
        self._list_again()

    def _list_again(self) -> None:
        """Lists the tasks of another state tab or `$filter` from the start."""
        heap.drop_later(self.task_by_id)  # 100,000 tasks: freed a chunk at a time
        self.task_by_id = {}
        self._listed = False
        self._delta.forget()
        self.table.set_rows([])
        self.start_stream()

    def action_toggle_info(self) -> None:
        """Shows more or less of the job."""
        self._full_info = not self._full_info
        self.set_class(self._full_info, "full-info")
        self.show_job()

    def action_prep_release(self) -> None:
        """Opens the job preparation/release status per node."""
        self.batch_app.open(route("prep-release", self.job_id))

    def action_failures(self) -> None:
        """Opens failure triage: the job's failed tasks grouped by cause."""
        self.batch_app.open(route("failures", self.job_id))

    def action_run_times(self) -> None:
        """Opens the run times of the job's tasks: from the tasks listed here when they are
        all of them (or all completed ones), else the screen lists them itself."""
        whole = self.state_key in ("all", "completed") and self.service_filter is None
        tasks = tuple(self.task_by_id.values()) if whole and self._listed else None
        self.batch_app.open(route("runtimes", self.job_id, tasks=tasks))

    def open_row(self, key: str) -> None:
        self.batch_app.open(route("task", self.job_id, key))

    def row_entity(self, table: VirtualTable, key: str) -> EntityRef | None:
        return EntityRef.task(self.job_id, key)

    def entity_under_cursor(self) -> EntityRef | None:
        # The job itself when its panel has the focus (tab), else the task under the cursor.
        if self.focused is self.query_one("#job-info-box"):
            return EntityRef.job(self.job_id)
        return super().entity_under_cursor()

    def export_subject(self, table: VirtualTable) -> tuple[str, ...]:
        return ("tasks", self.job_id)

    def action_go_to_task(self) -> None:
        """Asks for a task id and goes to it."""
        prompt = PromptScreen("Go to task", placeholder="task id")
        self.app.push_screen(prompt, callback=self.go_to_task)

    def go_to_task(self, task_id: str | None) -> None:
        """Moves the cursor to a loaded task, or fetches it and opens its detail."""
        task_id = (task_id or "").strip()
        if not task_id:
            return
        if self.table.move_cursor(task_id):
            return
        self.run_worker(self._open_unloaded(task_id), group="job-detail-go", exclusive=True)

    async def _open_unloaded(self, task_id: str) -> None:
        try:
            await self.cache.get_task(self.job_id, task_id)
        except NotFound:
            self.notify(f"No task {task_id} in job {self.job_id}", severity="error", markup=False)
            return
        except BatchError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.batch_app.open(route("task", self.job_id, task_id))

    # -- actions ------------------------------------------------------------------------

    def flow_add_task(self) -> None:
        """Adds a task to the job from a JSON body (`a`)."""
        create_flows.add_task(self, self.job_id)

    def flow_clone_task(self) -> None:
        """Clones the task under the cursor into a new one, its command line edited (`C`)."""
        task_id = self.table.cursor_key
        if task_id is None:
            self.notify("Clone: no task selected", severity="warning")
            return
        create_flows.clone_task(self, self.job_id, task_id)

    def action_targets(self, kind: Kind) -> tuple[str, ...]:
        if kind == "job":
            return (self.job_id,)
        return self.targets() if kind == "task" else ()

    def action_subject(self, kind: Kind, target: str) -> Job | Task | None:
        return self.job if kind == "job" else self.task_by_id.get(target)

    def action_scope(self) -> Scope:
        return Scope(job_id=self.job_id)

    def targets_marked(self, kind: Kind) -> bool:
        return kind == "task" and super().targets_marked(kind)

    def action_context(self, kind: Kind) -> str:
        return f"job {self.job_id}" if kind == "task" else ""

    def on_action_finished(self, spec: Spec, outcomes: Sequence[Outcome]) -> None:
        if spec.id == "job.delete" and all(outcome.error is None for outcome in outcomes):
            self.leave()
            return
        if spec.id == "task.delete":
            self.forget_tasks(outcome.target for outcome in outcomes if outcome.error is None)
        self.table.clear_marks()
        self.action_refresh_now()
