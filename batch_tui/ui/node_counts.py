"""Provides a pool's node counts by state: added up, and shown as one coloured cell.

The overview's pool rows, the pool tree's labels and the pool detail all show them.
"""

from __future__ import annotations

from typing import Final

from textual.content import Content

from batch_tui.batch.models import NodeCounts, PoolNodeCounts
from batch_tui.ui.formatting import NODE_STATE_ORDER, state_style
from batch_tui.ui.sanitize import sanitize_text

ATTENTION_STATES: Final = ("starttaskfailed", "unusable", "unknown", "offline", "preempted")
"""Node states a pool row shows first: when the cell is cut at 80 columns, the nodes that
need attention stay in view ahead of the running ones."""


def node_state_counts(counts: PoolNodeCounts | None) -> dict[str, int]:
    """Adds dedicated and low-priority counts per node state ("starttaskfailed": 2, ...)."""
    total: dict[str, int] = {}
    if counts is None:
        return total
    for part in (counts.dedicated, counts.low_priority):
        if part is None:
            continue
        for field in NodeCounts.__struct_fields__:
            value = getattr(part, field)
            if field != "total" and value:
                state = field.replace("_", "")
                total[state] = total.get(state, 0) + value
    return total


def states_cell(states: dict[str, int]) -> Content:
    """Renders node counts by state, coloured, bad states first: "1 offline 3 running"."""
    order = ATTENTION_STATES + tuple(s for s in NODE_STATE_ORDER if s not in ATTENTION_STATES)
    known = [state for state in order if states.get(state)]
    others = sorted(state for state in states if state not in NODE_STATE_ORDER)
    parts = [
        Content.styled(f"{states[state]} {sanitize_text(state)}", state_style("node", state))
        for state in known + others
    ]
    return Content(" ").join(parts) if parts else Content.styled("no nodes", "dim")
