"""Provides VirtualTable: a table that renders only the rows in view, for 100k-row lists."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import ClassVar, Generic, TypeVar

from textual import events, work
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from batch_tui.ui import heap
from batch_tui.ui.widgets.sort_picker import SortOrder, SortPicker
from batch_tui.ui.widgets.table_filter import CellTest
from batch_tui.ui.widgets.table_keys import TABLE_BINDINGS
from batch_tui.ui.widgets.table_lines import LineStyles, TableLines
from batch_tui.ui.widgets.table_marks import TableMarks
from batch_tui.ui.widgets.table_model import TableModel
from batch_tui.ui.widgets.table_rows import Column, RowData

WARM_ROWS = 5_000
"""From this many rows, once the rows stop changing, the table prepares the sort orders and
moves the rows out of the garbage collector's sight (`heap.settle`). Below, sorting on the
key press takes a few milliseconds."""

WARM_AFTER = 0.3
"""Seconds without a change to the rows before the preparation starts."""


K = TypeVar("K")


class TableMessage(Message, Generic[K]):
    """A message about one row of a VirtualTable, by key."""

    def __init__(self, table: VirtualTable, key: K) -> None:
        super().__init__()
        self.table = table
        self.key = key

    @property
    def control(self) -> VirtualTable:
        return self.table


class VirtualTable(ScrollView, can_focus=True):
    """A keyboard-driven table for very long lists.

    Rows live in a `TableModel`; only the lines in view are rendered (the Line API), so
    a key press costs the same for 100 rows as for 100,000. The cursor, marks and
    updates follow row keys, so refreshes, sorts and filters never lose the user's place.
    """

    DEFAULT_CSS = """
    VirtualTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        & > .virtual-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .virtual-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .virtual-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .virtual-table--marked { color: $accent; text-style: bold; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--marked",
    }

    BINDINGS: ClassVar[list[BindingType]] = TABLE_BINDINGS

    class RowSelected(TableMessage[str]):
        """Posted when the user presses enter on a row (`key`)."""

    class CursorMoved(TableMessage["str | None"]):
        """Posted when the cursor lands on a different row: its `key`, or `None` when the
        table shows no row."""

    cursor_index: var[int] = var(0, always_update=True)
    """Position of the cursor among the shown rows."""

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's widget signature
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = tuple(columns)
        self._model = TableModel(len(self.columns))
        self._marks = TableMarks()
        self._cursor_key: str | None = None
        self._placed = False
        """The user put the cursor on a row (a key, a click, `move_cursor`): from then on it
        stays on that row as rows come and go. Until then it stays on the first row, so a
        list streaming in, whose first rows to arrive are not its first, opens at the top."""
        self._posted_key: str | None = None
        self._lines = TableLines(self.columns, self._model)
        self._styles: LineStyles | None = None
        """The styles lines are drawn with, until focus or the theme change them."""
        self._settled = False
        """Whether this table's rows were frozen out of the garbage collector's sight."""

    # -- public API -------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Number of rows shown (after the filter)."""
        return len(self._model.view)

    @property
    def total_count(self) -> int:
        """Number of rows held, shown or not."""
        return len(self._model.rows)

    @property
    def visible_keys(self) -> Sequence[str]:
        """Keys of the shown rows in display order (do not modify)."""
        return self._model.view

    @property
    def keys_in_view(self) -> Sequence[str]:
        """Keys of the rows on screen now, top to bottom."""
        top = round(self.scroll_y)
        return self._model.view[top : top + self._page_height]

    @property
    def cursor_key(self) -> str | None:
        """Key of the row under the cursor, or `None` when no row is shown."""
        return self._cursor_key

    @property
    def marked_keys(self) -> tuple[str, ...]:
        """Marked rows that are shown, in display order (marks hidden by a filter are kept)."""
        return self._marks.shown(self._model.view)

    @property
    def filter_pattern(self) -> str:
        """The current filter ("" for none)."""
        return self._model.filter_pattern

    @property
    def sort_column(self) -> str | None:
        """Key of the column the rows are sorted by, or `None` for the original order."""
        index = self._model.sort_column
        return None if index is None else self.columns[index].key

    @property
    def sort_reverse(self) -> bool:
        """Whether the sort is descending."""
        return self._model.sort_reverse

    def get_row(self, key: str) -> RowData | None:
        """Returns the row with this key, shown or not."""
        return self._model.rows.get(key)

    def set_rows(self, rows: Iterable[RowData]) -> None:
        """Replaces all rows in O(n), keeping filter, sort, marks and the cursor's row."""
        self._model.set_rows(rows)
        self._marks.keep_only(self._model.rows)
        self._after_change()
        self._warm_later()

    def update_rows(self, changed: Sequence[RowData]) -> None:
        """Adds or replaces rows by key, in place (a refresh's delta)."""
        version = self._model.version
        self._model.update_rows(changed)
        self._after_change()
        if self._model.version != version:
            self._warm_later()

    def remove_keys(self, keys: Iterable[str]) -> None:
        """Removes rows by key; the cursor moves to the next row if its row went."""
        keys = set(keys)
        self._model.remove_keys(keys)
        self._marks.discard(keys)
        self._after_change()
        self._warm_later()

    def order_by_key(self, by_key: bool = True) -> None:
        """Shows unsorted rows in the order of their keys, not the order they came in (see
        `TableModel.order_by_key`)."""
        self._model.order_by_key(by_key)
        self._after_change()

    def set_filter(self, pattern: str, cells: Sequence[CellTest] = ()) -> None:
        """Shows only matching rows: a case-insensitive regex (a literal if invalid);
        a leading `!` shows the rows that do not match; "" shows all. A row must also pass
        the tests of its cells in `cells` (the `/` filter's column terms)."""
        self._model.set_filter(pattern, cells)
        self._after_change()

    def sort_by(self, column: str | None, reverse: bool = False) -> None:
        """Sorts by a column key (numbers by value, text naturally), or `None` to unsort.

        Raises:
            KeyError: If no column has that key.
        """
        index = None if column is None else self._column_index(column)
        self._model.sort_by(index, reverse)
        self._after_change()
        self.view_changed()

    def toggle_mark(self, key: str) -> None:
        """Marks or unmarks a row; a range mark (`V`) starts from it."""
        if key == self._cursor_key:
            self._marks.toggle(key, self._model.view, self.cursor_index)
        else:
            self._marks.toggle(key)
        self._marks_changed()

    def clear_marks(self) -> None:
        """Unmarks every row."""
        self._marks.clear()
        self._marks_changed()

    def move_cursor(self, key: str) -> bool:
        """Moves the cursor to a shown row; returns whether the row is shown."""
        try:
            self.cursor_index = self._model.view.index(key)
        except ValueError:
            return False
        self._placed = True
        return True

    # -- actions ----------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self._placed = True
        self.cursor_index -= 1

    def action_cursor_down(self) -> None:
        self._placed = True
        self.cursor_index += 1

    def action_page_up(self) -> None:
        self._placed = True
        self.cursor_index -= self._page_height

    def action_page_down(self) -> None:
        self._placed = True
        self.cursor_index += self._page_height

    def action_first(self) -> None:
        self._placed = True
        self.cursor_index = 0

    def action_last(self) -> None:
        self._placed = True
        self.cursor_index = self.row_count - 1

    def action_select(self) -> None:
        if self._cursor_key is not None:
            self.post_message(self.RowSelected(self, self._cursor_key))

    def action_toggle_mark(self) -> None:
        """Marks or unmarks the cursor's row and moves down (k9s, ranger)."""
        if self._cursor_key is not None:
            self.toggle_mark(self._cursor_key)
            self.action_cursor_down()

    def action_mark_range(self) -> None:
        """Marks the shown rows from the last row marked to the cursor's, both included."""
        if self._cursor_key is not None:
            self._marks.mark_range(self._model.view, self.cursor_index)
            self._marks_changed()

    def action_mark_all(self) -> None:
        """Marks every shown row (a filter limits them)."""
        self._marks.mark_all(self._model.view)
        self._marks_changed()

    action_clear_marks = clear_marks

    def action_pick_sort(self) -> None:
        """Opens the picker of the column to sort by (one key per column)."""
        columns = [(column.key, column.label) for column in self.columns if column.sortable]
        picker = SortPicker(columns, current=self.sort_column, reverse=self.sort_reverse)
        self.app.push_screen(picker, self._picked)

    def _picked(self, order: SortOrder | None) -> None:
        if order is not None:
            self.sort_by(order.column, order.reverse)

    def action_cycle_sort(self) -> None:
        """Sorts by the next sortable column; after the last one, back to the original order."""
        sortable = [index for index, column in enumerate(self.columns) if column.sortable]
        current = self._model.sort_column
        following = [index for index in sortable if current is None or index > current]
        next_index = following[0] if following else None
        self.sort_by(None if next_index is None else self.columns[next_index].key)

    def action_reverse_sort(self) -> None:
        if self._model.sort_column is not None:
            self.sort_by(self.sort_column, not self._model.sort_reverse)

    # -- cursor and scrolling ---------------------------------------------------------

    @property
    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def validate_cursor_index(self, index: int) -> int:
        return max(0, min(index, self.row_count - 1))

    def watch_cursor_index(self, old_index: int, index: int) -> None:
        self._cursor_key = self._model.view[index] if self._model.view else None
        if not self.is_mounted:
            return  # rows set before mounting: on_resize catches up
        self._scroll_to_cursor()
        # Lines are cached by row, width, cursor and mark: a cursor move re-renders only
        # the two rows whose cursor flag changed, and a scroll only the rows scrolled in.
        self.refresh()
        if self._cursor_key != self._posted_key:
            self._posted_key = self._cursor_key
            self.post_message(self.CursorMoved(self, self._cursor_key))

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_y)
        index = self.cursor_index
        if index < top:
            self.scroll_to(y=index, animate=False, force=True)
        elif index >= top + self._page_height:
            self.scroll_to(y=index - self._page_height + 1, animate=False, force=True)

    def _after_change(self) -> None:
        """Keeps the cursor on its row's key after rows moved, and re-renders."""
        self._lines.forget()
        self.virtual_size = Size(self.scrollable_content_region.width, self.row_count + 1)
        key = self._cursor_key
        index = self.cursor_index
        if not self._model.rows:
            self._placed = False  # emptied (another state filter): the next rows open at the top
        if self._placed and key is not None and key in self._model.rows:
            try:
                index = self._model.view.index(key)
            except ValueError:
                pass
        self.cursor_index = index

    def _warm_later(self) -> None:
        if self.total_count >= WARM_ROWS and self.is_mounted:
            self._warm()

    @work(exclusive=True, group="virtual-table-warm", exit_on_error=False)
    async def _warm(self) -> None:
        """Prepares the sort orders a step at a time, so that `s` answers at once.

        Exclusive: a change to the rows cancels the preparation under way and starts over.
        """
        await asyncio.sleep(WARM_AFTER)
        sortable = [index for index, column in enumerate(self.columns) if column.sortable]
        for _ in self._model.warm(sortable):
            await asyncio.sleep(0)
        heap.settle()  # the rows live on: keep the collector's full passes off them
        self._settled = True

    def view_changed(self) -> None:
        """Called when the marks or the sort order changed; a subclass whose screen shows
        them (a status line) tells it here."""

    def _marks_changed(self) -> None:
        self.refresh()
        self.view_changed()

    def _refresh_all(self) -> None:
        self._styles = None
        self._lines.forget_lines()
        self.refresh()

    def _column_index(self, key: str) -> int:
        for index, column in enumerate(self.columns):
            if column.key == key:
                return index
        raise KeyError(key)

    # -- events -----------------------------------------------------------------------

    def on_unmount(self) -> None:
        if self._settled:
            # Later, once nothing refers to this table: its rows are frozen with it.
            self.app.call_later(heap.release)

    def on_resize(self, event: events.Resize) -> None:
        self._after_change()

    def on_focus(self) -> None:
        self._refresh_all()

    def on_blur(self) -> None:
        self._refresh_all()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._lines.forget_styles()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:
            self._placed = True
            self.cursor_index = round(self.scroll_y) + offset.y - 1

    # -- rendering --------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._lines.header(width, self._line_styles())
        index = round(self.scroll_y) + y - 1
        if index >= self.row_count:
            return Strip.blank(width, self.rich_style)
        key = self._model.view[index]
        cursor, marked = index == self.cursor_index, key in self._marks.keys
        return self._lines.row(key, width, cursor, marked, self._line_styles)

    def _line_styles(self) -> LineStyles:
        if self._styles is None:
            self._styles = LineStyles.of(self, "virtual-table")
        return self._styles
