"""Provides ListScreen: a BatchScreen with a VirtualTable, `/` filter, sort keys and marks, and
`ctrl+s` to export the list as filtered and sorted (CSV or JSON).

Import it from `batch_tui.ui.screens.base`, which documents the screen API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar, Final

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from batch_tui.batch import undecodable_reason
from batch_tui.ui.actions import Kind
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.handoff import export_table
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.batch_screen import BatchScreen
from batch_tui.ui.widgets.table_rows import Column, RowData
from batch_tui.ui.widgets.virtual_table import VirtualTable

FILTER_DEBOUNCE = 0.15
"""Seconds of typing pause before the filter applies (enter applies at once)."""

UNDECODABLE_STYLE: Final = "italic ansi_yellow"
"""Style of the row of an item that did not decode (its words say so without colour)."""


class FilterInput(Input):
    """The `/` filter of a list: a regex, `!` inverts."""


class FilterBar(Container):
    """The line under a list: its status on the right, the `/` filter over its left part.

    Both share one line in two layers, and the filter opens and closes by visibility: a
    line that came and went would lay the whole screen out again (30-50 ms on a busy one).
    """

    DEFAULT_CSS = """
    FilterBar {
        height: 1;
        layers: status filter;
        #list-status { layer: status; height: 1; color: $text-muted; padding: 0 1;
                       text-align: right; }
        #list-filter { layer: filter; width: 60%; height: 1; border: none; padding: 0 1;
                       background: $boost; }
        #list-filter.-closed { visibility: hidden; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="list-status", markup=False)
        field = FilterInput(placeholder="filter: regex, ! inverts", id="list-filter")
        field.add_class("-closed")
        field.disabled = True  # out of the focus chain while closed
        yield field


class ListTable(VirtualTable):
    """The VirtualTable of a ListScreen; says when marks or the sort change.

    The row of an item that did not decode (a placeholder, whose id says why: see
    `batch_tui.batch.undecodable_reason`) is drawn as one line that says so, whichever
    screen built it: "undecodable item: id is a number (42)".
    """

    class ViewChanged(Message):
        """Marks or the sort order changed (the list's status line shows them)."""

    def view_changed(self) -> None:
        self.post_message(self.ViewChanged())

    def set_rows(self, rows: Iterable[RowData]) -> None:
        super().set_rows(map(placeholder_shown, rows))

    def update_rows(self, changed: Sequence[RowData]) -> None:
        super().update_rows([placeholder_shown(row) for row in changed])


def placeholder_shown(row: RowData) -> RowData:
    """Returns the row as built, or for a placeholder's, a row that says the item did not
    decode, with blank cells (they would widen the id column for every row)."""
    if undecodable_reason(row.key) is None:
        return row
    blank = ("",) * len(row.cells)
    return RowData(row.key, blank, style=UNDECODABLE_STYLE, span=row.key)


