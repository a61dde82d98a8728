"""Provides TimelineScreen: a pool's nodes as lanes over time, the tasks each ran as bars.

`TimelineScreen(pool_id)` (`:timeline POOL`, `t` on the pool tree and the heatmap) lists the
pool's nodes with their `recentTasks` and draws one lane per node (`timeline`): `█` a task
that succeeded, `▓` one running, `╳` one that failed, blank idle. An idle node is an empty
lane, a slow one long bars, a node where every task fails a row of `╳`. A node lists only
its last few tasks: the bars seen are kept, so the lanes fill in while the screen is open.

Keys: `up`/`down` (`j`/`k`, page up/down, `g`/`G`) move across nodes, `left`/`right` (`h`/`l`)
move in time, `+`/`-` zoom, `0` fits every bar again and follows the present, `enter` opens
the node under the cursor. Only the lanes on screen are drawn (1,000 nodes cost a screenful).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.css.query import NoMatches
from textual.events import Resize
from textual.widgets import Static

from batch_tui.batch import odata
from batch_tui.ui.commands import id_kind
from batch_tui.ui.routes import route
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.batch_screen import BatchScreen
from batch_tui.ui.timeline import (
    MARKS,
    MAX_LISTED_TASKS,
    TASK_FIELDS,
    TIMELINE_FIELDS,
    Lane,
    Timeline,
    Window,
    axis_line,
    fit_window,
    lane_cells,
    lane_counts_text,
    visible,
    window_text,
)

ID_WIDTH: Final = 18
STATE_WIDTH: Final = 9
LABEL_WIDTH: Final = ID_WIDTH + 1 + STATE_WIDTH + 1
"""The node id, its state and the `│` before the lane."""

_STYLES: Final = {MARKS["success"]: "green", MARKS["running"]: "yellow", MARKS["failure"]: "red"}

LEGEND: Final = "█ ok ▓ running ╳ failed · ←→ time · +/- zoom · 0 fit"


EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
"""Where a job with no creation time sorts: last."""


def _short(node_id: str) -> str:
    text = sanitize_text(node_id, limit=None)
    if len(text) <= ID_WIDTH:
        return text
    half = (ID_WIDTH - 1) // 2
    return f"{text[:half]}…{text[-(ID_WIDTH - 1 - half) :]}"


def lane_line(lane: Lane, cells: str, *, cursor: bool) -> Content:
    """A lane: the node's id and state, then its cells, marks coloured (their shapes already
    tell them apart)."""
    state = sanitize_text(lane.state)[:STATE_WIDTH]
    label = f"{_short(lane.node_id):<{ID_WIDTH}} {state:<{STATE_WIDTH}}│"
    parts: list[str | tuple[str, str]] = [(label, "reverse") if cursor else label]
    run_start = 0
    for index in range(1, len(cells) + 1):
        if index == len(cells) or cells[index] != cells[run_start]:
            piece = cells[run_start:index]
            style = _STYLES.get(piece[0], "")
            parts.append((piece, style) if style else piece)
            run_start = index
    return Content.assemble(*parts)


class TimelineScreen(BatchScreen):
    """A pool's node timeline."""

    CSS_PATH = "timeline.tcss"
    REFRESH_KIND = "nodes"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False, id="timeline.up", tooltip="Previous node"),
        Binding("down,j", "move(1)", "Down", show=False, id="timeline.down", tooltip="Next node"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="timeline.page-up",
                tooltip="A screenful of nodes up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="timeline.page-down",
                tooltip="A screenful of nodes down"),
        Binding("home,g", "move(-1_000_000_000)", "First", show=False, id="timeline.first",
                tooltip="First node"),
        Binding("end,G", "move(1_000_000_000)", "Last", show=False, id="timeline.last",
                tooltip="Last node"),
        Binding("left,h", "scroll_time(-1)", "Earlier", id="timeline.earlier",
                tooltip="Earlier in time (a quarter of the window)"),
        Binding("right,l", "scroll_time(1)", "Later", id="timeline.later",
                tooltip="Later in time (a quarter of the window)"),
        Binding("plus,equals_sign", "zoom(-1)", "Zoom in", show=False, id="timeline.zoom-in",
                tooltip="Fewer seconds a cell"),
        Binding("minus", "zoom(1)", "Zoom out", show=False, id="timeline.zoom-out",
                tooltip="More seconds a cell"),
        Binding("0", "fit", "Fit", show=False, id="timeline.fit",
                tooltip="Every bar in view, up to now"),
        Binding("enter", "open_node", "Open", id="timeline.open", tooltip="The node's detail"),
    ]  # fmt: skip

    def __init__(self, pool_id: str) -> None:
        super().__init__()
        self.pool_id = pool_id
        self.timeline = Timeline()
        self.cursor = 0
        """The index of the node under the cursor."""
        self.top = 0
        """The index of the first lane on screen."""
        self.window: Window | None = None
        """The time shown; None follows the present with every bar in view."""
        self._jobs_read = False

    @property
    def crumbs(self) -> tuple[str, ...]:
        return ("pools", self.pool_id, "timeline")

    def compose_body(self) -> ComposeResult:
        yield Static(id="timeline-head", markup=False)
        yield Static(id="timeline-axis", markup=False)
        yield Static(id="timeline-lanes", markup=False)
        yield Static(id="timeline-foot", markup=False)

    def on_resize(self, event: Resize) -> None:
        self.draw()

    async def load_data(self) -> None:
        cached = await self.cache.list_nodes(
            self.pool_id, select=TIMELINE_FIELDS, force=self.forced
        )
        nodes = self.track(cached)
        self.timeline.merge(nodes)
        self.session.remember_ids(id_kind("node", self.pool_id), self.timeline.lanes)
        self.draw()
        if not self._jobs_read or self.forced:
            self._jobs_read = True
            await self._read_jobs()

    async def _read_jobs(self) -> None:
        """Adds the tasks of the pool's jobs (newest first, `MAX_LISTED_TASKS` at most): a
        node lists only its last few tasks, the jobs' task lists hold what came before. Read
        when the screen opens and on `r`; later refreshes read the nodes only."""
        where = odata.eq("executionInfo/poolId", self.pool_id)
        jobs = await self.client.list_jobs(select=("id", "creationTime"), filter=where)
        jobs.sort(key=lambda job: job.creation_time or EPOCH, reverse=True)
        read = 0
        for job in jobs:
            if read >= MAX_LISTED_TASKS:
                break
            async for page in self.client.iter_job_tasks(job.id, select=TASK_FIELDS):
                read += len(page)
                self.timeline.merge_tasks(self.pool_id, job.id, page)
            self.draw()

    # -- drawing --------------------------------------------------------------------------

    def _cells_width(self) -> int:
        return max(self.size.width - 2 - LABEL_WIDTH, 8)

    def _rows(self) -> int:
        try:
            return max(self.query_one("#timeline-lanes", Static).size.height, 1)
        except NoMatches:
            return 1

    def current_window(self) -> Window:
        """The window drawn: the user's, or every bar up to now."""
        width = self._cells_width()
        if self.window is None:
            return fit_window(self.timeline, self.now(), width)
        return self.window.resized(width)

    def draw(self) -> None:
        """Draws the lanes on screen, and only those."""
        try:
            lanes_widget = self.query_one("#timeline-lanes", Static)
        except NoMatches:
            return
        lanes = self.timeline.ordered()
        self.cursor = min(max(self.cursor, 0), max(len(lanes) - 1, 0))
        rows = self._rows()
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + rows:
            self.top = self.cursor - rows + 1
        self.top = min(self.top, max(len(lanes) - rows, 0))
        window = self.current_window()
        now = self.now()
        lines = [
            lane_line(lane, lane_cells(lane.bars.values(), window, now),
                      cursor=self.top + offset == self.cursor)
            for offset, lane in enumerate(visible(lanes, self.top, rows))
        ]  # fmt: skip
        lanes_widget.update(Content("\n").join(lines) if lines else "No nodes in this pool.")
        following = " · following now" if self.window is None else ""
        head = f"{len(lanes):,} nodes · {window_text(window)}{following}"
        self.query_one("#timeline-head", Static).update(f"{head}\n{LEGEND}")
        axis = " " * LABEL_WIDTH + axis_line(window)
        self.query_one("#timeline-axis", Static).update(axis)
        self.query_one("#timeline-foot", Static).update(self._foot(lanes))

    def _foot(self, lanes: list[Lane]) -> str:
        if not lanes:
            return ""
        lane = lanes[self.cursor]
        where = f"node {self.cursor + 1:,} of {len(lanes):,}"
        node = sanitize_text(lane.node_id, limit=80)
        # The id last: a real one is 70 characters, cut at the edge of the line.
        return f"{where} · {sanitize_text(lane.state)} · {lane_counts_text(lane)} · {node}"

    # -- keys -----------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        self.cursor += step
        self.draw()

    def action_page(self, pages: int) -> None:
        self.action_move(pages * self._rows())

    def action_scroll_time(self, quarters: int) -> None:
        window = self.current_window()
        self.window = window.scrolled(quarters * max(window.cells // 4, 1))
        self.draw()

    def action_zoom(self, steps: int) -> None:
        self.window = self.current_window().zoomed(steps)
        self.draw()

    def action_fit(self) -> None:
        self.window = None
        self.draw()

    def action_open_node(self) -> None:
        lanes = self.timeline.ordered()
        if lanes:
            self.batch_app.open(route("node", self.pool_id, lanes[self.cursor].node_id))


__all__ = ["TimelineScreen", "lane_line"]
