"""Provides the rows, filter and sort order behind VirtualTable, without any widget code."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, Union

from rich.text import Text

if TYPE_CHECKING:
    from textual.content import Content

Cell = Union[str, Text, "Content"]
"""A table cell: plain text, or rich `Text` / Textual `Content` to style parts of it."""

SortValue = float | str | None
"""A value to sort a cell by, when its text does not sort right (sizes, ages)."""

SortKey = tuple[object, ...]
"""A flat tuple that starts with a tier: 0 numbers, 1 text, 2 blank (see `natural_key`)."""

Align = Literal["left", "right", "center"]


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
    """

    key: str
    label: str
    width: int | None = None
    min_width: int = 3
    max_width: int = 60
    align: Align = "left"
    sortable: bool = True


@dataclass(frozen=True)
class RowData:
    """One row of a VirtualTable.

    Args:
        key: Stable id of the row (the cursor, marks and updates follow it).
        cells: One cell per column.
        style: Style of the whole row, e.g. "$error" or "ansi_red" for a failed task.
        sort_values: Optional per-column values to sort by instead of the cell text
            (e.g. bytes for a "1.2 GiB" cell); `None` entries fall back to the text.
    """

    key: str
    cells: tuple[Cell, ...]
    style: str | None = None
    sort_values: tuple[SortValue, ...] | None = None


def plain(cell: Cell) -> str:
    """Returns the text of a cell without styles."""
    return cell if isinstance(cell, str) else cell.plain


_DIGITS = re.compile(r"(\d+)")
_NUMBER_START = frozenset("0123456789+-.")
_PREFIX_NUMBER = re.compile(r"(\D*)(\d+)\Z")


def natural_key(text: str) -> SortKey:
    """Returns a sort key: numbers by value first, then text in natural order, then blanks.

    Text compares case-insensitively with runs of digits as integers, so "node-9" sorts
    before "node-10". Keys are flat tuples whose first item is the tier (0, 1, 2).
    """
    stripped = text.strip()
    if not stripped:
        return (2,)
    if stripped[0] in _NUMBER_START:
        try:
            return (0, float(stripped.replace(",", "")))
        except ValueError:
            pass
    simple = _PREFIX_NUMBER.match(stripped)
    if simple is not None:  # "task-123", the common case, at half the cost of a split
        return (1, simple.group(1).lower(), int(simple.group(2)))
    parts: list[object] = _DIGITS.split(stripped.lower())
    parts[1::2] = map(int, parts[1::2])  # type: ignore[arg-type]
    return (1, *parts)


