"""Provides the pool tree: pools -> node state groups -> nodes, loaded lazily, counts in labels."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from batch_tui.batch.errors import BatchError
from batch_tui.batch.models import Node, Pool, PoolNodeCounts
from batch_tui.batch.odata import eq
from batch_tui.ui.actions import ACTIONS
from batch_tui.ui.commands import id_kind
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.formatting import FAILED, NODE_STATE_ORDER, state_style
from batch_tui.ui.node_counts import node_state_counts
from batch_tui.ui.overview_reads import POOL_FIELDS
from batch_tui.ui.routes import route
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.pool_actions import PoolActionScreen
from batch_tui.ui.screens.screen_actions import action_binding, action_bindings
from batch_tui.ui.screens.state_actions import start_state_action

POPULATE_CHUNK_SIZE = 250
"""Tree nodes added between yields to the event loop, so 10,000 nodes never freeze the UI."""

TREE_NODE_FIELDS = ("id", "state", "ipAddress", "runningTasksCount", "isDedicated")
"""What a node's label shows ($select)."""


@dataclass(frozen=True)
class PoolTreeItem:
    """What a tree node stands for."""

    kind: Literal["pool", "group", "node"]
    pool_id: str
    state: str = ""
    node_id: str = ""


def rich_style(style: str) -> str:
    """Turns a Textual `ansi_*` colour name into the Rich name the tree's labels take."""
    return style.removeprefix("ansi_")


def pool_label(pool: Pool, counts: PoolNodeCounts | None) -> Text:
    """Label of a pool: id, allocation state, node counts, and a red resize error mark."""
    states = node_state_counts(counts)
    label = Text(sanitize_text(pool.id), style="bold")
    label.append(
        f"  {sanitize_text(pool.allocation_state)}",
        style=rich_style(state_style("pool", pool.allocation_state)),
    )
    label.append(f"  dedicated {pool.current_dedicated_nodes}/{pool.target_dedicated_nodes}")
    label.append(f"  low {pool.current_low_priority_nodes}/{pool.target_low_priority_nodes}")
    label.append(f"  {sum(states.values())} nodes")
    if pool.resize_errors:
        label.append("  resize error", style=rich_style(FAILED))
    return label


def group_label(state: str, count: int) -> Text:
    """Label of a node state group: "running (12)"."""
    return Text(f"{sanitize_text(state)} ({count:,})", style=rich_style(state_style("node", state)))


def node_label(node: Node) -> Text:
    """Label of a node: id, IP, running tasks."""
    label = Text(sanitize_text(node.id))
    label.append(f"  {sanitize_text(node.ip_address or '-')}", style="dim")
    if node.running_tasks_count:
        label.append(f"  {node.running_tasks_count} tasks")
    if node.is_dedicated is False:
        label.append("  low-pri", style="dim")
    return label


def ordered_states(states: dict[str, int]) -> list[str]:
    """States with nodes, busiest first (`NODE_STATE_ORDER`), then unknown ones by name."""
    known = [state for state in NODE_STATE_ORDER if states.get(state)]
    return known + sorted(state for state in states if state not in NODE_STATE_ORDER)


