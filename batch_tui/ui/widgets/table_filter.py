"""Provides the `/` filter of a table: compiling what the user typed, and finding the rows
it keeps among 100,000 fast enough for a key press (pure; no widget code).

A filter with no regex syntax (the common case: a state, an id, part of a node name) is a
substring test. When few rows hold the text, it is found with `str.find` over all rows'
texts joined in one string (`Haystack`, built once until the rows change): the C search
skips the rows without it, where a per-row test in Python costs ~100 ns a row whatever
the answer.

A filter may also hold tests of single cells (`CellTest`, the column terms of
`batch_tui.ui.filter_terms`): a row is kept when every cell test holds and the text matches.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Final

REGEX_SYNTAX: Final = frozenset(".^$*+?{}[]\\|()")

FEW_ROWS: Final = 16
"""The haystack search gives up when more than 1 row in this many holds the text: finding
each costs more than testing every row."""


CHECK_EVERY: Final = 256
"""Matches between checks whether the rate of matches so far will exceed the limit."""


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compiles a case-insensitive regex, or a literal match if `pattern` is not a valid regex.

    Users type filters and searches one key at a time, so "node-[1" must not raise.
    """
    try:
        return re.compile(pattern, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError):
        return re.compile(re.escape(pattern), re.IGNORECASE)


def _lowercase_pattern(pattern: str) -> re.Pattern[str]:
    """Compiles a filter for lowercased text: without IGNORECASE when the pattern can be
    lowercased safely (no escapes, whose meaning depends on case), which lets the regex
    engine search for a literal prefix and runs several times faster."""
    if "\\" in pattern:
        return compile_pattern(pattern)
    try:
        return re.compile(pattern.lower())
    except (re.error, RecursionError, OverflowError):
        return re.compile(re.escape(pattern.lower()))


class Haystack:
    """Every row's lowercased text in one string, with where each row's text starts.

    Args:
        keys: The row keys.
        texts: Their texts, in the same order; none holds a newline (they are single lines).
    """

    def __init__(self, keys: list[str], texts: list[str]) -> None:
        self.keys = keys
        self.text = "\n".join(texts)
        self.starts = list(accumulate((len(text) + 1 for text in texts), initial=0))

    def rows_with(self, needle: str, most: int) -> list[int] | None:
        """Indexes of the rows whose text holds `needle`, in order; None if more than `most`."""
        found: list[int] = []
        text, starts = self.text, self.starts
        position = text.find(needle)
        while position != -1:
            row = bisect_right(starts, position) - 1
            found.append(row)
            if len(found) > most:
                return None
            if len(found) % CHECK_EVERY == 0 and len(found) * len(text) > most * position:
                return None  # at this rate there will be too many: stop early
            position = text.find(needle, starts[row + 1])
        return found


@dataclass(frozen=True)
class CellTest:
    """A test of one cell of a row.

    Attributes:
        index: The cell's column.
        holds: Whether the filter keeps a row with this lowercased cell text.
        needle: A lowercased text that every cell it keeps holds, if there is one: rows
            without it are skipped before their cells are split.
    """

    index: int
    holds: Callable[[str], bool]
    needle: str | None = None
    regex: str | None = None
    """The same test as a regex matched at the start of the row's text (its cells joined by
    tabs), if it has one: the regex engine runs it in C, where splitting every row of
    100,000 in Python would take a second."""


class RowFilter:
    """A compiled `/` filter: a case-insensitive regex (a literal if invalid); a leading `!`
    keeps the rows that do NOT match. With `cells`, a row must also pass every cell test."""

    def __init__(self, pattern: str, cells: Sequence[CellTest] = ()) -> None:
        self.invert = pattern.startswith("!")
        body = pattern[1:] if self.invert else pattern
        self._text = bool(body) or not cells  # with cell tests, "" and "!" match every row
        self._text_needle = body.lower() if REGEX_SYNTAX.isdisjoint(body) else None
        self._search = _lowercase_pattern(body).search
        self.cells = tuple(cells)
        regexes = [test.regex for test in self.cells if test.regex is not None]
        joined = regexes[0] if len(regexes) == 1 else "".join(f"(?={r})" for r in regexes)
        self._cells_match = re.compile(joined).match if regexes else None
        self._split_tests = tuple(test for test in self.cells if test.regex is None)
        self.needle: str | None = self._text_needle
        """A substring for the joined-text search (`Haystack`): what the text filter looks
        for, or with cell tests a text every kept row holds."""
        if self.cells:
            kept_text = None if self.invert or not body else self._text_needle
            self.needle = next((c.needle for c in self.cells if c.needle), kept_text)

    def keeps(self, text: str) -> bool:
        """Whether the filter keeps a row with this lowercased text."""
        match = self._cells_match
        if match is not None and match(text) is None:
            return False
        return self._others_keep(text)

    def _others_keep(self, text: str) -> bool:
        """The split cell tests and the text filter (what `_cells_match` leaves)."""
        if self._split_tests and not self._cells_hold(text):
            return False
        return self._text_keeps(text) if self._text else True

    def _text_keeps(self, text: str) -> bool:
        needle = self._text_needle
        found = needle in text if needle is not None else bool(self._search(text))
        return found != self.invert

    def _cells_hold(self, text: str) -> bool:
        needle = self.needle
        if needle is not None and needle not in text:
            return False  # the C search: no split for most rows
        cells = text.split("\t")
        return all(
            test.index < len(cells) and test.holds(cells[test.index]) for test in self._split_tests
        )

    def select(self, keys: list[str], texts: list[str], haystack: Haystack | None) -> list[str]:
        """The keys of the rows kept, in the order given.

        Args:
            keys: Row keys.
            texts: Their lowercased texts, in the same order.
            haystack: The same rows joined, for a substring filter's fast path, if built.
        """
        if self.cells:
            return self._select_cells(keys, texts, haystack)
        if self.needle is not None and haystack is not None:
            rows = haystack.rows_with(self.needle, len(keys) // FEW_ROWS)
            if rows is not None:
                return _pick(keys, rows, self.invert)
        return self._scan(keys, texts)

    def _select_cells(
        self, keys: list[str], texts: list[str], haystack: Haystack | None
    ) -> list[str]:
        found: list[int] | None = None
        if self.needle is not None and haystack is not None:
            found = haystack.rows_with(self.needle, len(keys) // FEW_ROWS)
        match = self._cells_match
        others = self._split_tests or self._text
        if found is None and match is not None and not others:  # the common case, at C speed
            return [key for key, text in zip(keys, texts, strict=True) if match(text) is not None]
        rows: Sequence[int] = range(len(keys)) if found is None else found
        if match is not None:  # one C call a row
            rows = [row for row in rows if match(texts[row]) is not None]
        if others:
            keep = self._others_keep
            rows = [row for row in rows if keep(texts[row])]
        return [keys[row] for row in rows]

    def _scan(self, keys: list[str], texts: list[str]) -> list[str]:
        # Each case is its own comprehension: a predicate call per row would cost as much as
        # the test itself.
        pairs = zip(keys, texts, strict=True)
        needle, search = self._text_needle, self._search
        if needle is not None and self.invert:
            return [key for key, text in pairs if needle not in text]
        if needle is not None:
            return [key for key, text in pairs if needle in text]
        if self.invert:
            return [key for key, text in pairs if search(text) is None]
        return [key for key, text in pairs if search(text) is not None]


def _pick(keys: list[str], rows: list[int], invert: bool) -> list[str]:
    if not invert:
        return [keys[row] for row in rows]
    dropped = set(rows)
    return [key for row, key in enumerate(keys) if row not in dropped]
