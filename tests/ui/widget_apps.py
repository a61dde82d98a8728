"""Small apps that host one widget each, for the widget tests (and `test_marks_vim.py`), and
the data they show.

- `HeatmapApp(nodes)` with `make_nodes(count)`: a `NodeHeatmap`.
- `ViewApp(source)` with `GeneratedSource(size)`: a `LogView` of a generated file; `settle`
  waits for its reads, `line_number` reads a line's number.
- `TableApp(rows)` with `task_row(index)`: a `VirtualTable`; `first_cells` reads its ID column.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from batch_tui.ui.widgets.heatmap import NodeCell, NodeHeatmap
from batch_tui.ui.widgets.log_view import ByteSource, LogView
from batch_tui.ui.widgets.table_rows import Column, RowData
from batch_tui.ui.widgets.virtual_table import VirtualTable

# --- heatmap --------------------------------------------------------------------------------------

STATES = ["running"] * 5 + ["idle"] * 3 + ["starttaskfailed", "offline", "creating", "newstate"]


def make_nodes(count: int) -> list[NodeCell]:
    """`count` nodes with 64-hex ids, in the states of `STATES` in turn."""
    return [
        NodeCell(f"tvmps_{index:064x}_d", STATES[index % len(STATES)]) for index in range(count)
    ]


class HeatmapApp(App[None]):
    """A focused heatmap of `nodes`; records the nodes selected and highlighted."""

    def __init__(self, nodes: list[NodeCell]) -> None:
        super().__init__()
        self.nodes = nodes
        self.selected: list[str] = []
        self.highlighted: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield NodeHeatmap()

    def on_mount(self) -> None:
        heatmap = self.query_one(NodeHeatmap)
        heatmap.set_nodes(self.nodes)
        heatmap.focus()

    def on_node_heatmap_node_selected(self, message: NodeHeatmap.NodeSelected) -> None:
        self.selected.append(message.node_id)

    def on_node_heatmap_node_highlighted(self, message: NodeHeatmap.NodeHighlighted) -> None:
        self.highlighted.append(message.node_id)


# --- log view -------------------------------------------------------------------------------------

LINE = 64
"""Bytes per line of the generated file: "line 0000000042 xxx...x\\n"."""


class GeneratedSource:
    """A huge file made up on demand: line i is `line <i:010d> x...x`, 64 bytes each."""

    def __init__(self, size: int) -> None:
        self._size = size
        self.bytes_read = 0

    async def size(self) -> int:
        return self._size

    async def read(self, start: int, end: int) -> bytes:
        end = min(end, self._size - 1)
        first, last = start // LINE, end // LINE
        lines = b"".join(
            b"line %010d " % index + b"x" * (LINE - 17) + b"\n" for index in range(first, last + 1)
        )
        data = lines[start - first * LINE : end - first * LINE + 1]
        self.bytes_read += len(data)
        return data


class ViewApp(App[None]):
    """A focused `LogView` of `source`; records the load failures it posts."""

    def __init__(self, source: ByteSource, **options: object) -> None:
        super().__init__()
        self.source = source
        self.options = options
        self.failures: list[BaseException] = []

    def compose(self) -> ComposeResult:
        yield LogView(self.source, **self.options)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.query_one(LogView).focus()

    def on_log_view_load_failed(self, message: LogView.LoadFailed) -> None:
        self.failures.append(message.error)


async def settle(pilot: Pilot[None]) -> LogView:
    """Waits until the view's reads have finished and the screen has caught up.

    A read can trigger another (a scroll near the window's edge), hence a few rounds.
    """
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    return pilot.app.query_one(LogView)


def line_number(text: str) -> int:
    """The number of a generated line (`line 0000000042 x...x`)."""
    return int(text.split()[1])


# --- virtual table --------------------------------------------------------------------------------

COLUMNS = [
    Column("id", "ID"),
    Column("state", "State"),
    Column("exit", "Exit", align="right"),
    Column("node", "Node"),
]


def task_row(index: int, state: str | None = None) -> RowData:
    """Row `task-<index>`: running or completed, an exit code and a node in bold."""
    state = state or ("running" if index % 3 == 0 else "completed")
    node = Text(f"node-{index % 50}", style="bold")
    return RowData(f"task-{index}", (f"task-{index}", state, str(index % 7), node))


class TableApp(App[None]):
    """A focused `VirtualTable` of `rows`; records the rows selected and the cursor moves."""

    def __init__(self, rows: list[RowData], columns: list[Column] = COLUMNS) -> None:
        super().__init__()
        self.rows = rows
        self.columns = columns
        self.selected: list[str] = []
        self.moved: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield VirtualTable(self.columns)

    def on_mount(self) -> None:
        table = self.query_one(VirtualTable)
        table.set_rows(self.rows)
        table.focus()

    def on_virtual_table_row_selected(self, message: VirtualTable.RowSelected) -> None:
        self.selected.append(message.key)

    def on_virtual_table_cursor_moved(self, message: VirtualTable.CursorMoved) -> None:
        self.moved.append(message.key)


def screen_text(table: VirtualTable) -> list[str]:
    """The rendered lines, read the way they are drawn."""
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def first_cells(table: VirtualTable) -> list[str]:
    """The ID column of the rows in view (the header excluded)."""
    return [line.split()[0] for line in screen_text(table)[1:] if line.strip()]
