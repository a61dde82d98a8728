"""Provides failure triage: a job's failed tasks grouped by why they failed.

`FailuresScreen(job_id)` (`:failures JOB`, `F` on the job screen) lists the job's failed tasks
(the service filters them) and groups them by signature (`failure_signatures`): exit code,
failure code and the normalised last line of `stderr.txt`. The groups show at once by exit
and failure code, then split by stderr as the tails arrive (`failure_tails`: range reads of
the last 4 KiB, 16 at a time, stopped when the screen closes). Each group shows its
count and share, when it was first and last seen, its nodes ("one node": a bad node) and an
example task. `enter` opens the group's tasks (`FailureGroupScreen`); `R` reactivates and
`ctrl+d` deletes every task of the group under the cursor (or of the marked groups), after
a confirmation that names them (a typed count above ten).

Refreshes after the first listing ask only for the tasks whose state changed (a delta): new
failures join their groups, reactivated tasks leave them; `r` lists them all again (the
tails already read are kept).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import Static

from batch_tui.batch.models.task import Task
from batch_tui.ui.action_runs import Outcome
from batch_tui.ui.actions import ACTIONS, ActionSpec, Kind, Scope
from batch_tui.ui.delta import DeltaPlan
from batch_tui.ui.failure_groups import FailureGroup, FailureGroups, failed_task
from batch_tui.ui.failure_signatures import Signature
from batch_tui.ui.failure_tails import Tail, read_tails
from batch_tui.ui.formatting import MISSING, format_age
from batch_tui.ui.routes import route
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.base import ListScreen
from batch_tui.ui.screens.quiet_footer import QuietFooter
from batch_tui.ui.screens.screen_actions import action_binding, action_bindings
from batch_tui.ui.task_rows import STATE_FILTERS, TASK_COLUMNS, TASK_FIELDS, task_failed, task_row
from batch_tui.ui.widgets.table_rows import Column, RowData

FLUSH_SECONDS: Final = 0.25
"""How often arrived tails are shown: the groups move a few times a second, not per tail."""

FULL_RELOAD_EVERY: Final = 20
"""Refreshes between full listings (a delta cannot see deleted tasks)."""

GROUP_COLUMNS: Final = (
    Column("count", "Tasks", min_width=5, max_width=7, align="right"),
    Column("share", "Share", min_width=5, max_width=6, align="right"),
    Column("exit", "Exit", min_width=4, max_width=5, align="right"),
    Column("failure", "Failure", min_width=7, max_width=14),
    Column("nodes", "Nodes", min_width=8, max_width=10),
    Column("last", "Last", min_width=5, max_width=7, align="right"),
    Column("stderr", "Last line of stderr", min_width=16, max_width=200),
)
"""The group list's columns; they fit 80 cells."""

_FAILED: Final = STATE_FILTERS["failed"]


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else MISSING


def _nodes_cell(group: FailureGroup) -> str:
    summary = group.summary()
    if summary.one_node is not None:
        return "one node"
    count = len([node for node in summary.nodes if node])
    return f"{count:,} node{'s' if count != 1 else ''}" if count else "none"


def _stderr_cell(signature: Signature) -> Content | str:
    text = sanitize_text(signature.text)
    return text if signature.stderr == "line" else Content.styled(text, "italic")


def group_row(group: FailureGroup, total: int, now: datetime) -> RowData:
    """The list row of a group: count, share, exit code, failure code, nodes, last seen and
    the last line of stderr."""
    summary = group.summary()
    signature = group.signature
    exit_code = MISSING if signature.exit_code is None else str(signature.exit_code)
    last = summary.last
    cells = (
        f"{summary.count:,}",
        _share(summary.count, total),
        exit_code,
        _FAILURE_CODES.get(signature.code) or sanitize_text(signature.code) or MISSING,
        _nodes_cell(group),
        format_age(last, now),
        _stderr_cell(signature),
    )
    sort = (summary.count, summary.count, signature.exit_code, None, None,
            last.timestamp() if last is not None else None, None)  # fmt: skip
    return RowData(group.key, cells, sort_values=sort)


def group_detail(group: FailureGroup, total: int, now: datetime) -> str:
    """The lines under the list about the group under the cursor: its signature in full, its
    times, its nodes and an example task."""
    summary = group.summary()
    signature = group.signature
    exit_code = "no exit code" if signature.exit_code is None else f"exit {signature.exit_code}"
    failure = " ".join(part for part in (signature.category, signature.code) if part) or "-"
    tasks = f"{summary.count:,} task{'s' if summary.count != 1 else ''}"
    head = f"{exit_code} · {failure} · {tasks} ({_share(summary.count, total)})"
    head += f" · example {summary.example}"
    nodes = [node for node, _ in summary.nodes.most_common() if node]
    if summary.one_node is not None:
        where = f"all on one node: {summary.one_node}"
    elif len(nodes) == 1:
        where = f"node {nodes[0]}"
    elif nodes:
        top = ", ".join(f"{node} ({summary.nodes[node]})" for node in nodes[:2])
        where = f"{len(nodes):,} nodes, most: {top}"
    else:
        where = "no node (it never ran)"
    times = f"first {format_age(summary.first, now)} ago · last {format_age(summary.last, now)} ago"
    lines = (head, f"{times} · {where}", f"stderr: {signature.text}")
    return "\n".join(sanitize_text(line) for line in lines)


