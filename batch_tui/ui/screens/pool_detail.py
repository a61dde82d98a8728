"""Provides the pool detail: VM size, image, counts, allocation and resize errors, autoscale ...

With the pool's actions (`PoolActionScreen`): `z` resize, `Z` stop resize, `a` the autoscale
formula editor, `M` back to manual sizing, `ctrl+d` delete; the resize errors and the last
autoscale run they leave are shown beside them.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from batch_tui.batch.models import Pool, PoolNodeCounts
from batch_tui.ui.detail_fields import (
    Value,
    image_text,
    section,
    start_task_fields,
    styled_state,
    when,
)
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.formatting import FAILED, format_duration
from batch_tui.ui.history_view import pool_history_fields
from batch_tui.ui.node_counts import node_state_counts, states_cell
from batch_tui.ui.pool_changes import pairs, result_pairs
from batch_tui.ui.routes import route
from batch_tui.ui.screens.pool_actions import PoolActionScreen
from batch_tui.ui.screens.screen_actions import action_bindings


def general_fields(pool: Pool, now: datetime) -> list[tuple[str, Value]]:
    """The pool's identity, VM and state."""
    config = pool.virtual_machine_configuration
    policy = pool.task_scheduling_policy
    return [
        ("Display name", pool.display_name),
        ("State", styled_state("pool", pool.state)),
        ("VM size", pool.vm_size),
        ("Image", image_text(config.image_reference if config else None)),
        ("Node agent SKU", config.node_agent_sku_id if config else None),
        ("Created", when(pool.creation_time, now)),
        ("Task slots/node", str(pool.task_slots_per_node)),
        ("Node fill", policy.node_fill_type if policy else None),
        ("Inter-node comm", "enabled" if pool.enable_inter_node_communication else "disabled"),
    ]  # fmt: skip


def allocation_fields(
    pool: Pool, counts: PoolNodeCounts | None, now: datetime
) -> list[tuple[str, Value]]:
    """Target and current node counts, allocation state and its resize errors."""
    fields: list[tuple[str, Value]] = [
        ("Allocation", styled_state("pool", pool.allocation_state)),
        ("Since", when(pool.allocation_state_transition_time, now)),
        ("Dedicated", f"{pool.current_dedicated_nodes} of {pool.target_dedicated_nodes}"),
        ("Low priority", f"{pool.current_low_priority_nodes} of {pool.target_low_priority_nodes}"),
        ("Resize timeout", format_duration(pool.resize_timeout)),
        ("Nodes by state", states_cell(node_state_counts(counts))),
    ]  # fmt: skip
    for error in pool.resize_errors:
        message = f"{error.code}: {error.message or ''}".strip()
        fields.append(("Resize error", Content.styled(message, FAILED)))
        fields.extend((f"  {value.name}", value.value) for value in error.values)
    return fields


def autoscale_fields(pool: Pool, now: datetime) -> list[tuple[str, Value]]:
    """The autoscale formula, interval and last evaluation."""
    if not pool.enable_auto_scale:
        return [("Autoscale", "off")]
    run = pool.auto_scale_run
    fields: list[tuple[str, Value]] = [
        ("Autoscale", "on"),
        ("Interval", format_duration(pool.auto_scale_evaluation_interval)),
    ]
    # A line of the formula per line, not one run of text with the newlines shown as marks.
    lines = [line for line in (pool.auto_scale_formula or "").splitlines() if line.strip()]
    fields.extend(("Formula" if index == 0 else "", line) for index, line in enumerate(lines))
    if run is not None:
        fields.append(("Last evaluation", when(run.timestamp, now)))
        fields.append(("Results", "; ".join(result_pairs(run.results))))
        if run.error is not None:
            message = f"{run.error.code}: {run.error.message or ''}"
            fields.append(("Error", Content.styled(message, FAILED)))
            fields.extend((f"  {name}", value) for name, value in pairs(run.error.values))
    return fields


class PoolDetailScreen(PoolActionScreen):
    """One pool's settings and state; `n` its nodes, `h` its heatmap; the pool's actions."""

    REFRESH_KIND = "detail"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "nodes", "Nodes", id="pool-detail.nodes", tooltip="The pool's node list"),
        Binding("h", "heatmap", "Heatmap", id="pool-detail.heatmap", tooltip="The pool's heatmap"),
        *action_bindings("pool"),
    ]

    def __init__(self, pool_id: str) -> None:
        super().__init__()
        self.pool_id = pool_id
        self.pool: Pool | None = None

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("pools", self.pool_id)

    def entity_under_cursor(self) -> EntityRef | None:
        return EntityRef.pool(self.pool_id)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="pool-scroll"):
            yield Static(Content("loading…"), id="pool-summary")

    async def load_data(self) -> None:
        pool = self.track(await self.cache.get_pool(self.pool_id, force=self.forced))
        counts = self.track(await self.cache.list_node_counts(force=self.forced))
        self.pool = pool
        mine = next((item for item in counts if item.pool_id == pool.id), None)
        now = self.now()
        blocks = [
            section(f"Pool {pool.id}", general_fields(pool, now)),
            section("Nodes", allocation_fields(pool, mine, now)),
            section("History", self._history_fields()),
            section("Autoscale", autoscale_fields(pool, now)),
            section("Start task", start_task_fields(pool.start_task, None, now)),
        ]
        self.query_one("#pool-summary", Static).update(Content("\n\n").join(blocks))

    def _history_fields(self) -> list[tuple[str, Value]]:
        """The pool's sparklines from the account's history (sampled by the overview)."""
        history = self.session.history
        return list(pool_history_fields(history.pool(self.pool_id) if history else None))

    def pool_targets(self) -> tuple[str, ...]:
        return (self.pool_id,)

    def known_pool(self, pool_id: str) -> Pool | None:
        return self.pool

    def action_nodes(self) -> None:
        """Shows the pool's nodes."""
        self.batch_app.open(route("nodes", self.pool_id))

    def action_heatmap(self) -> None:
        """Shows the pool's heatmap."""
        self.batch_app.open(route("heatmap", self.pool_id))
