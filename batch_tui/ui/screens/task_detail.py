"""Provides TaskDetailScreen: one task's fields, its subtasks, and its files.

`TaskDetailScreen(job_id, task_id)`: command line, state and times, exit code, failure info,
retries and requeues, constraints, environment, dependencies, the node it ran on, and the
subtasks of a multi-instance task (tab `1`); its files (tab `2`; enter opens one). `o` and
`e` open `stdout.txt` and `stderr.txt` (following while the task runs), `n` the node's
detail. Task actions: `t` terminate, `R` reactivate, `ctrl+d` delete, each confirmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static, TabbedContent, TabPane

from batch_tui.batch.errors import BatchError, NotFound
from batch_tui.batch.models.account import NodeFile
from batch_tui.batch.models.constants import TaskState
from batch_tui.batch.models.task import Subtask, Task, TaskExecutionInfo
from batch_tui.ui.action_runs import Outcome
from batch_tui.ui.actions import ACTIONS, ActionSpec, Kind, Scope
from batch_tui.ui.byte_sources import TaskFileRef, TaskFiles
from batch_tui.ui.commands import id_kind
from batch_tui.ui.detail_fields import Value, failure_text, section, when
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.formatting import FAILED, MISSING, format_duration, state_style
from batch_tui.ui.routes import route
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens import create_flows
from batch_tui.ui.screens.base import BatchScreen
from batch_tui.ui.screens.quiet_footer import QuietFooter
from batch_tui.ui.screens.screen_actions import action_binding, action_bindings
from batch_tui.ui.task_rows import task_failed
from batch_tui.ui.widgets.file_list import FileList

MAX_ENV_SHOWN = 50
"""Environment variables listed before "and N more" (a detail page, not a dump)."""


def task_fields(task: Task, now: datetime) -> list[tuple[str, Value]]:
    """The task's state, times, result and failure."""
    info = task.execution_info
    failed = task_failed(task)
    state = Content.styled(task.state or MISSING, state_style("task", task.state, failed=failed))
    return [
        ("Display name", task.display_name),
        ("State", state + Content(f" since {when(task.state_transition_time, now)}")),
        ("Previous state", task.previous_state),
        ("Command line", task.command_line),
        ("Created", when(task.creation_time, now)),
        *(_execution_fields(info, failed, now) if info is not None else []),
        ("Required slots", str(task.required_slots)),
    ]


def _execution_fields(
    info: TaskExecutionInfo, failed: bool, now: datetime
) -> list[tuple[str, Value]]:
    """Times, exit code, result, failure, retries and requeues of a task's run."""
    ran = (info.end_time or now) - info.start_time if info.start_time else None
    exit_code = info.exit_code
    exit_style = "ansi_green" if exit_code == 0 else FAILED
    return [
        ("Started", when(info.start_time, now)),
        ("Ended", when(info.end_time, now)),
        ("Ran for", format_duration(ran) if ran is not None else None),
        ("Exit code", None if exit_code is None else Content.styled(str(exit_code), exit_style)),
        ("Result", Content.styled(info.result, FAILED if failed else "") if info.result else None),
        ("Failure", failure_text(info.failure_info)),
        ("Retries", str(info.retry_count)),
        ("Last retry", when(info.last_retry_time, now) if info.last_retry_time else None),
        ("Requeues", str(info.requeue_count)),
        ("Last requeue", when(info.last_requeue_time, now) if info.last_requeue_time else None),
    ]


def failure_details(task: Task) -> list[tuple[str, Value]]:
    """The name/value details of a task's failure, if any."""
    failure = task.execution_info.failure_info if task.execution_info else None
    if failure is None:
        return []
    return [(detail.name, detail.value) for detail in failure.details]


def constraint_fields(task: Task) -> list[tuple[str, Value]]:
    """Wall clock, retention and retry limits."""
    c = task.constraints
    retries = c.max_task_retry_count if c else None
    return [
        ("Max wall clock", format_duration(c.max_wall_clock_time if c else None)),
        ("Retention", format_duration(c.retention_time if c else None)),
        ("Max retries", None if retries is None else "unlimited" if retries < 0 else str(retries)),
    ]


