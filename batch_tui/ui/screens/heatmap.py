"""Provides the heatmap screen: one cell per node of a pool, coloured by state; enter opens it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType

from batch_tui.batch.models import Node
from batch_tui.ui.commands import id_kind
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.pool_nodes import PoolNodes
from batch_tui.ui.routes import route
from batch_tui.ui.screens.node_actions import NodeActionScreen
from batch_tui.ui.widgets.heatmap import NodeCell, NodeHeatmap

HEATMAP_FIELDS = ("id", "state", "schedulingState", "stateTransitionTime")
"""All the heatmap needs per node ($select): a few dozen bytes per node. The time of the
last state change is where a delta refresh starts."""


class HeatmapScreen(NodeActionScreen):
    """A pool's nodes as a grid of coloured cells with a legend; node actions on the cursor node."""

    REFRESH_KIND = "nodes"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "nodes", "Node list", id="heatmap.nodes", tooltip="The pool's node list"),
        Binding(
            "t",
            "timeline",
            "Timeline",
            show=False,
            id="heatmap.timeline",
            tooltip="The pool's nodes over time, the tasks they ran",
        ),
    ]

    def __init__(self, pool_id: str) -> None:
        super().__init__()
        self.pool_id = pool_id
        self._pool = PoolNodes(pool_id, HEATMAP_FIELDS)

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("pools", self.pool_id, "heatmap")

    @property
    def heatmap(self) -> NodeHeatmap:
        """The grid."""
        return self.query_one(NodeHeatmap)

    def compose_body(self) -> ComposeResult:
        yield NodeHeatmap(id="heatmap")

    def on_mount(self) -> None:
        self.heatmap.focus()

    def node_targets(self) -> tuple[str, ...]:
        cell = self.heatmap.cursor_node
        return (cell.node_id,) if cell is not None else ()

    def entity_under_cursor(self) -> EntityRef | None:
        cell = self.heatmap.cursor_node
        return EntityRef.node(self.pool_id, cell.node_id) if cell is not None else None

    def known_node(self, node_id: str) -> Node | None:
        return self._pool.nodes.get(node_id)

    async def load_data(self) -> None:
        """Lists the nodes, or in a big pool mostly only those whose state changed."""
        await self._pool.refresh(self.client, forced=self.forced)
        self.session.remember_ids(id_kind("node", self.pool_id), self._pool.nodes)
        self._show_nodes()

    def _show_nodes(self) -> None:
        nodes = self._pool.nodes
        # Sorted by id so that a node keeps its cell from one refresh to the next.
        ordered = sorted(nodes.values(), key=lambda node: node.id)
        self.heatmap.set_nodes([NodeCell(node.id, node.state) for node in ordered])
        self.refresh_availability()

    @on(NodeHeatmap.NodeSelected)
    def _node_selected(self, event: NodeHeatmap.NodeSelected) -> None:
        event.stop()
        self.batch_app.open(route("node", self.pool_id, event.node_id))

    @on(NodeHeatmap.NodeHighlighted)
    def _node_highlighted(self) -> None:
        self.refresh_availability()

    def action_nodes(self) -> None:
        """Shows the pool's node list."""
        self.batch_app.open(route("nodes", self.pool_id))

    def action_timeline(self) -> None:
        """Shows the pool's node timeline."""
        self.batch_app.open(route("timeline", self.pool_id))