_FAILURE_CODES: Final = {"FailureExitCode": "exit code", "TaskEnded": "ended"}
"""Short names of the usual failure codes, for the list's narrow column (the detail under
the list shows the service's)."""


class FailuresScreen(QuietFooter, ListScreen):
    """A job's failed tasks, grouped by signature."""

    CSS_PATH = "failures.tcss"
    REFRESH_KIND = "tasks"
    COLUMNS = GROUP_COLUMNS

    BINDINGS: ClassVar[list[BindingType]] = [
        action_binding(ACTIONS["task.reactivate"]),
        action_binding(ACTIONS["task.delete"]),
    ]

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.groups = FailureGroups()
        self.listing = False
        """The failed tasks are being listed (or their tails read)."""
        self.tails_read = 0
        self._delta = DeltaPlan(full_every=FULL_RELOAD_EVERY)
        self._summary_shown: str | None = None
        self._detail_shown: str | None = None

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("jobs", self.job_id, "failures")

    def compose_body(self) -> ComposeResult:
        yield Static(id="failures-summary", markup=False)
        yield from super().compose_body()
        yield Static(id="failures-detail", markup=False)

    def on_mount(self) -> None:
        self.table.sort_by("count", reverse=True)
        self.set_interval(FLUSH_SECONDS, self.flush)

    # -- loading --------------------------------------------------------------------------

    async def load_data(self) -> None:
        if self.listing:
            return
        if self._delta.wants_full(forced=self.forced):
            self.listing = True
            self.run_worker(self._triage(), group="failures-list", exclusive=True,
                            exit_on_error=False)  # fmt: skip
            return
        changed = await self.client.list_tasks_changed(
            self.job_id, self._delta.changed_since(), select=TASK_FIELDS
        )
        self._delta.changed(task.state_transition_time for task in changed)
        fresh = [task for task in changed if task_failed(task)]
        self.groups.discard(task.id for task in changed if not task_failed(task))
        unread = [task.id for task in fresh if self.groups.add(failed_task(task))]
        self.flush()
        if unread:
            self.run_worker(self._read_tails(_ids_of(unread)), group="failures-delta-tails",
                            exit_on_error=False)  # fmt: skip

    async def _triage(self) -> None:
        """Lists the failed tasks and reads their tails at the same time: the groups show
        with the first page, and each tail moves its task as it arrives."""
        started = time.monotonic()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        try:
            await asyncio.gather(self._list(queue, started), self._read_tails(_drain(queue)))
        except Exception as error:  # noqa: BLE001 - a BatchError, or a bug: shown, never raised
            self.show_error(error)
        finally:
            self.listing = False
            self.flush()

    async def _list(self, queue: asyncio.Queue[str | None], started: float) -> None:
        listed: set[str] = set()
        stamps: list[datetime | None] = []
        try:
            pages = self.client.iter_tasks(self.job_id, select=TASK_FIELDS, filter=_FAILED.server)
            async for page in pages:
                for task in page:
                    if not task_failed(task):
                        continue  # a strict filter, a lax service: check
                    listed.add(task.id)
                    stamps.append(task.state_transition_time)
                    if self.groups.add(failed_task(task)):
                        queue.put_nowait(task.id)
                self.flush()
        finally:
            queue.put_nowait(None)
        self.groups.keep_only(listed)
        self._delta.listed(stamps, time.monotonic() - started)

    async def _read_tails(self, task_ids: AsyncIterator[str]) -> None:
        await read_tails(self.client, self.job_id, task_ids, self._tail_arrived)

    def _tail_arrived(self, tail: Tail) -> None:
        self.tails_read += 1
        self.groups.classify(tail.task_id, tail.kind, tail.line)

    # -- showing --------------------------------------------------------------------------

    def flush(self) -> None:
        """Shows the groups that changed since the last flush."""
        changed, gone = self.groups.take_changes()
        try:
            table = self.table
        except NoMatches:
            return  # closed meanwhile
        if not changed and not gone and not self._summary_stale():
            return
        total = len(self.groups)
        now = self.now()
        if gone:
            table.remove_keys(gone)
        if changed:
            # Shares change with the total: every row is built again (a handful of groups).
            table.update_rows([group_row(group, total, now) for group in self.groups.groups])
        self._show_summary()
        self.update_status()  # and the detail of the group under the cursor
        self.refresh_availability()

    def _summary_stale(self) -> bool:
        return self._summary_text() != self._summary_shown

    def _summary_text(self) -> str:
        total = len(self.groups)
        pending = sum(1 for _ in self.groups.pending())
        groups = len(self.groups.groups)
        parts = [f"{total:,} failed tasks in {groups:,} group{'s' if groups != 1 else ''}"]
        if pending:
            parts.append(f"reading stderr: {total - pending:,} of {total:,}")
        elif self.listing:
            parts.append("listing…")
        return " · ".join(parts)

    def _show_summary(self) -> None:
        text = self._summary_text()
        self._summary_shown = text
        # One line, and the detail three: no layout of the screen needed (failures.tcss).
        self.query_one("#failures-summary", Static).update(text, layout=False)

    def _show_detail(self) -> None:
        key = self.table.cursor_key
        group = self.groups.group(key) if key is not None else None
        text = group_detail(group, len(self.groups), self.now()) if group is not None else ""
        if not text and not self.listing:
            text = "No failed tasks in this job." if not len(self.groups) else ""
        if text != self._detail_shown:
            self._detail_shown = text
            self.query_one("#failures-detail", Static).update(text, layout=False)

    def update_status(self) -> None:
        super().update_status()
        try:
            self._show_detail()
        except NoMatches:
            pass

    def open_row(self, key: str) -> None:
        group = self.groups.group(key)
        if group is None:
            return
        label = sanitize_text(group.signature.text, limit=60)
        self.batch_app.open(route("failure-group", self.job_id, label, tuple(group.tasks)))

    # -- actions: every task of the chosen groups -----------------------------------------

    def _chosen_groups(self) -> list[FailureGroup]:
        groups = (self.groups.group(key) for key in self.targets())
        return [group for group in groups if group is not None]

    def action_targets(self, kind: Kind) -> tuple[str, ...]:
        if kind != "task":
            return ()
        return tuple(task_id for group in self._chosen_groups() for task_id in group.tasks)

    def action_scope(self) -> Scope:
        return Scope(job_id=self.job_id)

    def action_context(self, kind: Kind) -> str:
        groups = self._chosen_groups()
        if len(groups) == 1:
            text = sanitize_text(groups[0].signature.text, limit=100)
            return f"job {self.job_id}, failure group “{text}”"
        return f"job {self.job_id}, {len(groups)} failure groups"

    def on_action_finished(self, spec: ActionSpec, outcomes: Sequence[Outcome]) -> None:
        # Reactivated tasks are no longer failed, deleted ones are gone: both leave the groups
        # now; a reactivated task that fails again comes back with the next refresh.
        self.groups.discard(outcome.target for outcome in outcomes if outcome.error is None)
        self.table.clear_marks()
        self.flush()
        self.refresh_data()


