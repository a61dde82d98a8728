"""Provides a pool's node timeline: one lane per node, the tasks it ran as bars over time.

- `bars_of(node, now)`: a node's bars from its `recentTasks` (start, end, result).
- `Timeline`: the lanes of a pool's nodes; `merge(nodes, now)` adds a listing's bars to the
  ones seen before (a node lists only its last few tasks: kept, the lanes grow while the
  screen is open); `merge_tasks(pool, job, tasks)` adds the bars of a job's task list, which
  holds the tasks from before a node's last few.
- `Window`: the time shown, `cells` cells of `cell_seconds` each ending at `end`;
  `fit_window(timeline, now, cells)` fits every bar, `zoomed` / `scrolled` move it.
- `lane_cells(bars, window, now)`: a lane drawn as characters, one per cell: `█` success,
  `▓` running, `╳` failure, space idle (a cell with several tasks shows the worst).
- `axis_line(window)`: the time labels over the lanes.

Shapes tell the results apart without colour. No Textual here: `screens/timeline.py` draws.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

from batch_tui.batch.models.node import Node
from batch_tui.batch.models.task import Task

Outcome = Literal["success", "failure", "running"]

MARKS: Final[dict[Outcome, str]] = {"success": "█", "running": "▓", "failure": "╳"}
"""The character of a cell by the worst outcome in it."""

IDLE: Final = " "

_RANK: Final[dict[str, int]] = {IDLE: 0, "█": 1, "▓": 2, "╳": 3}
"""Which mark wins a cell that several tasks share: a failure is never hidden."""

ZOOM_STEPS: Final = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600)
"""Seconds per cell the zoom steps through."""

TIMELINE_FIELDS: Final = ("id", "state", "recentTasks")
"""The node fields the timeline needs ($select)."""


@dataclass(frozen=True)
class Bar:
    """One task's run on a node: from `start` to `end` (None: still running)."""

    job_id: str
    task_id: str
    start: datetime
    end: datetime | None
    outcome: Outcome


@dataclass
class Lane:
    """A node and the bars of the tasks it ran, by (job, task)."""

    node_id: str
    state: str
    bars: dict[tuple[str, str], Bar] = field(default_factory=dict)

    def counts(self) -> dict[Outcome, int]:
        """How many of its bars ended each way."""
        counted: dict[Outcome, int] = {"success": 0, "failure": 0, "running": 0}
        for bar in self.bars.values():
            counted[bar.outcome] += 1
        return counted


def bars_of(node: Node) -> list[Bar]:
    """The bars of a node's recent tasks that started (a task with no start time never ran)."""
    bars = []
    for recent in node.recent_tasks:
        info = recent.execution_info
        if info is None or info.start_time is None:
            continue
        if recent.task_state == "completed" or info.end_time is not None:
            outcome: Outcome = "failure" if info.result == "failure" else "success"
            end = info.end_time
        else:
            outcome, end = "running", None
        job_id, task_id = recent.job_id or "", recent.task_id or ""
        bars.append(Bar(job_id, task_id, info.start_time, end, outcome))
    return bars


TASK_FIELDS: Final = ("id", "state", "executionInfo", "nodeInfo")
"""The task fields the timeline reads from a job's task list ($select)."""

MAX_LISTED_TASKS: Final = 200_000
"""Tasks of the pool's jobs read for the timeline at most: its history beyond the nodes'
recent tasks, bounded (the newest jobs first)."""


def task_bar(job_id: str, task: Task) -> tuple[str, Bar] | None:
    """The node and bar of a task from a job's task list, or None if it never started."""
    info, node = task.execution_info, task.node_info
    if info is None or info.start_time is None or node is None or not node.node_id:
        return None
    if task.state == "completed" or info.end_time is not None:
        outcome: Outcome = "failure" if info.result == "failure" else "success"
        return node.node_id, Bar(job_id, task.id, info.start_time, info.end_time, outcome)
    return node.node_id, Bar(job_id, task.id, info.start_time, None, "running")


class Timeline:
    """The lanes of a pool's nodes, in node id order."""

    def __init__(self) -> None:
        self.lanes: dict[str, Lane] = {}

    def merge(self, nodes: Iterable[Node]) -> None:
        """Adds a listing of the pool's nodes: new bars join, newer copies replace older ones
        (a task that ended), nodes that left the pool leave."""
        listed = set()
        for node in nodes:
            listed.add(node.id)
            lane = self.lanes.get(node.id)
            if lane is None:
                lane = self.lanes[node.id] = Lane(node.id, node.state or "")
            lane.state = node.state or ""
            for bar in bars_of(node):
                lane.bars[(bar.job_id, bar.task_id)] = bar
        for gone in [node_id for node_id in self.lanes if node_id not in listed]:
            del self.lanes[gone]
        self.lanes = dict(sorted(self.lanes.items()))

    def merge_tasks(self, pool_id: str, job_id: str, tasks: Iterable[Task]) -> int:
        """Adds the bars of a job's tasks that ran on this pool's nodes (a node lists only its
        last few tasks; the job's task list holds them all). Returns how many joined.

        A bar already there from a node's recent tasks is kept if it is newer (ended)."""
        added = 0
        for task in tasks:
            found = task_bar(job_id, task)
            node = task.node_info
            if found is None or node is None or (node.pool_id or pool_id) != pool_id:
                continue
            node_id, bar = found
            lane = self.lanes.get(node_id)
            if lane is None:
                continue  # a node that left the pool
            known = lane.bars.get((bar.job_id, bar.task_id))
            if known is None or (known.end is None and bar.end is not None):
                lane.bars[(bar.job_id, bar.task_id)] = bar
                added += 1
        return added

    def ordered(self) -> list[Lane]:
        return list(self.lanes.values())

    def first_start(self) -> datetime | None:
        starts = [bar.start for lane in self.lanes.values() for bar in lane.bars.values()]
        return min(starts) if starts else None


