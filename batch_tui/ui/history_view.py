"""Provides the history's cells and lines: pool trends as sparklines, job rates as words.

- `pool_trend(ring, width)`: the overview's narrow cell: the tasks running on the pool, and
  ahead of them, when any node was in a bad state in the window, "✗" and a sparkline of those
  nodes (red, but the mark and the separate line tell them apart without colour).
- `pool_history_fields(ring)`: the pool detail's lines, a sparkline per node state and one of
  its running tasks, with the newest count and the span they cover.
- `job_eta(history, job_id, remaining)` / `job_eta_short(...)`: a job's ETA in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Final

from textual.content import Content

from batch_tui.batch.models.job import TaskCounts
from batch_tui.ui.formatting import FAILED, MISSING, format_duration, state_style
from batch_tui.ui.history import BAD_NODE_STATES, History, Ring, eta_short, eta_text, job_rate
from batch_tui.ui.sparkline import sparkline

TREND_SAMPLES: Final = 60
"""Samples the overview's cell draws: ten minutes at its 10 s refresh."""

DETAIL_WIDTH: Final = 40
"""Cells of a sparkline in the pool detail (with its label and count, within 80 columns)."""

BAD_MARK: Final = "✗"
"""Marks the sparkline of nodes in bad states (a shape, for NO_COLOR)."""


def pool_trend(ring: Ring | None, width: int = 10) -> Content:
    """The overview's trend cell: "✗▁▁▃ ▂▄▆█" (bad nodes, then running tasks); "" before
    the first sample."""
    if ring is None or not len(ring):
        return Content("")
    named = (*BAD_NODE_STATES, "idle", "running", "other")
    *states, running = ring.columns(*named, "tasks", last=TREND_SAMPLES)
    tasks = Content(sparkline(running, width))
    bad = [sum(counts) for counts in zip(*states[: len(BAD_NODE_STATES)], strict=True)]
    if not any(bad):
        return tasks
    # On the scale of the pool's nodes: one bad node of three stands a third high.
    nodes = max(sum(counts) for counts in zip(*states, strict=True))
    marked = Content.styled(f"{BAD_MARK}{sparkline(bad, max(3, width // 2), nodes)}", FAILED)
    return Content.assemble(marked, " ", tasks)


def _line(values: Sequence[int], top: int, style: str) -> Content:
    latest = values[-1] if values else 0
    return Content.assemble((sparkline(values, DETAIL_WIDTH, top), style), f" {latest:,}")


def pool_history_fields(ring: Ring | None) -> list[tuple[str, str | Content]]:
    """The pool detail's history: one labelled sparkline per node state seen (bad states
    first, marked "✗"), then the running tasks; a line saying why when there is none yet."""
    if ring is None or len(ring) < 1:
        return [("Samples", "none yet: the overview samples at each refresh")]
    times = ring.times()
    span = format_duration(timedelta(seconds=times[-1] - times[0]))
    fields: list[tuple[str, str | Content]] = [("Samples", f"{len(ring):,} over {span}")]
    node_states = (*BAD_NODE_STATES, "running", "idle", "other")
    columns = dict(zip(node_states, ring.columns(*node_states), strict=True))
    top = max((max(values) for values in columns.values()), default=0)
    for state in node_states:
        values = columns[state]
        bad = state in BAD_NODE_STATES
        if bad and not any(values):
            continue  # a bad state never seen: no line (a flat one would read as trouble)
        label = f"{BAD_MARK} {state}" if bad else f"  {state}"
        style = FAILED if bad else state_style("node", state)
        fields.append((label, _line(values, top, style)))
    fields.append(("Tasks running", _line(ring.values("tasks"), 0, "")))
    return fields


def job_eta(history: History | None, job_id: str, counts: TaskCounts) -> str:
    """A job's ETA: "~14 min left at 212 tasks/min"; "-" with no rate yet or no tasks."""
    if not (counts.active or counts.running or counts.completed):
        return MISSING  # no task yet: nothing is done, nor left
    ring = history.job(job_id) if history is not None else None
    return eta_text(job_rate(ring), counts.active + counts.running)


def job_eta_short(history: History | None, job_id: str, counts: TaskCounts) -> str:
    """A job's ETA for a narrow column: "~14m 212/m"; "-" with no rate yet or no tasks."""
    if not (counts.active or counts.running or counts.completed):
        return MISSING
    ring = history.job(job_id) if history is not None else None
    return eta_short(job_rate(ring), counts.active + counts.running)
