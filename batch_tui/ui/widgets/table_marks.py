"""Provides TableMarks: the marked rows of a VirtualTable, as k9s marks them (no widget code)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class TableMarks:
    """Marked row keys, the last row marked one by one (where a range starts), and the
    marked rows in view order, remembered until the marks or the view change.

    The list's status line asks for the marked rows at every cursor move: on 100,000 rows
    that is a pass over the view each time unless remembered.
    """

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.anchor: str | None = None
        """The row last marked or unmarked one by one: a range mark starts there."""
        self._version = 0
        self._shown: tuple[Sequence[str], int, int, tuple[str, ...]] | None = None
        """The view (by identity), its length and `_version` the marked rows were found
        for, and those rows."""

    def __len__(self) -> int:
        return len(self.keys)

    def toggle(self, key: str) -> None:
        """Marks or unmarks a row; a range mark starts from it next."""
        self.keys.symmetric_difference_update({key})
        self.anchor = key
        self._changed()

    def mark_range(self, view: Sequence[str], cursor: int) -> None:
        """Marks the rows from the anchor to `cursor` (an index in `view`), both included;
        only the cursor's row when the anchor is not shown."""
        start = cursor
        if self.anchor is not None:
            try:
                start = view.index(self.anchor)
            except ValueError:
                pass
        low, high = sorted((start, cursor))
        self.keys.update(view[low : high + 1])
        self.anchor = view[cursor]
        self._changed()

    def mark_all(self, view: Iterable[str]) -> None:
        """Marks every row of `view` (the rows shown: a filter limits it)."""
        self.keys.update(view)
        self._changed()

    def clear(self) -> None:
        """Unmarks every row."""
        self.keys.clear()
        self.anchor = None
        self._changed()

    def keep_only(self, keys: Iterable[str]) -> None:
        """Forgets the marks of rows that are gone."""
        if self.keys:
            self.keys.intersection_update(keys)
            self._changed()

    def discard(self, keys: set[str]) -> None:
        """Forgets the marks of removed rows."""
        if self.keys & keys:
            self.keys -= keys
            self._changed()

    def shown(self, view: Sequence[str]) -> tuple[str, ...]:
        """The marked rows of `view`, in its order (marks hidden by a filter are kept)."""
        if not self.keys:
            return ()
        cached = self._shown
        if cached is not None and cached[0] is view and cached[1:3] == (len(view), self._version):
            return cached[3]
        keys = self.keys
        marked = tuple(key for key in view if key in keys)
        self._shown = (view, len(view), self._version, marked)
        return marked

    def _changed(self) -> None:
        self._version += 1
        self._shown = None