async def _ids_of(task_ids: Sequence[str]) -> AsyncIterator[str]:
    for task_id in task_ids:
        yield task_id


async def _drain(queue: asyncio.Queue[str | None]) -> AsyncIterator[str]:
    while (task_id := await queue.get()) is not None:
        yield task_id


class FailureGroupScreen(QuietFooter, ListScreen):
    """The failed tasks of one failure group: the task list's rows and keys.

    Args:
        job_id: The job.
        label: The group's signature as the group list shows it (the breadcrumbs).
        task_ids: The group's tasks.
    """

    REFRESH_KIND = "tasks"
    COLUMNS = TASK_COLUMNS

    BINDINGS: ClassVar[list[BindingType]] = [*action_bindings("task")]

    def __init__(self, job_id: str, label: str, task_ids: Sequence[str]) -> None:
        super().__init__()
        self.job_id = job_id
        self.label = label
        self.task_ids = frozenset(task_ids)
        self.task_by_id: dict[str, Task] = {}

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("jobs", self.job_id, "failures", self.label)

    async def load_data(self) -> None:
        # The group's tasks as the service has them now: a reactivated one has left the
        # failed ones; one that failed again is back.
        found: dict[str, Task] = {}
        pages = self.client.iter_tasks(self.job_id, select=TASK_FIELDS, filter=_FAILED.server)
        async for page in pages:
            found.update((task.id, task) for task in page if task.id in self.task_ids)
        self.task_by_id = found
        now = self.now()
        self.table.set_rows(task_row(task, now) for task in found.values())

    def open_row(self, key: str) -> None:
        self.batch_app.open(route("task", self.job_id, key))

    def action_targets(self, kind: Kind) -> tuple[str, ...]:
        return self.targets() if kind == "task" else ()

    def action_subject(self, kind: Kind, target: str) -> Task | None:
        return self.task_by_id.get(target)

    def action_scope(self) -> Scope:
        return Scope(job_id=self.job_id)

    def action_context(self, kind: Kind) -> str:
        return f"job {self.job_id}"

    def tasks_deleted(self, job_id: str, task_ids: Sequence[str]) -> None:
        if job_id == self.job_id:
            self.table.remove_keys(task_ids)


__all__ = ["FailureGroupScreen", "FailuresScreen", "group_detail", "group_row"]
