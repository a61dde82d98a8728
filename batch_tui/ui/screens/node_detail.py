"""Provides the node detail: every field that matters, start task, errors, recent tasks, files."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static, TabbedContent, TabPane

from batch_tui.batch.errors import BatchError
from batch_tui.batch.models import Node, NodeState, RecentTask, RemoteLoginSettings
from batch_tui.ui.byte_sources import NodeFiles, list_files
from batch_tui.ui.commands import id_kind
from batch_tui.ui.detail_fields import (
    Value,
    image_text,
    section,
    start_task_fields,
    styled_state,
    when,
)
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.formatting import FAILED
from batch_tui.ui.routes import route
from batch_tui.ui.screens.node_actions import NodeActionScreen, ssh_command
from batch_tui.ui.widgets.file_list import FileList
from batch_tui.ui.widgets.header import short_id
from batch_tui.ui.widgets.table_rows import Column, RowData
from batch_tui.ui.widgets.virtual_table import VirtualTable

RECENT_TASK_COLUMNS = (
    Column("job", "Job", min_width=6, max_width=30),
    Column("task", "Task", min_width=6, max_width=30),
    Column("state", "State", min_width=6, max_width=12),
    Column("exit", "Exit", min_width=4, max_width=6, align="right"),
    Column("result", "Result", min_width=6, max_width=10),
)

_UP = frozenset({NodeState.IDLE, NodeState.RUNNING})


def summary_fields(node: Node, now: datetime) -> list[tuple[str, Value]]:
    """The node's state, identity, times, counters and image."""
    agent = node.node_agent_info
    image = node.virtual_machine_info.image_reference if node.virtual_machine_info else None
    priority = "dedicated" if node.is_dedicated is not False else "low priority / spot"
    slots = f"{node.running_tasks_count} tasks in {node.running_task_slots_count} slots"
    return [
        ("State", styled_state("node", node.state)),
        ("Scheduling", styled_state("scheduling", node.scheduling_state)),
        ("State since", when(node.state_transition_time, now)),
        ("IP address", node.ip_address),
        ("VM size", node.vm_size),
        ("Priority", priority),
        ("Allocated", when(node.allocation_time, now)),
        ("Last boot", when(node.last_boot_time, now)),
        ("Agent version", agent.version if agent else None),
        ("Image", image_text(image)),
        ("Running", slots),
        ("Tasks run", f"{node.total_tasks_run} ({node.total_tasks_succeeded} succeeded)"),
        ("Affinity id", node.affinity_id),
    ]  # fmt: skip


def endpoint_fields(node: Node, login: RemoteLoginSettings | None) -> list[tuple[str, Value]]:
    """Where to reach the node: remote login settings and inbound endpoints."""
    fields: list[tuple[str, Value]] = []
    if login is not None:
        address = f"{login.remote_login_ip_address}:{login.remote_login_port}"
        fields.append(("Remote login", address))
        fields.append(
            ("SSH", ssh_command("USER", login.remote_login_ip_address, login.remote_login_port))
        )
    config = node.endpoint_configuration
    for endpoint in config.inbound_endpoints if config else ():
        target = f"{endpoint.public_ip_address}:{endpoint.frontend_port} -> {endpoint.backend_port}"
        fields.append((endpoint.name or "endpoint", f"{endpoint.protocol} {target}"))
    return fields or [("Endpoints", None)]


def error_lines(node: Node) -> Content | None:
    """The node's errors in red, or None when it has none."""
    if not node.errors:
        return None
    fields: list[tuple[str, Value]] = []
    for error in node.errors:
        fields.append((error.code or "error", Content.styled(error.message or "", FAILED)))
        fields.extend((f"  {d.name}", d.value) for d in error.error_details)
    return section("Errors", fields)


def recent_task_row(task: RecentTask) -> RowData:
    """A row of the recent tasks table; the key is "job/task" (ids cannot hold "/")."""
    info = task.execution_info
    exit_code = info.exit_code if info else None
    result = info.result if info else None
    failed = result == "failure" or bool(exit_code)
    job_id, task_id = task.job_id or "", task.task_id or ""
    cells = (
        job_id,
        task_id,
        task.task_state,
        "" if exit_code is None else str(exit_code),
        result or "",
    )
    return RowData(f"{job_id}/{task_id}", cells, style=FAILED if failed else None)