class ListScreen(BatchScreen):
    """A BatchScreen with a VirtualTable, a `/` filter, sort keys, marks and enter to open."""

    COLUMNS: ClassVar[Sequence[Column]] = ()
    """The table's columns."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash", "filter", "Filter", id="list.filter", tooltip="Filter rows (regex, ! inverts)"
        ),
        Binding("ctrl+s", "export", "Export", show=False, id="list.export",
                tooltip="All rows as filtered/sorted to CSV/JSON"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self._filter_timer: Timer | None = None
        self._last_table: VirtualTable | None = None
        self._status_text: str | None = None

    def columns(self) -> Sequence[Column]:
        """The table's columns (COLUMNS unless overridden)."""
        return self.COLUMNS

    def compose_body(self) -> ComposeResult:
        yield ListTable(self.columns(), id="list-table")
        yield FilterBar()

    @property
    def table(self) -> VirtualTable:
        """The list's table."""
        return self.query_one("#list-table", VirtualTable)

    @property
    def filter_input(self) -> FilterInput:
        """The filter input (hidden unless filtering)."""
        return self.query_one("#list-filter", FilterInput)

    def redraw_in_view(self, build: Callable[[str], RowData | None]) -> None:
        """Builds the rows on screen again with `build(key)` (None: leave it).

        Rows hold texts counted from the time they were built ("ran 5m", "12s" since the
        state changed). A delta refresh rebuilds only the rows that changed, so the rest
        would show the time of the last full listing: the ones the user sees are rebuilt at
        each refresh, a screenful, whatever the list's size.
        """
        rows = [row for key in self.table.keys_in_view if (row := build(key)) is not None]
        if rows:
            self.table.update_rows(rows)

    def open_row(self, key: str) -> None:
        """Opens the row with this key (enter)."""

    def row_entity(self, table: VirtualTable, key: str) -> EntityRef | None:
        """The entity a row of `table` stands for (what `y` shows, `c` copies), or None."""
        return None

    def entity_under_cursor(self) -> EntityRef | None:
        table = self.active_table()
        key = table.cursor_key
        return None if key is None else self.row_entity(table, key)

    def names_entities(self) -> bool:
        return type(self).row_entity is not ListScreen.row_entity

    def export_subject(self, table: VirtualTable) -> tuple[str, ...]:
        """What `table` lists, for the export's default file name: its crumbs, and the
        table's name when it is not the main one (the overview's jobs)."""
        extra = () if table is self.table else ((table.id or "").removesuffix("-table"),)
        return self.crumbs + extra

    def action_export(self) -> None:
        """Exports the active table's rows, as filtered and sorted, to CSV or JSON."""
        table = self.active_table()
        export_table(self, table, self.export_subject(table))

    def active_table(self) -> VirtualTable:
        """The table the filter, marks and status apply to: the focused one, else the main one."""
        focused = self.focused
        return focused if isinstance(focused, VirtualTable) else self._last_table or self.table

    def targets_marked(self, kind: Kind) -> bool:
        return bool(self.active_table().marked_keys)

    def targets(self) -> tuple[str, ...]:
        """The marked rows, or the row under the cursor when none is marked; never an item
        that did not decode (its id is not one the service knows)."""
        table = self.active_table()
        marked = table.marked_keys
        if marked:
            return tuple(key for key in marked if undecodable_reason(key) is None)
        key = table.cursor_key
        return (key,) if key is not None and undecodable_reason(key) is None else ()

    def on_mount(self) -> None:
        # Textual runs every class's on_mount in the MRO: no super() call here.
        self.table.focus()
        self.update_status()

    def on_descendant_focus(self) -> None:
        focused = self.focused
        if isinstance(focused, VirtualTable):
            self._last_table = focused
            self.update_status()
            self.refresh_availability()

    @on(VirtualTable.RowSelected)
    def _row_selected(self, event: VirtualTable.RowSelected) -> None:
        event.stop()
        if undecodable_reason(event.key) is not None:
            self.notify("This item did not decode: there is nothing to open", severity="warning")
            return
        self.open_row(event.key)

    @on(VirtualTable.CursorMoved)
    @on(ListTable.ViewChanged)
    def _cursor_moved(self) -> None:
        self.update_status()
        self.refresh_availability()

    def action_filter(self) -> None:
        """Shows the filter input."""
        field = self.filter_input
        field.disabled = False
        field.remove_class("-closed")
        field.value = self.filter_text()
        field.focus()

    @on(Input.Changed, "#list-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        value = event.value
        self._filter_timer = self.set_timer(FILTER_DEBOUNCE, lambda: self.apply_filter(value))

    @on(Input.Submitted, "#list-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit_filter(event.value)
        self.active_table().focus()
        if not event.value:
            self._close_filter()

    def filter_text(self) -> str:
        """The filter in use as the user typed it ("" for none)."""
        return self.active_table().filter_pattern

    def submit_filter(self, pattern: str) -> None:
        """Applies the filter the user confirmed with enter (a screen may do more than on a
        typing pause: ask the service)."""
        self.apply_filter(pattern)

    def stop_filter_timer(self) -> None:
        """Cancels the application of the filter pending a typing pause."""
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None

    def apply_filter(self, pattern: str) -> None:
        """Filters the active table now (regex, `!` inverts, "" shows all)."""
        self.stop_filter_timer()
        table = self.active_table()
        if pattern != table.filter_pattern:
            table.set_filter(pattern)
        self.update_status()

    def action_back(self) -> None:
        """Closes the filter first, then clears it, then goes back."""
        field = self.filter_input
        table = self.active_table()
        if field.has_focus or self.filter_text():
            field.value = ""
            self.apply_filter("")
            table.focus()
            self._close_filter()
            return
        super().action_back()

    def _close_filter(self) -> None:
        field = self.filter_input
        field.add_class("-closed")
        field.disabled = True

    def update_status(self) -> None:
        """Redraws the line under the table: counts, filter, sort and marks."""
        table = self.active_table()
        parts = [f"{table.row_count:,} of {table.total_count:,}"]
        typed = self.filter_text()
        if typed and typed == table.filter_pattern:  # a regex
            parts.append(f"filter /{typed}/")
        elif typed and self.filter_input.has_class("-closed"):
            # Column terms: long, and the open input shows them already (over the left of
            # this line: repeated, they would push the counts under it).
            parts.append(f"filter {typed}")
        if table.sort_column:
            parts.append(f"sorted by {table.sort_column}" + (" ▼" if table.sort_reverse else " ▲"))
        if table.marked_keys:
            parts.append(f"{len(table.marked_keys)} marked")
        text = sanitize_text(" · ".join(parts))
        if text != self._status_text:
            self._status_text = text
            # One line whatever it says (app.tcss): no layout of the screen needed.
            self.query_one("#list-status", Static).update(text, layout=False)

    async def _refresh(self) -> None:
        await super()._refresh()
        self.update_status()