@dataclass(frozen=True)
class Window:
    """The time the lanes show: `cells` cells of `cell_seconds`, the last ending at `end`."""

    end: datetime
    cell_seconds: int
    cells: int

    @property
    def start(self) -> datetime:
        return self.end - timedelta(seconds=self.cell_seconds * self.cells)

    def zoomed(self, steps: int) -> Window:
        """Zoomed out (`steps` > 0) or in along `ZOOM_STEPS`, keeping the end."""
        index = _zoom_index(self.cell_seconds) + steps
        index = min(max(index, 0), len(ZOOM_STEPS) - 1)
        return Window(self.end, ZOOM_STEPS[index], self.cells)

    def scrolled(self, cells: int) -> Window:
        """Moved later (`cells` > 0) or earlier by that many cells."""
        return Window(self.end + timedelta(seconds=cells * self.cell_seconds), self.cell_seconds,
                      self.cells)  # fmt: skip

    def resized(self, cells: int) -> Window:
        return Window(self.end, self.cell_seconds, max(cells, 1))


def _zoom_index(cell_seconds: int) -> int:
    for index, step in enumerate(ZOOM_STEPS):
        if step >= cell_seconds:
            return index
    return len(ZOOM_STEPS) - 1


def fit_window(timeline: Timeline, now: datetime, cells: int) -> Window:
    """The window ending now whose cells are the smallest zoom step that shows every bar."""
    cells = max(cells, 1)
    first = timeline.first_start()
    span = (now - first).total_seconds() if first is not None else 0.0
    wanted = math.ceil(span / cells) if span > 0 else 1
    return Window(now, ZOOM_STEPS[_zoom_index(wanted)], cells)


def lane_cells(bars: Iterable[Bar], window: Window, now: datetime) -> str:
    """A lane in the window: one character per cell (`MARKS`, `IDLE`)."""
    cells = [IDLE] * window.cells
    start = window.start
    step = window.cell_seconds
    for bar in bars:
        end = bar.end or now
        if end < start or bar.start > window.end:
            continue
        first = max(int((bar.start - start).total_seconds() // step), 0)
        # A bar shorter than a cell still takes its cell: one quick failure stays visible.
        last = min(int((end - start).total_seconds() // step), window.cells - 1)
        mark = MARKS[bar.outcome]
        for index in range(first, max(last, first) + 1):
            if index < window.cells and _RANK[mark] > _RANK[cells[index]]:
                cells[index] = mark
    return "".join(cells)


def axis_line(window: Window, label_every: int = 16) -> str:
    """Time labels ("10:04:30") over the cells, one every `label_every` cells or more, each
    at the cell where its time starts; `┊` marks the spot."""
    row = [" "] * window.cells
    at = 0
    while at < window.cells:
        moment = window.start + timedelta(seconds=at * window.cell_seconds)
        text = "┊" + moment.strftime("%H:%M:%S" if window.cell_seconds < 60 else "%H:%M")
        if at + len(text) > window.cells:
            break
        row[at : at + len(text)] = text
        at += max(label_every, len(text) + 2)
    return "".join(row).rstrip()


def window_text(window: Window) -> str:
    """ "10:01 → 10:11 · 10s a cell"."""
    unit = (
        f"{window.cell_seconds}s" if window.cell_seconds < 60 else f"{window.cell_seconds // 60}m"
    )
    return f"{window.start:%H:%M:%S} → {window.end:%H:%M:%S} · {unit} a cell"


def lane_counts_text(lane: Lane) -> str:
    """ "12 ok 3 ✗ 1 run": how its known tasks ended (idle: "idle")."""
    counts = lane.counts()
    if not any(counts.values()):
        return "idle"
    parts = []
    if counts["success"]:
        parts.append(f"{counts['success']} ok")
    if counts["failure"]:
        parts.append(f"{counts['failure']} ✗")
    if counts["running"]:
        parts.append(f"{counts['running']} run")
    return " ".join(parts)


def visible(lanes: Sequence[Lane], top: int, rows: int) -> Sequence[Lane]:
    """The lanes from `top` that fit `rows` lines: only these are drawn."""
    return lanes[max(top, 0) : max(top, 0) + max(rows, 0)]
