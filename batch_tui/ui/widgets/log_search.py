"""Provides search within the lines LogView holds in memory."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from batch_tui.ui.widgets.log_buffer import CHUNK_SIZE, LineWindow
from batch_tui.ui.widgets.table_filter import compile_pattern

SEARCH_LIMIT: Final = 64 * CHUNK_SIZE
"""Most bytes one search reads beyond the window (16 MiB) before it gives up.

Searching a 5 GB log end to end over the network would take minutes; a bound keeps a
search answerable, and pressing `n` again continues from where it stopped.
"""

Origin = tuple[int, "int | None"]
"""Where a search starts: a line's file offset and a character column in it.

`None` as the column means the end of the line (backward searches).
"""


@dataclass(frozen=True)
class Match:
    """A search hit: the file offset of its line and its character span in the line."""

    offset: int
    start: int
    end: int


def find_in_window(
    window: LineWindow, pattern: str, origin: Origin, backwards: bool
) -> Match | None:
    """Finds the first match after (or the last before) `origin` among the window's lines.

    Args:
        window: The lines held in memory.
        pattern: A case-insensitive regex, or a literal if it is not a valid regex.
        origin: Where to start; a line outside the window means "from the near edge".
        backwards: Search towards the start of the file.

    Returns:
        The match, or `None` if the window holds none in that direction.
    """
    if not window.lines:
        return None
    regex = compile_pattern(pattern)
    offset, column = origin
    if backwards:
        if offset < window.start:
            return None
        if offset >= window.end:
            return _find_backwards(window, regex, len(window.lines) - 1, None)
        return _find_backwards(window, regex, window.line_at(offset), column)
    if offset >= window.end:
        return None
    if offset < window.start:
        return _find_forwards(window, regex, 0, 0)
    return _find_forwards(window, regex, window.line_at(offset), column or 0)


def _find_forwards(
    window: LineWindow, regex: re.Pattern[str], index: int, column: int
) -> Match | None:
    for line_index in range(index, len(window.lines)):
        text = window.lines[line_index]
        position = column if line_index == index else 0
        while (found := regex.search(text, position)) is not None:
            if found.end() > found.start():
                return Match(window.offsets[line_index], found.start(), found.end())
            position = found.end() + 1  # skip empty matches such as "x*"
    return None


def _find_backwards(
    window: LineWindow, regex: re.Pattern[str], index: int, column: int | None
) -> Match | None:
    for line_index in range(index, -1, -1):
        text = window.lines[line_index]
        limit = len(text) if column is None or line_index != index else column
        last = None
        for found in regex.finditer(text):
            if found.start() >= limit:
                break
            if found.end() > found.start():
                last = found
        if last is not None:
            return Match(window.offsets[line_index], last.start(), last.end())
    return None


def next_origin(window: LineWindow, origin: Origin, backwards: bool) -> Origin:
    """Where to resume after the window held no match and was extended.

    Forwards, the last line is searched again (it may have continued); backwards, the
    first line is searched whole (earlier bytes may have completed it).
    """
    if backwards:
        return (window.start, None)
    last = window.offsets[-1] if window.offsets else window.start
    return max(origin, (last, 0), key=lambda pair: (pair[0], pair[1] or 0))
