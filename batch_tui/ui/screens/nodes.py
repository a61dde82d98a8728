"""Provides the node list of a pool: a VirtualTable for 10,000 nodes, marks for bulk actions.

`/` takes column terms (`state:idle`, `starttask:failure`, `stexit:1`, `node:tvm-3`, `sched:`,
`vm:`, `pri:`, `ip:`): state and the start task's result and exit code go to the service as
`$filter` (`NODE_FILTER_COLUMNS`), the rest filter the rows here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content

from batch_tui.batch.models import Node, NodeState, TaskExecutionResult
from batch_tui.ui.commands import id_kind
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.filter_terms import FilterColumn
from batch_tui.ui.formatting import FAILED, format_age, state_style
from batch_tui.ui.pool_nodes import PoolNodes
from batch_tui.ui.routes import route
from batch_tui.ui.screens.node_actions import NodeActionScreen
from batch_tui.ui.screens.term_filter import TermFilterScreen
from batch_tui.ui.widgets.table_rows import Column, RowData
from batch_tui.ui.widgets.virtual_table import VirtualTable

NODE_LIST_FIELDS = (
    "id",
    "state",
    "schedulingState",
    "stateTransitionTime",
    "ipAddress",
    "vmSize",
    "isDedicated",
    "runningTasksCount",
    "runningTaskSlotsCount",
    "totalTasksRun",
    "totalTasksSucceeded",
    "errors",
)
"""The node fields the list shows ($select): a tenth of a full node's bytes."""

START_TASK_FIELDS = ("startTaskInfo",)
"""Selected as well while `/` asks the service about the start task: a delta refresh tests
the nodes it brings."""

FAILED_STATES = frozenset({"starttaskfailed", "unusable", "unknown"})


def _start_task(name: str) -> Callable[[Node], object]:
    """Reads a field of a node's start task info (None without one)."""

    def read(node: Node) -> object:
        info = node.start_task_info
        return None if info is None else getattr(info, name)

    return read


NODE_FILTER_COLUMNS: tuple[FilterColumn[Node], ...] = (
    FilterColumn(
        "state",
        "choice",
        service_property="state",
        read=lambda node: node.state,
        choices=tuple(state.value for state in NodeState),
    ),
    FilterColumn(
        "starttask",
        "choice",
        service_property="startTaskInfo/result",
        read=_start_task("result"),
        choices=tuple(result.value for result in TaskExecutionResult),
    ),
    FilterColumn(
        "stexit", "number", service_property="startTaskInfo/exitCode", read=_start_task("exit_code")
    ),
    FilterColumn("node", "text", cell="id", aliases=("id",)),
    FilterColumn("sched", "choice", cell="sched", choices=("enabled", "disabled")),
    FilterColumn("vm", "text", cell="vm"),
    FilterColumn("pri", "choice", cell="priority", choices=("ded", "low")),
    FilterColumn("ip", "text", cell="ip"),
)
"""What `/` can name in a node list: the service filters state and the start task's result
and exit code (the "list nodes" table of its filter docs); the rest are filtered here."""


def node_failed(node: Node) -> bool:
    """Whether a node is in a failed state or reports errors."""
    return node.state in FAILED_STATES or bool(node.errors)


def node_row(node: Node, now: datetime) -> RowData:
    """Returns the list row of a node."""
    state = _state_cell("node", node.state)
    sched = _state_cell("scheduling", node.scheduling_state)
    priority = "ded" if node.is_dedicated is not False else "low"  # as the overview's Ded/Low
    age_seconds = (
        (now - node.state_transition_time).total_seconds() if node.state_transition_time else None
    )
    cells = (
        node.id,
        state,
        sched,
        node.ip_address or "-",
        node.vm_size,
        priority,
        str(node.running_tasks_count),
        str(node.total_tasks_run),
        str(node.total_tasks_succeeded),
        format_age(node.state_transition_time, now),
        str(len(node.errors)) if node.errors else "",
    )
    sort_values = (None,) * 9 + (age_seconds, None)
    return RowData(
        node.id, cells, style=FAILED if node_failed(node) else None, sort_values=sort_values
    )


@lru_cache(maxsize=64)
def _state_cell(kind: str, state: str) -> Content:
    """A coloured state cell, shared by every row in that state (10,000 rows, a few states:
    fewer objects for the garbage collector to visit)."""
    return Content.styled(state, state_style(kind, state))