class NodeDetailScreen(NodeActionScreen):
    """One compute node: details, recent tasks (enter opens the task), files (enter opens one)."""

    REFRESH_KIND = "detail"
    CSS_PATH = "node_detail.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "tab('details')", "Details", id="node-detail.details", tooltip="Node fields"),
        Binding("2", "tab('tasks')", "Tasks", id="node-detail.tasks", tooltip="Recent tasks"),
        Binding("3", "tab('files')", "Files", id="node-detail.files", tooltip="The node's files"),
    ]

    def __init__(self, pool_id: str, node_id: str) -> None:
        super().__init__()
        self.pool_id = pool_id
        self.node_id = node_id
        self.node: Node | None = None
        self._login: RemoteLoginSettings | None = None
        self._files_loaded = False

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("pools", self.pool_id, f"node {short_id(self.node_id)}")

    def entity_under_cursor(self) -> EntityRef | None:
        return EntityRef.node(self.pool_id, self.node_id)

    def node_targets(self) -> tuple[str, ...]:
        return (self.node_id,)

    def known_node(self, node_id: str) -> Node | None:
        return self.node if node_id == self.node_id else None

    def compose_body(self) -> ComposeResult:
        with TabbedContent(initial="details", id="node-tabs"):
            with TabPane("Details", id="details"):
                with VerticalScroll(id="node-scroll"):
                    yield Static(Content("loading…"), id="node-summary")
            with TabPane("Recent tasks", id="tasks"):
                yield VirtualTable(RECENT_TASK_COLUMNS, id="recent-tasks")
            with TabPane("Files", id="files"):
                yield FileList(NodeFiles(self.pool_id, self.node_id), id="node-files")

    async def load_data(self) -> None:
        cached = await self.cache.get_node(self.pool_id, self.node_id, force=self.forced)
        node = self.track(cached)
        self.node = node
        self.session.remember_ids(id_kind("node", self.pool_id), (self.node_id,))
        if self._login is None and node.state in _UP:
            self._login = await self._remote_login()
        self._show(node)
        if self.query_one(TabbedContent).active == "files":
            await self._load_files()
        self.refresh_availability()

    async def _remote_login(self) -> RemoteLoginSettings | None:
        try:
            return await self.client.get_remote_login_settings(self.pool_id, self.node_id)
        except BatchError:
            # Not every node has a login endpoint (no public IP); the rest of the page still shows.
            return None

    def _show(self, node: Node) -> None:
        now = self.now()
        blocks = [section("Node", summary_fields(node, now))]
        errors = error_lines(node)
        if errors is not None:
            blocks.append(errors)
        blocks.append(
            section("Start task", start_task_fields(node.start_task, node.start_task_info, now))
        )
        blocks.append(section("Endpoints", endpoint_fields(node, self._login)))
        self.query_one("#node-summary", Static).update(Content("\n\n").join(blocks))
        rows = [recent_task_row(task) for task in node.recent_tasks]
        self.query_one("#recent-tasks", VirtualTable).set_rows(rows)

    async def _load_files(self) -> None:
        files = await list_files(self.client, NodeFiles(self.pool_id, self.node_id))
        self.query_one(FileList).show_files(files, now=self.now())
        self._files_loaded = True

    def action_tab(self, tab: str) -> None:
        """Shows a tab: details, tasks or files."""
        self.query_one(TabbedContent).active = tab

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "files" and not self._files_loaded:
            self.refresh_data()
        target = {"tasks": "#recent-tasks", "files": "#node-files"}.get(event.pane.id or "")
        if target:
            self.query_one(target).focus()

    @on(VirtualTable.RowSelected, "#recent-tasks")
    def _task_selected(self, event: VirtualTable.RowSelected) -> None:
        event.stop()
        job_id, _, task_id = event.key.partition("/")
        self.batch_app.open(route("task", job_id, task_id))

    @on(FileList.FileOpened)
    def _file_opened(self, event: FileList.FileOpened) -> None:
        event.stop()
        self.batch_app.open(route("file", event.ref))