def node_fields(task: Task) -> list[tuple[str, Value]]:
    """Where the task ran (`n` opens the node)."""
    node = task.node_info
    if node is None:
        return [("Node", "not scheduled yet")]
    return [
        ("Pool", node.pool_id),
        ("Node", node.node_id),
        ("Directory", node.task_root_directory),
    ]


def environment_fields(task: Task) -> list[tuple[str, Value]]:
    """The task's own environment variables."""
    settings = task.environment_settings
    fields: list[tuple[str, Value]] = [(s.name, s.value) for s in settings[:MAX_ENV_SHOWN]]
    if len(settings) > MAX_ENV_SHOWN:
        fields.append(("…", f"and {len(settings) - MAX_ENV_SHOWN} more"))
    return fields or [("Environment", "none")]


def dependency_fields(task: Task) -> list[tuple[str, Value]]:
    """The tasks this one waits for."""
    deps = task.depends_on
    if deps is None:
        return [("Depends on", "nothing")]
    ranges = ", ".join(f"{r.start}-{r.end}" for r in deps.task_id_ranges)
    return [("Task ids", ", ".join(deps.task_ids) or None), ("Id ranges", ranges or None)]


def subtask_fields(task: Task, subtasks: Sequence[Subtask]) -> list[tuple[str, Value]]:
    """A multi-instance task's settings and one line per subtask."""
    settings = task.multi_instance_settings
    if settings is None:
        return []
    fields: list[tuple[str, Value]] = [
        ("Instances", str(settings.number_of_instances or 1)),
        ("Coordination", settings.coordination_command_line),
    ]
    for sub in subtasks:
        failed = sub.result == "failure" or sub.exit_code not in (None, 0)
        node = sub.node_info.node_id if sub.node_info else None
        exit_text = "" if sub.exit_code is None else f" exit {sub.exit_code}"
        line = f"{sub.state}{exit_text} on {node or MISSING}"
        fields.append((f"Subtask {sub.id}", Content.styled(line, FAILED if failed else "")))
    return fields


