"""Provides the byte-source protocol and the bounded window of lines behind LogView."""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate
from typing import Final, Protocol

from rich.cells import cell_len

from batch_tui.ui.sanitize import sanitize_bytes

CHUNK_SIZE: Final = 256 * 1024
"""Bytes read per request: the tail window on open, and each step when scrolling.

256 KiB is a few thousand lines of a typical log, many screens of scrolling per request,
and downloads in well under a second on a slow link.
"""

MAX_WINDOW: Final = 4 * CHUNK_SIZE
"""Most bytes held in memory; chunks far from the view are dropped beyond this.

It keeps memory independent of the file size (a 5 GB `stdout.txt` costs the same as a
5 MB one) while leaving three chunks of scrollback around the view.
"""

BINARY_SHARE: Final = 0.3
"""Share of non-text bytes (controls, invalid UTF-8) above which a file is binary.

Text logs with ANSI colours or some Latin-1 bytes stay far below it; compressed or
executable data is far above it.
"""

_BINARY_CONTROLS: Final = re.compile(rb"[\x01-\x08\x0e-\x1a\x1c-\x1f\x7f]")
"""Control bytes that text files do not contain (tab, newlines, FF and ESC are text)."""


class ByteSource(Protocol):
    """Where LogView reads a file from: the service, a local file, or memory in tests."""

    async def size(self) -> int:
        """Returns the current size of the file in bytes."""
        ...

    async def read(self, start: int, end: int) -> bytes:
        """Returns bytes `start` to `end` inclusive (like an HTTP range), fewer at EOF."""
        ...


def looks_binary(sample: bytes) -> bool:
    """Tells whether a sample of a file is binary rather than text.

    Args:
        sample: The first bytes read (any part of the file).

    Returns:
        True if it holds a NUL byte or too many non-text bytes.
    """
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = len(_BINARY_CONTROLS.findall(sample))
    invalid = sample.decode("utf-8", errors="replace").count("\ufffd")
    return (controls + invalid) / len(sample) > BINARY_SHARE


def split_lines(data: bytes, base: int) -> tuple[list[int], list[str]]:
    """Splits bytes on \\n, \\r\\n and lone \\r into sanitized display lines.

    Args:
        data: Raw bytes.
        base: File offset of `data[0]`.

    Returns:
        The file offset where each line starts, and each line's safe text.
    """
    parts = data.splitlines(keepends=True)
    if not parts:
        return [], []
    offsets = list(accumulate((len(part) for part in parts[:-1]), initial=base))
    lines = [sanitize_bytes(part.rstrip(b"\r\n")) for part in parts]
    return offsets, lines


class LineWindow:
    """A contiguous byte range of a file held in memory, with its display lines.

    The range grows at either end a chunk at a time and is trimmed by whole lines at the
    end away from the reader, so its size stays near `MAX_WINDOW`.
    """

    def __init__(self) -> None:
        self.start = 0
        """File offset of the first byte held."""
        self.data = bytearray()
        self.offsets: list[int] = []
        """File offset where each line starts (ascending)."""
        self.lines: list[str] = []
        """Sanitized text of each line."""
        self.widths: list[int] = []
        """Cell width of each line."""

    @property
    def end(self) -> int:
        """File offset just past the last byte held."""
        return self.start + len(self.data)

    def line_end(self, index: int) -> int:
        """Returns the file offset just past line `index` (including its newline)."""
        return self.offsets[index + 1] if index + 1 < len(self.offsets) else self.end

    def line_at(self, offset: int) -> int:
        """Returns the index of the line that holds a file offset (clamped to the window)."""
        return max(0, bisect_right(self.offsets, offset) - 1)

    def reset(self, start: int, data: bytes) -> None:
        """Replaces the window with `data` read at `start`."""
        self.start = start
        self.data = bytearray(data)
        self.offsets, self.lines, self.widths = [], [], []
        self._resplit(0)

    def append(self, data: bytes) -> None:
        """Adds bytes read just past the end (the last line may continue)."""
        self.data += data
        self._resplit(max(0, len(self.lines) - 1))

    def prepend(self, data: bytes) -> None:
        """Adds bytes read just before the start (they may complete the first line)."""
        keep_from = self.line_end(0) if self.lines else self.end
        self.data[0:0] = data
        self.start -= len(data)
        offsets, lines = split_lines(bytes(self.data[: keep_from - self.start]), self.start)
        self._splice(0, 1 if self.lines else 0, offsets, lines)

    def drop_front(self, limit: int = MAX_WINDOW) -> None:
        """Drops whole lines from the start until at most `limit` bytes are held."""
        count = 0
        while len(self.lines) - count > 1 and self.end - self.offsets[count] > limit:
            count += 1
        if count:
            new_start = self.offsets[count]
            del self.data[: new_start - self.start]
            self.start = new_start
            self._splice(0, count, [], [])
        if len(self.data) > limit:
            # One line longer than the limit (no newline for megabytes): keep its end.
            excess = len(self.data) - limit
            del self.data[:excess]
            self.start += excess
            self.offsets[0] = self.start
            self._resplit_first()

    def drop_back(self, limit: int = MAX_WINDOW) -> None:
        """Drops whole lines from the end until at most `limit` bytes are held."""
        count = len(self.lines)
        while count > 1 and self.line_end(count - 1) - self.start > limit:
            count -= 1
        if count < len(self.lines):
            del self.data[self.offsets[count] - self.start :]
            self._splice(count, len(self.lines), [], [])
        if len(self.data) > limit:
            # One line longer than the limit: keep its start, which is what is shown.
            del self.data[limit:]
            self._resplit(len(self.lines) - 1)

    def _resplit_first(self) -> None:
        """Re-splits the first line after bytes were cut from its start."""
        end = self.line_end(0) - self.start
        offsets, lines = split_lines(bytes(self.data[:end]), self.start)
        self._splice(0, 1, offsets, lines)

    def _resplit(self, index: int) -> None:
        """Re-splits the bytes from line `index` to the end."""
        offset = self.offsets[index] if index < len(self.offsets) else self.start
        offsets, lines = split_lines(bytes(self.data[offset - self.start :]), offset)
        self._splice(index, len(self.lines), offsets, lines)

    def _splice(self, first: int, last: int, offsets: list[int], lines: list[str]) -> None:
        self.offsets[first:last] = offsets
        self.lines[first:last] = lines
        self.widths[first:last] = [cell_len(line) for line in lines]
