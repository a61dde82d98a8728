"""Provides LogLines: the scrolling, wrapping display of a LineWindow (LogView's base)."""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import ClassVar

from rich.segment import Segment
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from batch_tui.ui.formatting import format_bytes
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.widgets.log_buffer import LineWindow
from batch_tui.ui.widgets.log_search import Match

Anchor = tuple[int, int]
"""A place to keep in view across changes: a line's file offset and a row within the line."""


class LogLines(ScrollView):
    """Displays the lines of a LineWindow: one row per line, or wrapped to the width.

    Subclasses fill the window; after changing it they call `_relayout(anchor)`, which keeps
    the line that was at the top where it was.
    """

    DEFAULT_CSS = """
    LogLines {
        background: $surface;
        color: $foreground;
        overflow: auto auto;
        scrollbar-size-vertical: 1;
        & > .log-lines--match { background: $warning; color: $background; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"log-lines--match"}

    wrap: var[bool] = var(False, init=False)
    """Whether long lines wrap at the view's width instead of scrolling sideways."""
    position_text: var[str] = var("")
    """Where the view is, e.g. "bytes 1.2 GiB–1.2 GiB of 1.2 GiB · following"."""
    notice: var[str] = var("")
    """The latest outcome worth telling: "not found: x", "binary file", a read error."""

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's widget signature
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._window = LineWindow()
        self._file_size = 0
        self._binary = False
        self._opened = False
        self._row_starts: list[int] = []
        self._match: Match | None = None
        self._strips: LRUCache[int, Strip] = LRUCache(512)

    @property
    def is_binary(self) -> bool:
        """Whether the file looked binary when opened (nothing else is shown then)."""
        return self._binary

    @property
    def is_open(self) -> bool:
        """Whether the first read finished."""
        return self._opened

    @property
    def window(self) -> LineWindow:
        """The bytes and lines held in memory (read only)."""
        return self._window

    @property
    def match(self) -> Match | None:
        """The current search match, if any."""
        return self._match

    @property
    def visible_lines(self) -> list[str]:
        """Text of the rendered rows in view, top to bottom, without trailing blanks."""
        height = self.scrollable_content_region.height
        return [self.render_line(y).text.rstrip() for y in range(height)]

    # -- scrolling ----------------------------------------------------------------------

    def action_scroll_up(self) -> None:
        self._scroll_rows(-1)

    def action_scroll_down(self) -> None:
        self._scroll_rows(1)

    def action_page_up(self) -> None:
        self._scroll_rows(-self._page_height)

    def action_page_down(self) -> None:
        self._scroll_rows(self._page_height)

    def _scroll_rows(self, rows: int) -> None:
        """Scrolls at once: animations lag over slow links."""
        self.scroll_to(y=round(self.scroll_y) + rows, animate=False, force=True)

    def _scroll_to_end(self) -> None:
        """Scrolls to the last row now, and again after the next layout (a scrollbar
        that appears with the new lines changes how far the end is)."""
        self.scroll_to(x=0, y=self.max_scroll_y, animate=False, force=True)
        self.call_after_refresh(self._scroll_to_bottom)

    def _scroll_to_bottom(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, force=True)

    def _at_tail(self) -> bool:
        return round(self.scroll_y) >= self.max_scroll_y

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._update_position()

    def watch_wrap(self) -> None:
        self.scroll_to(x=0, animate=False, force=True)
        self._relayout_in_place()

    def on_resize(self, event: events.Resize) -> None:
        self._relayout_in_place()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    # -- layout: rows are lines, or wrapped pieces of lines -----------------------------

    @property
    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _relayout_in_place(self) -> None:
        """Re-lays out rows keeping the top line in view, or the bottom when at the tail."""
        at_tail = self._opened and self._at_tail()
        self._relayout(self._anchor())
        if at_tail:
            self._scroll_to_end()

    def _relayout(self, anchor: Anchor | None) -> None:
        """Recomputes rows after the window, wrap or width changed, keeping `anchor` in view."""
        self._strips.clear()
        widths = self._window.widths
        self._row_starts = []
        if self._binary:
            self.virtual_size = Size(0, 1)
        elif self.wrap:
            width = max(1, self.scrollable_content_region.width)
            rows = (max(1, -(-line_width // width)) for line_width in widths)
            self._row_starts = list(accumulate(rows, initial=0))
            self.virtual_size = Size(width, self._row_starts[-1])
        else:
            self.virtual_size = Size(max(widths, default=0), len(widths))
        if anchor is not None:
            row = self._row_of_line(self._window.line_at(anchor[0])) + anchor[1]
            self.scroll_to(y=row, animate=False, force=True)
        self.refresh()
        self._update_position()

    def _anchor(self) -> Anchor | None:
        """The file offset of the top line in view, and how many of its rows are above."""
        if not self._window.lines:
            return None
        index, sub_row = self._line_of_row(round(self.scroll_y))
        index = min(index, len(self._window.lines) - 1)
        return (self._window.offsets[index], sub_row)

    def _row_of_line(self, index: int) -> int:
        return self._row_starts[index] if self._row_starts else index

    def _line_of_row(self, row: int) -> tuple[int, int]:
        if not self._row_starts:
            return (row, 0)
        index = max(0, bisect_right(self._row_starts, row) - 1)
        return (index, row - self._row_starts[index])

    def _visible_line_range(self) -> tuple[int, int]:
        """Indexes of the first and last lines in view (the window must hold lines)."""
        last_line = len(self._window.lines) - 1
        top = round(self.scroll_y)
        first = min(self._line_of_row(top)[0], last_line)
        return first, min(self._line_of_row(top + self._page_height - 1)[0], last_line)

    def _scroll_to_offset(self, offset: int) -> None:
        """Scrolls so that the line holding `offset` is in view, a third down the page."""
        row = self._row_of_line(self._window.line_at(offset))
        top = round(self.scroll_y)
        if not top <= row < top + self._page_height:
            self.scroll_to(y=max(0, row - self._page_height // 3), animate=False, force=True)
        if not self.wrap and self._match is not None:
            column = max(0, self._match.start - self.scrollable_content_region.width // 2)
            self.scroll_to(x=column, animate=False, force=True)

    def _position_suffix(self) -> str:
        return ""

    def _update_position(self) -> None:
        total = format_bytes(self._file_size)
        if self._binary:
            self.position_text = f"binary file, {total}"
            return
        if not self._window.lines:
            self.position_text = f"bytes 0–0 of {total}{self._position_suffix()}"
            return
        first, last = self._visible_line_range()
        start = format_bytes(self._window.offsets[first])
        end = format_bytes(self._window.line_end(last))
        self.position_text = f"bytes {start}–{end} of {total}{self._position_suffix()}"

    # -- rendering ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if self._binary:
            # The notice can hold an error's text from the service.
            text = sanitize_text(self.notice) if y == 0 else ""
            return Strip([Segment(text, base)]).adjust_cell_length(width, base)
        index, sub_row = self._line_of_row(round(self.scroll_y) + y)
        if index >= len(self._window.lines):
            return Strip.blank(width, base)
        strip = self._line_strip(index)
        if not self.wrap:
            scroll_x = round(self.scroll_x)
            return strip.crop_extend(scroll_x, scroll_x + width, base)
        pieces = strip.divide([*range(width, strip.cell_length, width), strip.cell_length])
        piece = pieces[sub_row] if sub_row < len(pieces) else Strip.blank(0)
        return piece.adjust_cell_length(width, base)

    def _line_strip(self, index: int) -> Strip:
        """The whole line as a strip, with the search match highlighted (cached)."""
        strip = self._strips.get(index)
        if strip is None:
            text = self._window.lines[index]
            base = self.rich_style
            match = self._match
            if match is not None and match.offset == self._window.offsets[index]:
                highlight = base + self.get_component_rich_style("log-lines--match")
                segments = [
                    Segment(text[: match.start], base),
                    Segment(text[match.start : match.end], highlight),
                    Segment(text[match.end :], base),
                ]
            else:
                segments = [Segment(text, base)]
            strip = self._strips[index] = Strip(segments)
        return strip