class TaskDetailScreen(QuietFooter):
    """One task: details (1) and files (2); `o`/`e` open stdout/stderr."""

    CSS_PATH = "task_detail.tcss"
    REFRESH_KIND = "detail"
    CHECKED_ACTIONS = ("open_node",)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "open_file('stdout.txt')", "stdout", id="task.stdout",
                tooltip="Open stdout.txt"),
        Binding("e", "open_file('stderr.txt')", "stderr", id="task.stderr",
                tooltip="Open stderr.txt"),
        Binding("n", "open_node", "Node", id="task.node", tooltip="The node the task ran on"),
        Binding("1", "tab('details')", "Details", show=False, id="task.details", tooltip="Fields"),
        Binding("2", "tab('files')", "Files", id="task.files", tooltip="The task's files"),
        *action_bindings("task"),
        action_binding(ACTIONS["task.clone"]),
    ]  # fmt: skip

    def __init__(self, job_id: str, task_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.task_id = task_id
        self.loaded_task: Task | None = None
        self.subtasks: list[Subtask] = []

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("jobs", self.job_id, f"task {self.task_id}")

    def entity_under_cursor(self) -> EntityRef | None:
        return EntityRef.task(self.job_id, self.task_id)

    @property
    def file_list(self) -> FileList:
        """The task's files."""
        return self.query_one(FileList)

    def compose_body(self) -> ComposeResult:
        with TabbedContent(initial="details", id="task-tabs"):
            with TabPane("Details", id="details"):
                with VerticalScroll(id="task-scroll"):
                    yield Static(Content("loading…"), id="task-summary")
            with TabPane("Files", id="files"):
                yield Static(id="files-note", classes="muted")
                yield FileList(TaskFiles(self.job_id, self.task_id), id="task-files")

    async def load_data(self) -> None:
        try:
            cached = await self.cache.get_task(self.job_id, self.task_id, force=self.forced)
        except NotFound as error:
            self._not_found(error)
            return
        task = self.track(cached)
        self.loaded_task = task
        self.session.remember_ids(id_kind("task", self.job_id), (self.task_id,))
        if task.multi_instance_settings is not None:
            subtasks = await self.cache.list_subtasks(self.job_id, self.task_id, force=self.forced)
            self.subtasks = self.track(subtasks)
        self.show_task(task)
        await self._load_files(task)
        self.refresh_bindings()

    def _not_found(self, error: NotFound) -> None:
        """Says that the task (or its job) does not exist, where "loading…" stood."""
        self.loaded_task = None
        if error.code == "JobNotFound":
            text = f"Job {self.job_id} not found."
        else:
            text = f"Task {self.task_id} not found in job {self.job_id}."
        self.query_one("#task-summary", Static).update(Content(sanitize_text(text)))
        self._files_note("no files: the task was not found")
        self.refresh_bindings()

    def show_task(self, task: Task) -> None:
        """Redraws the details tab."""
        now = self.now()
        blocks = [section("Task", task_fields(task, now))]
        details = failure_details(task)
        if details:
            blocks.append(section("Failure details", details))
        blocks += [
            section("Node", node_fields(task)),
            section("Constraints", constraint_fields(task)),
            section("Environment", environment_fields(task)),
            section("Dependencies", dependency_fields(task)),
        ]
        subtasks = subtask_fields(task, self.subtasks)
        if subtasks:
            blocks.append(section("Multi-instance", subtasks))
        self.query_one("#task-summary", Static).update(Content("\n\n").join(blocks))

    async def _load_files(self, task: Task) -> None:
        """Lists the task's files; a task that never reached a node has none."""
        if task.node_info is None:
            self._files_note("no files: the task has not run on a node yet")
            return
        try:
            cached = await self.cache.list_task_files(
                self.job_id, self.task_id, recursive=True, force=self.forced
            )
        except BatchError as error:
            self._files_note(f"no files: {error}")
            return
        self._files_note("")
        files: list[NodeFile] = self.track(cached)
        self.file_list.show_files(files, now=self.now())

    def _files_note(self, text: str) -> None:
        """Says why the file list is empty ("not run yet", an error); "" hides the note."""
        note = self.query_one("#files-note", Static)
        note.update(Content(sanitize_text(text)))
        note.set_class(not text, "hidden")

    # -- navigation ---------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        """Shows a tab: details or files."""
        self.query_one(TabbedContent).active = tab
        if tab == "files":
            self.file_list.focus()

    def action_open_file(self, path: str) -> None:
        """Opens one of the task's files in the viewer (following while the task runs)."""
        running = self.loaded_task is not None and self.loaded_task.state in (
            TaskState.RUNNING,
            TaskState.PREPARING,
        )
        ref = TaskFileRef(self.job_id, self.task_id, path)
        self.batch_app.open(route("file", ref, follow=running))

    @on(FileList.FileOpened)
    def _file_opened(self, event: FileList.FileOpened) -> None:
        event.stop()
        self.batch_app.open(route("file", event.ref))

    def action_open_node(self) -> None:
        """Opens the detail of the node the task ran on."""
        node = self.loaded_task.node_info if self.loaded_task is not None else None
        if node is None or not node.pool_id or not node.node_id:
            self.notify("The task has not run on a node", severity="warning")
            return
        self.batch_app.open(route("node", node.pool_id, node.node_id))

    # -- actions ------------------------------------------------------------------------

    def availability(self, action: str) -> bool | None:
        if action == "open_node":
            return True if self.loaded_task is not None and self.loaded_task.node_info else None
        return True

    def flow_clone_task(self) -> None:
        """Clones this task into a new one, its command line edited (`C`)."""
        create_flows.clone_task(self, self.job_id, self.task_id, self.loaded_task)

    def action_targets(self, kind: Kind) -> tuple[str, ...]:
        return (self.task_id,) if kind == "task" else ()

    def action_subject(self, kind: Kind, target: str) -> Task | None:
        return self.loaded_task if kind == "task" else None

    def action_scope(self) -> Scope:
        return Scope(job_id=self.job_id)

    def action_context(self, kind: Kind) -> str:
        return f"job {self.job_id}"

    def _forget_in_job_lists(self) -> None:
        """Removes this deleted task from its job's task lists further down the stack."""
        for screen in self.app.screen_stack:
            if isinstance(screen, BatchScreen) and screen is not self:
                screen.tasks_deleted(self.job_id, (self.task_id,))

    def on_action_finished(self, spec: ActionSpec, outcomes: Sequence[Outcome]) -> None:
        if spec.id == "task.delete" and all(outcome.error is None for outcome in outcomes):
            self._forget_in_job_lists()
            self.leave()
            return
        self.action_refresh_now()