def _value_key(value: SortValue, text: str) -> SortKey:
    if value is None:
        return natural_key(text)
    if isinstance(value, str):
        return natural_key(value)
    return (0, float(value))


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compiles a case-insensitive regex, or a literal match if `pattern` is not a valid regex.

    Users type filters and searches one key at a time, so "node-[1" must not raise.
    """
    try:
        return re.compile(pattern, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError):
        return re.compile(re.escape(pattern), re.IGNORECASE)


def compile_filter(pattern: str) -> tuple[Callable[[str], object], bool]:
    """Compiles a filter (see `compile_pattern`).

    Args:
        pattern: The filter; a leading `!` keeps the rows that do NOT match.

    Returns:
        A search function and whether the match is inverted.
    """
    invert = pattern.startswith("!")
    return compile_pattern(pattern[1:] if invert else pattern).search, invert


MEMO_LIMIT: Final = 1_000_000
"""Most distinct cell texts whose sort keys are remembered (a few tens of MB at most)."""


class TableModel:
    """Rows by key, plus the filtered and sorted order of keys that the table shows.

    Cell texts are extracted once per row. The joined text the filter searches is cached
    per row, and sort keys per distinct text, so a refresh that changes 1% of 100,000
    rows recomputes 1% of them, and a column of 50 distinct states costs 50 keys.
    """

    def __init__(self, column_count: int) -> None:
        self.column_count = column_count
        self.rows: dict[str, RowData] = {}
        self.view: list[str] = []
        """Keys of the shown rows, in display order."""
        self.filter_pattern = ""
        self.sort_column: int | None = None
        self.sort_reverse = False
        self.natural_widths = [0] * column_count
        """Widest cell text per column (in characters), for sizing columns."""
        self._plain: dict[str, tuple[str, ...]] = {}
        self._text: dict[str, str] = {}
        self._valued: set[str] = set()
        """Keys of rows that carry `sort_values`."""
        self._memo: dict[str, SortKey] = {}
        self._search: Callable[[str], object] | None = None
        self._invert = False

    def set_rows(self, rows: Iterable[RowData]) -> None:
        """Replaces every row, keeping the filter and the sort."""
        self.rows = {row.key: row for row in rows}
        count = self.column_count
        self._plain = {key: _plain_cells(row, count) for key, row in self.rows.items()}
        self._text = {}
        self._valued = {key for key, row in self.rows.items() if row.sort_values is not None}
        if len(self._memo) > MEMO_LIMIT:
            self._memo = {}
        self.natural_widths = [0] * count
        self._widen(self._plain.values())
        self._rebuild()

    def update_rows(self, changed: Sequence[RowData]) -> None:
        """Adds or replaces rows by key, moving rows only when the order requires it."""
        new_keys = [row.key for row in changed if row.key not in self.rows]
        moved = bool(new_keys and (self._search is not None or self.sort_column is not None))
        for row in changed:
            moved |= self._replace(row)
        self._widen(self._plain[row.key] for row in changed)
        if moved:
            self._rebuild()
        else:
            self.view.extend(dict.fromkeys(new_keys))

    def remove_keys(self, keys: Iterable[str]) -> None:
        """Removes rows by key; unknown keys are ignored."""
        removed = {key for key in keys if self.rows.pop(key, None) is not None}
        for key in removed:
            self._plain.pop(key, None)
            self._text.pop(key, None)
        self._valued -= removed
        if removed:
            self.view = [key for key in self.view if key not in removed]

    def set_filter(self, pattern: str) -> None:
        """Shows only rows whose text matches `pattern` (see `compile_filter`); "" shows all."""
        self.filter_pattern = pattern
        if pattern in ("", "!"):
            self._search = None
        else:
            self._search, self._invert = compile_filter(pattern)
        self._rebuild()

    def sort_by(self, column: int | None, reverse: bool = False) -> None:
        """Sorts by a column index, or restores the original order with `None`."""
        self.sort_column = column
        self.sort_reverse = reverse
        self._rebuild()

    def _widen(self, plains: Iterable[tuple[str, ...]]) -> None:
        widths = self.natural_widths
        for index, texts in enumerate(zip(*plains, strict=False)):
            widths[index] = max(widths[index], max(map(len, texts)))

    def _replace(self, row: RowData) -> bool:
        """Stores a row; returns whether its filter match or sort position may change."""
        old_row = self.rows.get(row.key)
        old_plain = self._plain.get(row.key)
        self.rows[row.key] = row
        self._plain[row.key] = new_plain = _plain_cells(row, self.column_count)
        self._text.pop(row.key, None)
        if row.sort_values is None:
            self._valued.discard(row.key)
        else:
            self._valued.add(row.key)
        if old_row is None or old_plain is None:
            return False
        moved = self._matches("\t".join(old_plain)) != self._matches("\t".join(new_plain))
        column = self.sort_column
        if column is not None:
            moved |= old_plain[column] != new_plain[column]
            moved |= old_row.sort_values != row.sort_values
        return moved

    def _matches(self, text: str) -> bool:
        if self._search is None:
            return True
        return (self._search(text) is None) == self._invert

    def _texts(self, keys: list[str]) -> list[str]:
        """The joined cell texts of rows, computed once per row and cached."""
        cache, plain = self._text, self._plain
        missing = [key for key in keys if key not in cache]
        cache.update(zip(missing, map("\t".join, map(plain.__getitem__, missing)), strict=True))
        return list(map(cache.__getitem__, keys))

    def _sort_keys(self, keys: list[str], column: int) -> list[SortKey]:
        """Sort keys of rows for a column: memoized per text, `sort_values` first."""
        plain, memo = self._plain, self._memo
        texts = [plain[key][column] for key in keys]
        new = list(set(texts).difference(memo))
        memo.update(zip(new, map(natural_key, new), strict=True))
        sort_keys = list(map(memo.__getitem__, texts))
        if self._valued:
            for index, key in enumerate(keys):
                values = self.rows[key].sort_values
                if key in self._valued and values is not None and column < len(values):
                    if values[column] is not None:
                        sort_keys[index] = _value_key(values[column], texts[index])
        return sort_keys

    def _rebuild(self) -> None:
        """Recomputes the shown order: O(n) filter, then O(n log n) sort on cached keys."""
        keys: list[str] = list(self.rows)
        if self._search is not None:
            invert = self._invert
            found = map(self._search, self._texts(keys))
            keys = [key for key, hit in zip(keys, found, strict=True) if (hit is None) == invert]
        if self.sort_column is not None:
            sort_keys = self._sort_keys(keys, self.sort_column)
            order = sorted(range(len(keys)), key=sort_keys.__getitem__, reverse=self.sort_reverse)
            keys = list(map(keys.__getitem__, order))
        self.view = keys


def _plain_cells(row: RowData, count: int) -> tuple[str, ...]:
    """The text of each cell, padded with "" to `count` cells."""
    # A list inside tuple() is faster than a generator; this runs once per row.
    texts = [cell if cell.__class__ is str else cell.plain for cell in row.cells]  # type: ignore[union-attr]
    if len(texts) < count:
        texts += [""] * (count - len(texts))
    return tuple(texts)


def _wanted_width(column: Column, natural: int) -> int:
    if column.width is not None:
        return column.width
    return max(column.min_width, min(column.max_width, max(natural, len(column.label))))


def fit_widths(columns: Sequence[Column], natural: Sequence[int], available: int) -> list[int]:
    """Sizes columns to fill `available` cells exactly when they can.

    Content-sized columns shrink (widest first, never below `min_width`) until the table
    fits; the last column takes whatever space is left over.

    Args:
        columns: The columns.
        natural: Widest cell text per column.
        available: Cells for all columns (separators already taken out).

    Returns:
        Width per column; their sum exceeds `available` only if the minimums do.
    """
    widths = [_wanted_width(column, size) for column, size in zip(columns, natural, strict=False)]
    excess = sum(widths) - available
    while excess > 0:
        shrinkable = [
            index
            for index, column in enumerate(columns)
            if column.width is None and widths[index] > column.min_width
        ]
        if not shrinkable:
            break
        widths[max(shrinkable, key=widths.__getitem__)] -= 1
        excess -= 1
    if excess < 0 and widths:
        widths[-1] -= excess
    return widths
