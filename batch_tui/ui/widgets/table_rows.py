"""Provides the rows and columns of a VirtualTable (`Cell`, `Column`, `RowData`, `plain`) and
how the columns share the table's width (`fit_widths`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Union

from rich.text import Text

from batch_tui.ui.widgets.table_sort import SortValue

if TYPE_CHECKING:
    from textual.content import Content

Cell = Union[str, Text, "Content"]
"""A table cell: plain text, or rich `Text` / Textual `Content` to style parts of it."""


Align = Literal["left", "right", "center"]

Cut = Literal["end", "middle", "never"]
"""How a column's text too long for it is cut: at the end ("pool-a-very-lo…"), in the
middle for ids that share long prefixes ("tvm…8e9f4a_d"), or never (an IP address: the
column keeps its text's width)."""


@dataclass(frozen=True)
class Column:
    """One column of a VirtualTable.

    Args:
        key: Stable id of the column (for `sort_by`).
        label: Header text.
        width: Fixed width in cells; `None` sizes the column to its content within
            `min_width`..`max_width`.
        min_width: Narrowest the column shrinks to when the table is narrow.
        max_width: Widest a content-sized column grows.
        align: Alignment of cells and header.
        sortable: Whether `s` may sort by this column.
        cut: Where text too long for the column is cut (see `Cut`).
    """

    key: str
    label: str
    width: int | None = None
    min_width: int = 3
    max_width: int = 60
    align: Align = "left"
    sortable: bool = True
    cut: Cut = "end"


@dataclass(frozen=True, slots=True)  # slots: 100,000 rows weigh 10 MB less
class RowData:
    """One row of a VirtualTable.

    Args:
        key: Stable id of the row (the cursor, marks and updates follow it).
        cells: One cell per column.
        style: Style of the whole row, e.g. "$error" or "ansi_red" for a failed task.
        sort_values: Optional per-column values to sort by instead of the cell text
            (e.g. bytes for a "1.2 GiB" cell); `None` entries fall back to the text.
        span: A text drawn across the whole line in place of the cells (a placeholder
            for an item that did not decode); the cells still sort and filter the row.
    """

    key: str
    cells: tuple[Cell, ...]
    style: str | None = None
    sort_values: tuple[SortValue, ...] | None = None
    span: Cell | None = None


def plain(cell: Cell) -> str:
    """Returns the text of a cell without styles."""
    return cell if isinstance(cell, str) else cell.plain


def _wanted_width(column: Column, natural: int) -> int:
    if column.width is not None:
        return column.width
    if column.cut == "never":
        return max(column.min_width, natural, len(column.label))
    return max(column.min_width, min(column.max_width, max(natural, len(column.label))))


def fit_widths(columns: Sequence[Column], natural: Sequence[int], available: int) -> list[int]:
    """Sizes columns to the table's width.

    Content-sized columns shrink (widest first, never below `min_width`, and never at all
    when `cut="never"`) until the table fits. Space left over first goes to the columns
    whose text was cut (by `max_width`), up to their text's width, narrowest first; what
    is still left goes to the last column if it is left-aligned, else stays blank at the
    end of the line (a right-aligned last column stretched would open a gap before it).

    Args:
        columns: The columns.
        natural: Widest cell text per column.
        available: Cells for all columns (separators already taken out).

    Returns:
        Width per column; their sum exceeds `available` only if the minimums do.
    """
    widths = [_wanted_width(column, size) for column, size in zip(columns, natural, strict=False)]
    excess = sum(widths) - available
    if excess > 0:
        _shrink(columns, widths, excess)
    elif excess < 0:
        spare = _grow_cut(columns, natural, widths, -excess)
        if spare and widths and columns[-1].align == "left" and columns[-1].width is None:
            widths[-1] += spare
    return widths


def _shrink(columns: Sequence[Column], widths: list[int], excess: int) -> None:
    """Takes `excess` cells off the widest shrinkable columns, one at a time."""
    while excess > 0:
        shrinkable = [
            index
            for index, column in enumerate(columns)
            if column.width is None and column.cut != "never" and widths[index] > column.min_width
        ]
        if not shrinkable:
            break
        widths[max(shrinkable, key=widths.__getitem__)] -= 1
        excess -= 1


def _grow_cut(
    columns: Sequence[Column], natural: Sequence[int], widths: list[int], spare: int
) -> int:
    """Gives `spare` cells to the columns narrower than their text; returns what is left."""
    while spare > 0:
        cut = [
            index
            for index, column in enumerate(columns)
            if column.width is None and widths[index] < natural[index]
        ]
        if not cut:
            break
        widths[min(cut, key=widths.__getitem__)] += 1
        spare -= 1
    return spare