class PoolTree(Tree[PoolTreeItem]):
    """The pool tree, with vim's keys besides the arrows (`h`/`l` stay the screen's)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="tree.up", tooltip="Previous line"),
        Binding("down,j", "cursor_down", "Down", show=False, id="tree.down", tooltip="Next line"),
        Binding("home,g", "scroll_home", "First", show=False, id="tree.first",
                tooltip="First line"),
        Binding("end,G", "scroll_end", "Last", show=False, id="tree.last", tooltip="Last line"),
    ]  # fmt: skip


class PoolsScreen(PoolActionScreen):
    """Pools, their nodes grouped by state (expand to load), and the nodes themselves; the
    pool actions act on the pool of the line under the cursor."""

    REFRESH_KIND = "pools"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "pool_detail", "Pool detail", id="pools.pool-detail",
                tooltip="The pool's settings and errors"),
        Binding("n", "nodes", "Node list", id="pools.nodes", tooltip="The pool's node list"),
        Binding("h", "heatmap", "Heatmap", id="pools.heatmap", tooltip="The pool's heatmap"),
        Binding("t", "timeline", "Timeline", show=False, id="pools.timeline",
                tooltip="The pool's nodes over time, the tasks they ran"),
        action_binding(ACTIONS["node.all-in-state"]),
        *action_bindings("pool"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self._pools: dict[str, TreeNode[PoolTreeItem]] = {}
        self._pool_data: dict[str, Pool] = {}
        self._groups: dict[tuple[str, str], TreeNode[PoolTreeItem]] = {}
        self._counts: dict[str, PoolNodeCounts] = {}
        self._group_locks: dict[tuple[str, str], asyncio.Lock] = {}

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("pools",)

    @property
    def pool_tree(self) -> Tree[PoolTreeItem]:
        """The pool tree."""
        return self.query_one("#pool-tree", Tree)

    def compose_body(self) -> ComposeResult:
        tree = PoolTree("pools", id="pool-tree")
        tree.show_root = False
        yield tree

    def on_mount(self) -> None:
        self.pool_tree.focus()

    async def load_data(self) -> None:
        pools = self.track(await self.cache.list_pools(select=POOL_FIELDS, force=self.forced))
        counts = self.track(await self.cache.list_node_counts(force=self.forced))
        self._counts = {item.pool_id: item for item in counts}
        self._pool_data = {pool.id: pool for pool in pools}
        self.session.remember_ids("pool", (pool.id for pool in pools))
        under_cursor = self._cursor_item()
        self._sync_pools(pools)
        for pool_id, pool_node in self._pools.items():
            if pool_node.is_expanded:
                self._sync_groups(pool_id, pool_node)
        for (pool_id, state), group in list(self._groups.items()):
            if group.is_expanded:
                await self._load_group(pool_id, state, group)
        self._keep_cursor_on(under_cursor)

    def _cursor_item(self) -> PoolTreeItem | None:
        node = self.pool_tree.cursor_node
        return node.data if node is not None else None

    def _keep_cursor_on(self, item: PoolTreeItem | None) -> None:
        """Puts the cursor back on the item it was on (the tree keeps a line number, and
        lines above it may have come or gone); a node that changed state is followed into
        its new group if that group is open."""
        if item is None:
            return
        found: TreeNode[PoolTreeItem] | None
        if item.kind == "pool":
            found = self._pools.get(item.pool_id)
        elif item.kind == "group":
            found = self._groups.get((item.pool_id, item.state))
        else:
            groups = (g for (pool, _), g in self._groups.items() if pool == item.pool_id)
            leaves = (child for group in groups for child in group.children)
            found = next((c for c in leaves if c.data and c.data.node_id == item.node_id), None)
        tree = self.pool_tree
        if found is not None and found is not tree.cursor_node:
            # The line numbers are known once the tree has laid its lines out again.
            self.call_after_refresh(tree.move_cursor, found)

    def _sync_pools(self, pools: Sequence[Pool]) -> None:
        """Adds new pools, relabels known ones, removes deleted ones; expansion is kept."""
        seen = set()
        for pool in pools:
            seen.add(pool.id)
            label = pool_label(pool, self._counts.get(pool.id))
            node = self._pools.get(pool.id)
            if node is None:
                self._pools[pool.id] = self.pool_tree.root.add(label, PoolTreeItem("pool", pool.id))
            else:
                node.set_label(label)
        for pool_id in [key for key in self._pools if key not in seen]:
            self._pools.pop(pool_id).remove()
            for key in [key for key in self._groups if key[0] == pool_id]:
                del self._groups[key]
        if self.pool_tree.cursor_node is None and self._pools:
            # A new tree has no cursor line; put it on the first pool so enter works at once.
            self.pool_tree.move_cursor(next(iter(self._pools.values())))

    def _sync_groups(self, pool_id: str, pool_node: TreeNode[PoolTreeItem]) -> None:
        """One child per node state with nodes, in legend order, with its count."""
        states = node_state_counts(self._counts.get(pool_id))
        for state in ordered_states(states):
            label = group_label(state, states[state])
            group = self._groups.get((pool_id, state))
            if group is None:
                item = PoolTreeItem("group", pool_id, state=state)
                self._groups[(pool_id, state)] = pool_node.add(label, item)
            else:
                group.set_label(label)
        for key in [key for key in self._groups if key[0] == pool_id and key[1] not in states]:
            self._groups.pop(key).remove()

    async def _load_group(self, pool_id: str, state: str, group: TreeNode[PoolTreeItem]) -> None:
        """Lists the nodes in one state (filtered on the server) and updates the group in
        place, in id order: nodes that left go, new ones come in at their place, the rest are
        relabelled (a big group a chunk at a time). One load of a group at a time: the
        refresh and an expansion may both ask."""
        lock = self._group_locks.setdefault((pool_id, state), asyncio.Lock())
        async with lock:
            nodes = await self.client.list_nodes(
                pool_id, select=TREE_NODE_FIELDS, filter=eq("state", state)
            )
            nodes.sort(key=lambda node: node.id)
            wanted = {node.id for node in nodes}
            self.session.remember_ids(id_kind("node", pool_id), wanted)
            for child in list(group.children):
                if child.data is None or child.data.node_id not in wanted:
                    child.remove()
            for index, node in enumerate(nodes):
                children = group.children
                there = children[index].data if index < len(children) else None
                if there is not None and there.node_id == node.id:
                    children[index].set_label(node_label(node))
                    continue
                item = PoolTreeItem("node", pool_id, state=state, node_id=node.id)
                before = index if index < len(children) else None
                group.add_leaf(node_label(node), item, before=before)
                if index % POPULATE_CHUNK_SIZE == POPULATE_CHUNK_SIZE - 1:
                    await asyncio.sleep(0)

    @on(Tree.NodeExpanded)
    def _expanded(self, event: Tree.NodeExpanded[PoolTreeItem]) -> None:
        item = event.node.data
        if item is None:
            return
        if item.kind == "pool":
            self._sync_groups(item.pool_id, event.node)
        elif item.kind == "group":
            self.run_worker(
                self._expand_group(item, event.node), group="pools-group", exit_on_error=False
            )

    async def _expand_group(self, item: PoolTreeItem, node: TreeNode[PoolTreeItem]) -> None:
        under_cursor = self._cursor_item()
        try:
            await self._load_group(item.pool_id, item.state, node)
            self._keep_cursor_on(under_cursor)
        except BatchError as error:
            self.notify(f"Nodes of {item.pool_id}: {error}", severity="error", markup=False)

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[PoolTreeItem]) -> None:
        item = event.node.data
        if item is not None and item.kind == "node":
            self.batch_app.open(route("node", item.pool_id, item.node_id))

    def _cursor_pool(self) -> str | None:
        node = self.pool_tree.cursor_node
        return node.data.pool_id if node is not None and node.data is not None else None

    def pool_targets(self) -> tuple[str, ...]:
        pool_id = self._cursor_pool()
        return (pool_id,) if pool_id else ()

    def known_pool(self, pool_id: str) -> Pool | None:
        return self._pool_data.get(pool_id)

    def entity_under_cursor(self) -> EntityRef | None:
        item = self._cursor_item()
        if item is None:
            return None
        if item.kind == "node":
            return EntityRef.node(item.pool_id, item.node_id)
        return EntityRef.pool(item.pool_id)  # a pool, or one of its state groups

    def availability(self, action: str) -> bool | None:
        if action in ("pool_detail", "nodes", "heatmap"):
            return True if self._cursor_pool() else None
        return True

    @on(Tree.NodeHighlighted)
    def _highlighted(self) -> None:
        self.refresh_availability()

    def action_pool_detail(self) -> None:
        """Opens the detail of the pool under the cursor."""
        pool_id = self._cursor_pool()
        if pool_id:
            self.batch_app.open(route("pool", pool_id))

    def action_timeline(self) -> None:
        """Opens the node timeline of the pool under the cursor."""
        pool_id = self._cursor_pool()
        if pool_id:
            self.batch_app.open(route("timeline", pool_id))

    def action_nodes(self) -> None:
        """Opens the node list of the pool under the cursor."""
        pool_id = self._cursor_pool()
        if pool_id:
            self.batch_app.open(route("nodes", pool_id))

    def flow_all_in_state(self) -> None:
        """Acts on every node in a state of the pool under the cursor; on a state group, in
        that group's state."""
        item = self._cursor_item()
        state = item.state if item is not None and item.kind == "group" else None
        start_state_action(self, self._cursor_pool() or "", state)

    def action_heatmap(self) -> None:
        """Opens the heatmap of the pool under the cursor."""
        pool_id = self._cursor_pool()
        if pool_id:
            self.batch_app.open(route("heatmap", pool_id))
