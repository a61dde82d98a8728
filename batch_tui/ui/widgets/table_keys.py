"""Provides TABLE_BINDINGS: the keys of every VirtualTable (moves, marks, sort), vim's and k9s's.

Each has a binding id, so `?` shows it and `[keymap]` can remap it.
"""

from __future__ import annotations

from typing import Final

from textual.binding import Binding, BindingType

TABLE_BINDINGS: Final[list[BindingType]] = [
    Binding("up,k", "cursor_up", "Up", show=False, id="table.up", tooltip="Previous row"),
    Binding("down,j", "cursor_down", "Down", show=False, id="table.down", tooltip="Next row"),
    Binding(
        "pageup", "page_up", "Page up", show=False, id="table.page-up", tooltip="Up a page"
    ),
    Binding(
        "pagedown", "page_down", "Page down", show=False, id="table.page-down",
        tooltip="Down a page",
    ),
    Binding("home,g", "first", "First", show=False, id="table.first", tooltip="First row"),
    Binding("end,G", "last", "Last", show=False, id="table.last", tooltip="Last row"),
    Binding("enter", "select", "Open", id="table.select", tooltip="Open the row"),
    Binding("space", "toggle_mark", "Mark", id="table.mark",
            tooltip="Mark or unmark the row, then go down"),
    Binding("V", "mark_range", "Mark range", show=False, id="table.mark-range",
            tooltip="From the last mark to here"),  # V as in vim's visual line mode
    # k9s's ctrl+space, which terminals send as ctrl+@ (shown as ^@ unless told).
    Binding("ctrl+@", "mark_range", "Mark range", show=False, key_display="^space",
            id="table.mark-range-k9s", tooltip="From the last mark to here"),
    Binding("A", "mark_all", "Mark all", show=False, id="table.mark-all",
            tooltip="Every row shown (as filtered)"),
    # ctrl+\ is k9s's key; U (unmark) is easier to type.
    Binding("U,ctrl+backslash", "clear_marks", "Unmark all", show=False,
            id="table.clear-marks", tooltip="Unmark every row"),
    Binding("s", "cycle_sort", "Sort", id="table.sort", tooltip="Sort by the next column"),
    Binding("greater_than_sign", "pick_sort", "Sort by", id="table.sort-by",
            tooltip="Pick the column to sort by"),
    Binding("S", "reverse_sort", "Reverse", show=False, id="table.reverse-sort",
            tooltip="Reverse the sort order"),
]  # fmt: skip
"""The keys of every VirtualTable."""
