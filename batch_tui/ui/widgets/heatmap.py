"""Provides NodeHeatmap: one coloured cell per node, with a legend of counts per state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from batch_tui.ui.formatting import NODE_STATE_ORDER, node_state_glyph, state_style, truncate
from batch_tui.ui.sanitize import sanitize_text

CELL_WIDTH = 2
"""Cells per node: a glyph and a gap, so 5,000 nodes fit in 125 rows at 80 columns and
neighbouring nodes stay distinguishable without colour."""


@dataclass(frozen=True)
class NodeCell:
    """One node in the heatmap."""

    node_id: str
    state: str


def legend_entries(nodes: Sequence[NodeCell]) -> list[tuple[str, int]]:
    """Counts nodes per state, known states in `NODE_STATE_ORDER`, then others by name."""
    counts = Counter(node.state.lower() for node in nodes)
    known = [state for state in NODE_STATE_ORDER if counts[state]]
    others = sorted(state for state in counts if state not in NODE_STATE_ORDER)
    return [(state, counts[state]) for state in (*known, *others)]


class NodeHeatmap(ScrollView, can_focus=True):
    """A grid of nodes coloured by state; arrows move a cursor, enter opens the node.

    The legend and the cursor's node stay at the top while the grid scrolls under them.
    """

    DEFAULT_CSS = """
    NodeHeatmap {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        & > .node-heatmap--cursor { text-style: reverse bold; }
        & > .node-heatmap--legend { color: $foreground; }
        & > .node-heatmap--status { color: $text-muted; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "node-heatmap--cursor",
        "node-heatmap--legend",
        "node-heatmap--status",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        # Vim keys too: the heatmap screen binds none of h, j, k, l, g, G itself.
        Binding("left,h", "move(-1)", "Left", show=False, id="heatmap.left",
                tooltip="Previous node"),
        Binding("right,l", "move(1)", "Right", show=False, id="heatmap.right",
                tooltip="Next node"),
        Binding("up,k", "move_rows(-1)", "Up", show=False, id="heatmap.up", tooltip="Node above"),
        Binding("down,j", "move_rows(1)", "Down", show=False, id="heatmap.down",
                tooltip="Node below"),
        Binding(
            "pageup", "page(-1)", "Page up", show=False, id="heatmap.page-up", tooltip="Up a page"
        ),
        Binding(
            "pagedown", "page(1)", "Page down", show=False, id="heatmap.page-down",
            tooltip="Down a page",
        ),
        Binding("home,g", "first", "First", show=False, id="heatmap.first",
                tooltip="First node"),
        Binding("end,G", "last", "Last", show=False, id="heatmap.last", tooltip="Last node"),
        Binding("enter", "select", "Open", id="heatmap.select", tooltip="Open the node"),
    ]  # fmt: skip

    class NodeSelected(Message):
        """Posted when the user presses enter on a node."""

        def __init__(self, heatmap: NodeHeatmap, node_id: str) -> None:
            super().__init__()
            self.heatmap = heatmap
            self.node_id = node_id

        @property
        def control(self) -> NodeHeatmap:
            return self.heatmap

    class NodeHighlighted(Message):
        """Posted when the cursor lands on a different node."""

        def __init__(self, heatmap: NodeHeatmap, node_id: str | None) -> None:
            super().__init__()
            self.heatmap = heatmap
            self.node_id = node_id

        @property
        def control(self) -> NodeHeatmap:
            return self.heatmap

    cursor_index: var[int] = var(0, always_update=True)
    """Position of the cursor in the node list."""

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's widget signature
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._cells: list[NodeCell] = []
        self._legend: list[tuple[str, int]] = []
        self._posted: str | None = None

    @property
    def nodes(self) -> Sequence[NodeCell]:
        """The nodes shown, in grid order."""
        return self._cells

    @property
    def cursor_node(self) -> NodeCell | None:
        """The node under the cursor."""
        return self._cells[self.cursor_index] if self._cells else None

    @property
    def legend(self) -> list[tuple[str, int]]:
        """(state, count) pairs in legend order."""
        return self._legend

    @property
    def columns(self) -> int:
        """Nodes per grid row at the current width."""
        return max(1, self.scrollable_content_region.width // CELL_WIDTH)

    def set_nodes(self, nodes: Sequence[NodeCell]) -> None:
        """Replaces the nodes; the cursor stays on the same node id if it is still there."""
        current = self.cursor_node
        self._cells = list(nodes)
        self._legend = legend_entries(self._cells)
        index = self.cursor_index
        if current is not None:
            index = next(
                (i for i, node in enumerate(self._cells) if node.node_id == current.node_id),
                index,
            )
        self._update_virtual_size()
        self.cursor_index = index

    # -- actions ----------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        self.cursor_index += delta

    def action_move_rows(self, rows: int) -> None:
        target = self.cursor_index + rows * self.columns
        if 0 <= target < len(self._cells):
            self.cursor_index = target

    def action_page(self, pages: int) -> None:
        self.cursor_index += pages * self._grid_height * self.columns

    def action_first(self) -> None:
        self.cursor_index = 0

    def action_last(self) -> None:
        self.cursor_index = len(self._cells) - 1

    def action_select(self) -> None:
        node = self.cursor_node
        if node is not None:
            self.post_message(self.NodeSelected(self, node.node_id))

    # -- cursor, layout, events -------------------------------------------------------

    def validate_cursor_index(self, index: int) -> int:
        return max(0, min(index, len(self._cells) - 1))

    def watch_cursor_index(self) -> None:
        if not self.is_mounted:
            return  # nodes set before mounting: on_resize catches up
        row = self.cursor_index // self.columns
        top = round(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, force=True)
        elif row >= top + self._grid_height:
            self.scroll_to(y=row - self._grid_height + 1, animate=False, force=True)
        self.refresh()
        node = self.cursor_node
        node_id = None if node is None else node.node_id
        if node_id != self._posted:
            self._posted = node_id
            self.post_message(self.NodeHighlighted(self, node_id))

    @property
    def _header_lines(self) -> list[list[Segment]]:
        return self._legend_lines(self.scrollable_content_region.width) + [self._status_line()]

    @property
    def _grid_height(self) -> int:
        return max(1, self.scrollable_content_region.height - len(self._header_lines))

    def _update_virtual_size(self) -> None:
        if not self.is_mounted:
            return
        rows = -(-len(self._cells) // self.columns)
        width = self.scrollable_content_region.width
        self.virtual_size = Size(width, rows + len(self._header_lines))
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()
        self.cursor_index = self.cursor_index

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        grid_y = None if offset is None else offset.y - len(self._header_lines)
        if offset is None or grid_y is None or grid_y < 0:
            return
        column = offset.x // CELL_WIDTH
        if column < self.columns:
            index = (round(self.scroll_y) + grid_y) * self.columns + column
            if index < len(self._cells):
                self.cursor_index = index

    # -- rendering --------------------------------------------------------------------

    def _state_style(self, state: str) -> RichStyle:
        return self.app.stylesheet.parse_style(state_style("node", state)).rich_style

    def _legend_lines(self, width: int) -> list[list[Segment]]:
        """Legend entries ("● running 1,200"), wrapped at the widget's width."""
        base = self.get_component_rich_style("node-heatmap--legend")
        lines: list[list[Segment]] = [[]]
        used = 0
        for state, count in self._legend or [("no nodes", 0)]:
            label = f"{sanitize_text(state, limit=40)} {count:,}  "
            size = 2 + len(label)
            if used and used + size > width:
                lines.append([])
                used = 0
            lines[-1] += [
                Segment(node_state_glyph(state) + " ", base + self._state_style(state)),
                Segment(label, base),
            ]
            used += size
        return lines

    def _status_line(self) -> list[Segment]:
        node = self.cursor_node
        style = self.get_component_rich_style("node-heatmap--status")
        if node is None:
            return [Segment("", style)]
        text = f"▸ {sanitize_text(node.node_id)}  {sanitize_text(node.state)}"
        width = self.scrollable_content_region.width
        return [Segment(truncate(text, width), style)]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        header = self._header_lines
        if y < len(header):
            return Strip(header[y]).adjust_cell_length(width, base)
        columns = self.columns
        first = (round(self.scroll_y) + y - len(header)) * columns
        cursor_style = self.get_component_rich_style("node-heatmap--cursor", partial=True)
        segments: list[Segment] = []
        for index in range(first, min(first + columns, len(self._cells))):
            node = self._cells[index]
            style = base + self._state_style(node.state)
            if index == self.cursor_index:
                style += cursor_style
            segments += [Segment(node_state_glyph(node.state), style), Segment(" ", base)]
        return Strip(segments).adjust_cell_length(width, base)
