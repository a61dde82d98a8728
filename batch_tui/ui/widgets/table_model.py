"""Provides the rows, filter and sort order behind VirtualTable, without any widget code."""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

from batch_tui.ui import heap
from batch_tui.ui.widgets.table_filter import CellTest, Haystack, RowFilter
from batch_tui.ui.widgets.table_rows import RowData
from batch_tui.ui.widgets.table_sort import SortValue, text_string, value_string

HAYSTACK_ROWS: Final = 5_000
"""From this many rows, a substring filter searches the rows' joined texts (`table_filter`)."""

MEMO_LIMIT: Final = 1_000_000
"""Most distinct cell texts whose sort strings are remembered (a few tens of MB at most)."""

CHUNK: Final = 5_000
"""Rows per step of `TableModel.warm`: a few milliseconds of work between two events."""

FEW_MATCHES: Final = 16
"""A filter that keeps at most 1 row in this many sorts its matches rather than filtering
the column's whole order."""

PATCH_RATIO: Final = 32
"""A sorted order is patched in place for at most 1 changed row in this many, else rebuilt."""


class TableModel:
    """Rows by key, plus the filtered and sorted order of keys that the table shows.

    Built for 100,000 rows and a key press under 50 ms. Cell texts are extracted once per
    row; the lowercased row text the filter searches is cached per row, and the sort string
    (see `table_sort`) per distinct text. The ascending order of every row by a column is
    kept once computed, so `s` and `S` on a big list reuse it: `warm` computes the orders
    of all sortable columns in small steps while the user is idle. A refresh that changes
    a few rows patches the order of the sorted column in place and drops the others.
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
        self.version = 0
        """Counts changes to the rows: a `warm` that began before a change stops."""
        self._plain: dict[str, tuple[str, ...]] = {}
        self._lower: dict[str, str] = {}
        """Lowercased tab-joined cell texts per row, for the filter; in the order of `rows`
        (so the filter reads both in step, in memory order)."""
        self._memo: dict[str, str] = {}
        """Sort string per distinct cell text."""
        self._orders: dict[int, list[str]] = {}
        """Every row key in ascending order of a column, per column computed so far."""
        self._valued: set[str] = set()
        """Keys of rows that carry `sort_values`."""
        self._keep: RowFilter | None = None
        self._haystack: tuple[tuple[int, bool], Haystack] | None = None
        """The rows' texts joined for the filter, and the `version` they are of."""
        self._by_key = False
        """The unsorted order is by key (`order_by_key`) rather than the order rows came in."""
        self._key_order: list[str] | None = None
        """Every key in order, while `_by_key` and until keys come or go."""
        self._key_texts: tuple[int, list[str]] | None = None
        """The rows' texts in key order, and the `version` they are of."""

    def set_rows(self, rows: Iterable[RowData]) -> None:
        """Replaces every row, keeping the filter and the sort. The old rows are freed a
        chunk at a time (`heap.drop_later`): 100,000 at once would hold up the key press."""
        heap.drop_later(self.rows, self._plain, self._lower)
        self.rows = {row.key: row for row in rows}
        count = self.column_count
        self._plain = {key: _plain_cells(row, count) for key, row in self.rows.items()}
        self._lower = {key: _lower_text(texts) for key, texts in self._plain.items()}
        self._orders = {}
        self._valued = {key for key, row in self.rows.items() if row.sort_values is not None}
        self.natural_widths = [0] * count
        self._widen(self._plain.values())
        self.version += 1
        self._key_order = None
        self._rebuild()

    def update_rows(self, changed: Sequence[RowData]) -> None:
        """Adds or replaces rows by key, moving rows only when the order requires it."""
        new_keys = list(dict.fromkeys(row.key for row in changed if row.key not in self.rows))
        refilter = bool(new_keys and self._keep is not None)
        touched: dict[int, list[str]] = {}
        for row in changed:
            refilter |= self._replace(row, touched)
        self._widen(self._plain[row.key] for row in changed)
        if not touched and not new_keys:
            return  # a refresh that found nothing new
        self.version += 1
        if new_keys:
            self._key_order = None
        column = self.sort_column
        resort = column is not None and (bool(new_keys) or column in touched)
        for index in list(self._orders):
            if index == column and resort:
                self._patch_order(index, touched.get(index, []) + new_keys)
            elif new_keys or index in touched:
                del self._orders[index]
        if resort or refilter or (self._by_key and new_keys):
            self._rebuild()
        else:
            self.view.extend(new_keys)

    def remove_keys(self, keys: Iterable[str]) -> None:
        """Removes rows by key; unknown keys are ignored."""
        removed = {key for key in keys if self.rows.pop(key, None) is not None}
        if not removed:
            return
        for key in removed:
            self._plain.pop(key, None)
            del self._lower[key]
        self._valued -= removed
        self._orders = {
            index: [key for key in order if key not in removed]
            for index, order in self._orders.items()
            if index == self.sort_column
        }
        self.version += 1
        if self._key_order is not None:
            self._key_order = [key for key in self._key_order if key not in removed]
        self.view = [key for key in self.view if key not in removed]

    def order_by_key(self, by_key: bool = True) -> None:
        """Shows unsorted rows in the order of their keys (the order in which the service
        lists ids) rather than the order they came in; for rows listed in parts at once."""
        self._by_key = by_key
        self._rebuild()

    def set_filter(self, pattern: str, cells: Sequence[CellTest] = ()) -> None:
        """Shows only rows whose text matches `pattern` and whose cells pass `cells` (see
        `table_filter.RowFilter`); "" and no cell tests show all."""
        self.filter_pattern = pattern
        unfiltered = pattern in ("", "!") and not cells
        self._keep = None if unfiltered else RowFilter(pattern, cells)
        self._rebuild()

    def sort_by(self, column: int | None, reverse: bool = False) -> None:
        """Sorts by a column index, or restores the original order with `None`.

        Descending is the ascending order reversed, rows of equal value included.
        """
        self.sort_column = column
        self.sort_reverse = reverse
        self._rebuild()

    def warm(self, columns: Iterable[int]) -> Iterator[None]:
        """Prepares the orders of `columns` and the filter's texts, one small step per item.

        The caller runs one step per idle moment of the event loop; the steps end early
        when the rows change (a later `warm` starts over).
        """
        version = self.version
        keys = list(self.rows)
        for column in columns:
            if column not in self._orders:
                for _ in self._order_steps(column, keys):
                    yield
                    if self.version != version:
                        return
        # What the first `/` filter would build on the key press: the texts in the unsorted
        # order, and their joined form for a substring filter.
        unsorted_keys = self._unsorted_keys()
        texts = self._unsorted_texts(unsorted_keys)
        yield
        if self.version == version and len(unsorted_keys) >= HAYSTACK_ROWS:
            self._haystack_of(unsorted_keys, texts)

    def _widen(self, plains: Iterable[tuple[str, ...]]) -> None:
        widths = self.natural_widths
        for index, texts in enumerate(zip(*plains, strict=False)):
            widths[index] = max(widths[index], max(map(len, texts)))

    def _replace(self, row: RowData, touched: dict[int, list[str]]) -> bool:
        """Stores a row and notes the columns it changed in; returns whether its filter
        match may have changed."""
        key = row.key
        old_row = self.rows.get(key)
        old_plain = self._plain.get(key)
        new_plain = _plain_cells(row, self.column_count)
        self.rows[key] = row  # the same text may come with new styles
        if old_row is not None and old_plain == new_plain:
            if old_row.sort_values == row.sort_values:
                return False  # same texts and values: keep the cached texts and orders
        self._plain[key] = new_plain
        old_text = self._lower.get(key, "")
        self._lower[key] = new_text = _lower_text(new_plain)
        if row.sort_values is None:
            self._valued.discard(key)
        else:
            self._valued.add(key)
        if old_row is None or old_plain is None:
            return False
        old_values, new_values = old_row.sort_values or (), row.sort_values or ()
        for index, (before, after) in enumerate(zip(old_plain, new_plain, strict=True)):
            if before != after or _at(old_values, index) != _at(new_values, index):
                touched.setdefault(index, []).append(key)
        if self._keep is None or old_text == new_text:
            return False
        return self._keep.keeps(old_text) != self._keep.keeps(new_text)

    def _strings(self, keys: list[str], column: int) -> list[str]:
        """Sort strings of rows for a column: memoized per text, `sort_values` first."""
        plain, memo = self._plain, self._memo
        texts = [plain[key][column] for key in keys]
        new = set(texts).difference(memo)
        if len(memo) + len(new) > MEMO_LIMIT:
            memo.clear()  # texts that come and go (ages) must not grow it without end
            new = set(texts)
        if new:
            memo.update(zip(new, map(text_string, new), strict=True))
        strings = list(map(memo.__getitem__, texts))
        if self._valued:
            valued, rows = self._valued, self.rows
            for index, key in enumerate(keys):
                if key in valued:
                    value = _at(rows[key].sort_values or (), column)
                    if value is not None:
                        strings[index] = value_string(value, texts[index])
        return strings

    def _sort_string(self, key: str, column: int) -> str:
        return self._strings([key], column)[0]

    def _order_steps(self, column: int, keys: list[str]) -> Iterator[None]:
        """Computes the ascending order of `keys` by a column, in steps of `CHUNK` rows.

        Each chunk is sorted on its own; the last step merges the sorted runs (Timsort
        finds them), which keeps every step short and ties in the original order.
        """
        strings: list[str] = []
        runs: list[int] = []
        for start in range(0, len(keys), CHUNK):
            stop = min(start + CHUNK, len(keys))
            strings += self._strings(keys[start:stop], column)
            runs += sorted(range(start, stop), key=strings.__getitem__)
            yield
        merged = sorted(runs, key=strings.__getitem__)
        self._orders[column] = list(map(keys.__getitem__, merged))

    def _order(self, column: int) -> list[str]:
        order = self._orders.get(column)
        if order is None:
            for _ in self._order_steps(column, list(self.rows)):
                pass
            order = self._orders[column]
        return order

    def _patch_order(self, column: int, keys: list[str]) -> None:
        """Moves changed or new rows to their place in a column's order, or drops the order
        when so many changed that sorting again is cheaper."""
        order = self._orders[column]
        if len(keys) * PATCH_RATIO > len(order):
            del self._orders[column]
            return
        moving = dict.fromkeys(keys)
        order = [key for key in order if key not in moving]
        for key in moving:
            insort(order, key, key=lambda other: self._sort_string(other, column))
        self._orders[column] = order

    def _joined(self, keys: list[str], texts: list[str]) -> Haystack | None:
        """The rows' texts joined for a substring filter, built once per version of the rows
        (a few ms for 100,000; `warm` builds it ahead), or None for a few rows or another
        kind of filter."""
        if self._keep is None or self._keep.needle is None or len(keys) < HAYSTACK_ROWS:
            return None
        return self._haystack_of(keys, texts)

    def _haystack_of(self, keys: list[str], texts: list[str]) -> Haystack:
        stamp = (self.version, self._by_key)
        if self._haystack is None or self._haystack[0] != stamp:
            self._haystack = (stamp, Haystack(keys, texts))
        return self._haystack[1]

    def _unsorted_keys(self) -> list[str]:
        """Every key in the unsorted order: the order the rows came in, or key order
        (`order_by_key`; sorted once until keys come or go, ~10 ms for 100,000 keys that came
        in sorted runs). Not to be changed by the caller."""
        if not self._by_key:
            return list(self.rows)
        if self._key_order is None:
            self._key_order = sorted(self.rows)
        return self._key_order

    def _unsorted_texts(self, keys: list[str]) -> list[str]:
        """The lowercased texts of `_unsorted_keys()`, for the filter. In the order the rows
        came in they are the rows' own (memory order, which a filter reads 3x faster than
        another on 100,000 rows); in key order they are gathered once per version."""
        if not self._by_key:
            return list(self._lower.values())
        if self._key_texts is None or self._key_texts[0] != self.version:
            lower = self._lower
            self._key_texts = (self.version, [lower[key] for key in keys])
        return self._key_texts[1]

    def _rebuild(self) -> None:
        """Recomputes the shown order from the kept column order and the filter."""
        column = self.sort_column
        keys = self._unsorted_keys()
        matched: list[str] | None = None
        if self._keep is not None:
            texts = self._unsorted_texts(keys)
            matched = self._keep.select(keys, texts, self._joined(keys, texts))
        if column is None:
            self.view = list(keys) if matched is None else matched
            return
        if matched is not None and len(matched) * FEW_MATCHES <= len(self.rows):
            strings = self._strings(matched, column)  # few: sort them, keep ties in place
            keys = [matched[i] for i in sorted(range(len(matched)), key=strings.__getitem__)]
        else:
            order = self._order(column)
            keys = order if matched is None else _keep_in(order, set(matched))
        self.view = keys[::-1] if self.sort_reverse else list(keys)


def _keep_in(order: list[str], wanted: set[str]) -> list[str]:
    return [key for key in order if key in wanted]


def _lower_text(texts: tuple[str, ...]) -> str:
    return "\t".join(texts).lower()


def _at(values: tuple[SortValue, ...], index: int) -> SortValue:
    return values[index] if index < len(values) else None


def _plain_cells(row: RowData, count: int) -> tuple[str, ...]:
    """The text of each cell, padded with "" to `count` cells."""
    # A list inside tuple() is faster than a generator; this runs once per row.
    texts = [cell if cell.__class__ is str else cell.plain for cell in row.cells]  # type: ignore[union-attr]
    if len(texts) < count:
        texts += [""] * (count - len(texts))
    return tuple(texts)
