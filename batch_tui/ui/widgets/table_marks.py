"""Provides TableMarks: the marked rows of a VirtualTable, as k9s marks them (no widget code)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence


class TableMarks:
    """Marked row keys, the last row marked one by one (where a range starts), and the
    marked rows in view order, remembered until the marks or the view change.

    The list's status line asks for the marked rows at every cursor move: on 100,000 rows
    that is a pass over the view each time unless remembered (20 ms when all are marked).
    A toggle at a known place in the view updates what is remembered instead of a new pass.
    """

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.anchor: str | None = None
        """The row last marked or unmarked one by one: a range mark starts there."""
        self._version = 0
        self._shown: _Shown | None = None
        """The marked rows of a view and where they are in it, while both hold."""

    def __len__(self) -> int:
        return len(self.keys)

    def toggle(self, key: str, view: Sequence[str] | None = None, index: int = -1) -> None:
        """Marks or unmarks a row; a range mark starts from it next.

        Args:
            key: The row.
            view: The shown rows, when `key` is shown at `index`: the marked rows found
                for this view are updated in place of a new pass.
            index: Where `key` is in `view`.
        """
        shown = self._valid(view) if view is not None else None
        marking = key not in self.keys
        self.keys.symmetric_difference_update({key})
        self.anchor = key
        self._changed()
        if shown is not None and view is not None and shown.holds(key, index):
            shown.toggle(key, index, marking)
            shown.version = self._version
            self._shown = shown

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
        shown = self._valid(view)
        if shown is None:
            keys = self.keys
            positions = [index for index, key in enumerate(view) if key in keys]
            marked = tuple(map(view.__getitem__, positions))
            shown = self._shown = _Shown(view, len(view), self._version, marked, positions)
        return shown.marked

    def _valid(self, view: Sequence[str]) -> _Shown | None:
        shown = self._shown
        if shown is None or shown.view is not view or shown.length != len(view):
            return None
        return shown if shown.version == self._version else None

    def _changed(self) -> None:
        self._version += 1
        self._shown = None


class _Shown:
    """The marked rows of a view (kept by identity: the table replaces its view list when
    rows move, and only appends to it in place) and their indices in it, ascending."""

    def __init__(
        self,
        view: Sequence[str],
        length: int,
        version: int,
        marked: tuple[str, ...],
        positions: list[int],
    ) -> None:
        self.view = view
        self.length = length
        self.version = version
        self.marked = marked
        self.positions = positions

    def holds(self, key: str, index: int) -> bool:
        """Whether `key` is at `index` of this view, as it was when the rows were found."""
        return 0 <= index < self.length == len(self.view) and self.view[index] == key

    def toggle(self, key: str, index: int, marking: bool) -> None:
        """Adds or drops the row at `index` (slices: C speed, under 1 ms for 100,000)."""
        at = bisect_left(self.positions, index)
        if marking:
            self.positions.insert(at, index)
            self.marked = self.marked[:at] + (key,) + self.marked[at:]
        else:
            del self.positions[at]
            self.marked = self.marked[:at] + self.marked[at + 1 :]