class NodesScreen(NodeActionScreen, TermFilterScreen):
    """The nodes of one pool; space marks nodes for bulk actions, enter opens one."""

    REFRESH_KIND = "nodes"
    FILTER_COLUMNS = NODE_FILTER_COLUMNS
    FILTER_HINT = "state:idle stexit:1 node:… or a regex"
    COLUMNS: ClassVar[Sequence[Column]] = (
        Column("id", "Node", min_width=16, max_width=40, cut="middle"),
        # Never cut: "start…" would be starting or starttaskfailed.
        Column("state", "State", min_width=6, max_width=20, cut="never"),
        Column("sched", "Sched", min_width=5, max_width=9),
        Column("ip", "IP", min_width=7, cut="never"),
        Column("vm", "VM size", min_width=6, max_width=18),
        Column("priority", "Pri", min_width=3, max_width=3),
        Column("running", "Run", min_width=3, max_width=6, align="right"),
        Column("total", "Total", min_width=3, max_width=8, align="right"),
        Column("ok", "OK", min_width=3, max_width=8, align="right"),
        Column("age", "Age", min_width=5, max_width=8, align="right"),  # "1m30s", not "1m…"
        Column("errors", "Err", min_width=3, max_width=4, align="right"),
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "heatmap", "Heatmap", id="nodes.heatmap", tooltip="The pool's heatmap"),
        Binding("d", "pool_detail", "Pool", id="nodes.pool-detail", tooltip="The pool's detail"),
    ]

    def __init__(self, pool_id: str) -> None:
        super().__init__()
        self.pool_id = pool_id
        self._pool = PoolNodes(pool_id, NODE_LIST_FIELDS)

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("pools", self.pool_id, "nodes")

    def node_targets(self) -> tuple[str, ...]:
        return self.targets()

    def preset_state(self) -> str | None:
        """A list filtered to exactly a node state ("starttaskfailed", "state:idle")
        starts from it."""
        query = self.filter_query
        if not query.terms:
            pattern = query.text.strip().lower()
            return pattern if pattern in set(NodeState) else None
        term = query.terms[0]
        exactly = len(query.terms) == 1 and not query.text and len(term.values) == 1
        return str(term.values[0]) if exactly and term.column == "state" else None

    def service_filter_changed(self) -> None:
        """Lists the nodes the new `$filter` selects (the start task's info with them while
        it tests that)."""
        start_task = any(t.column in ("starttask", "stexit") for t in self.filter_query.terms)
        select = NODE_LIST_FIELDS + START_TASK_FIELDS if start_task else NODE_LIST_FIELDS
        where, keeps = self.service_filter, self.service_test
        self._pool = PoolNodes(self.pool_id, select, where, keeps)
        self.table.set_rows([])
        self.action_refresh_now()

    def known_node(self, node_id: str) -> Node | None:
        return self._pool.nodes.get(node_id)

    async def load_data(self) -> None:
        """Lists the nodes, or in a big pool mostly only those whose state changed; rows
        come in as they arrive."""
        now = self.now()
        pool = self._pool

        def show(nodes: list[Node]) -> None:
            if pool is self._pool:  # not from before a `/` filter that asks for other nodes
                self.table.update_rows([node_row(node, now) for node in nodes])
                self.update_status()

        gone = await pool.refresh(self.client, forced=self.forced, arrived=show)
        while pool is not self._pool:  # the `$filter` changed while it listed: list again
            pool = self._pool
            gone = await pool.refresh(self.client, forced=True, arrived=show)
        self.session.remember_ids(id_kind("node", self.pool_id), self._pool.nodes)
        if gone:
            self.table.remove_keys(gone)
        now = self.now()
        known = self._pool.nodes
        self.redraw_in_view(lambda key: node_row(node, now) if (node := known.get(key)) else None)
        self.refresh_availability()

    def on_mount(self) -> None:
        # A big pool is listed a stream per state at once: in id order, as one listing reads.
        self.table.order_by_key()

    def open_row(self, key: str) -> None:
        self.batch_app.open(route("node", self.pool_id, key))

    def row_entity(self, table: VirtualTable, key: str) -> EntityRef | None:
        return EntityRef.node(self.pool_id, key)

    def action_heatmap(self) -> None:
        """Shows the pool's heatmap."""
        self.batch_app.open(route("heatmap", self.pool_id))

    def action_pool_detail(self) -> None:
        """Shows the pool's detail."""
        self.batch_app.open(route("pool", self.pool_id))
