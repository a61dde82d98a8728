"""Provides LogView: a viewer for files of any size that tails, follows, wraps and searches."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import var

from batch_tui.ui.widgets.log_buffer import CHUNK_SIZE, MAX_WINDOW, ByteSource, looks_binary
from batch_tui.ui.widgets.log_lines import LogLines
from batch_tui.ui.widgets.log_search import (
    SEARCH_LIMIT,
    Origin,
    find_in_window,
    next_origin,
)

__all__ = ["ByteSource", "LogView", "SourceFailed"]


class SourceFailed(Exception):
    """A read from the ByteSource failed; the original error is the `__cause__`."""


class LogView(LogLines, can_focus=True):
    """Shows a file through a ByteSource, holding only a window of it in memory.

    It opens at the tail, loads earlier or later chunks as the user scrolls near the
    edge of the window, and drops chunks far from the view. Every line is sanitized.
    All reads run in workers, one at a time.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f", "toggle_follow", "Follow", id="log.follow", tooltip="Follow the end of the file"
        ),
        Binding("w", "toggle_wrap", "Wrap", id="log.wrap", tooltip="Wrap long lines"),
        Binding("n", "find_next", "Next", id="log.find-next", tooltip="Next match"),
        Binding("N", "find_previous", "Previous", id="log.find-previous", tooltip="Previous match"),
        Binding("up,k", "scroll_up", "Up", show=False, id="log.up", tooltip="Up a line"),
        Binding("down,j", "scroll_down", "Down", show=False, id="log.down", tooltip="Down a line"),
        Binding("g,home", "go_top", "Top", show=False, id="log.top", tooltip="Start of the file"),
        Binding("G,end", "go_end", "End", show=False, id="log.end", tooltip="End of the file"),
    ]  # fmt: skip

    class LoadFailed(Message):
        """Posted when reading from the source fails; the view keeps what it had."""

        def __init__(self, view: LogView, error: BaseException) -> None:
            super().__init__()
            self.view = view
            self.error = error
            """The exception the source raised."""

        @property
        def control(self) -> LogView:
            return self.view

    following: var[bool] = var(False, init=False)
    """Whether new bytes are polled for and the view sticks to the bottom."""

    def __init__(
        self,
        source: ByteSource,
        *,
        follow: bool = False,
        poll_interval: float = 2.0,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's widget signature
        classes: str | None = None,
    ) -> None:
        """Creates the view; it starts reading when mounted.

        Args:
            source: Where the file's bytes come from.
            follow: Start in follow mode.
            poll_interval: Seconds between size checks while following.
        """
        super().__init__(name=name, id=id, classes=classes)
        self._source = source
        self._poll_interval = poll_interval
        self._io_lock = asyncio.Lock()
        self._edge_busy = False
        self._pattern = ""
        self.set_reactive(LogView.following, follow)

    def find(self, pattern: str, *, backwards: bool = False) -> None:
        """Finds the next (or previous) match of a regex (a literal if invalid), loading
        further chunks up to `SEARCH_LIMIT` bytes when the window has none."""
        self._pattern = pattern
        if pattern and not self._binary:
            self._start(self._find(pattern, backwards))

    def poll(self) -> None:
        """Checks the source for new bytes now (follow mode does this on a timer)."""
        self._start(self._poll())

    # -- actions ----------------------------------------------------------------------

    def action_toggle_follow(self) -> None:
        self.following = not self.following

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_find_next(self) -> None:
        self.find(self._pattern)

    def action_find_previous(self) -> None:
        self.find(self._pattern, backwards=True)

    def action_go_top(self) -> None:
        self.following = False
        self._start(self._go_top())

    def action_go_end(self) -> None:
        self._start(self._go_end())

    def _scroll_rows(self, rows: int) -> None:
        if rows < 0:
            self.following = False  # like `less +F`: looking back stops following
        super()._scroll_rows(rows)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.following = False

    # -- lifecycle and reactives ------------------------------------------------------

    def on_mount(self) -> None:
        self._poll_timer = self.set_interval(
            self._poll_interval, self._on_poll_tick, pause=not self.following
        )
        self._start(self._open())

    def watch_following(self, following: bool) -> None:
        if following:
            self._poll_timer.resume()
            self._start(self._go_end())
        else:
            self._poll_timer.pause()
        self._update_position()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._maybe_load_edge()

    def _position_suffix(self) -> str:
        return " · following" if self.following else ""

    # -- I/O: each step runs in a worker and holds the lock -----------------------------

    def _start(self, operation: Coroutine[Any, Any, None]) -> None:
        self.run_worker(self._guarded(operation), group="log-view", exit_on_error=False)

    async def _guarded(self, operation: Coroutine[Any, Any, None]) -> None:
        try:
            await operation
        except SourceFailed as failure:
            cause = failure.__cause__ or failure
            self.notice = f"read failed: {cause}"
            self.post_message(self.LoadFailed(self, cause))

    async def _read(self, start: int, end: int) -> bytes:
        if end < start:
            return b""
        try:
            return await self._source.read(start, end)
        except Exception as error:  # any error type can come through the protocol
            raise SourceFailed(str(error)) from error

    async def _read_size(self) -> int:
        try:
            self._file_size = await self._source.size()
        except Exception as error:  # any error type can come through the protocol
            raise SourceFailed(str(error)) from error
        return self._file_size

    async def _open(self) -> None:
        async with self._io_lock:
            size = await self._read_size()
            start = max(0, size - CHUNK_SIZE)
            data = await self._read(start, size - 1)
            self._opened = True
            if looks_binary(data):
                self._binary = True
                self.notice = f"binary file, {size:,} bytes"
                self.following = False
                self._relayout(None)
                return
            self._window.reset(start, data)
            self._relayout(None)
            self._scroll_to_end()

    async def _poll(self) -> None:
        if self._binary or not self._opened or self._io_lock.locked():
            return
        async with self._io_lock:
            window = self._window
            size = await self._read_size()
            if size == window.end or (size > window.end and not self._at_tail()):
                self._update_position()
                return
            anchor = self._anchor()
            if size < window.end or size - window.end > MAX_WINDOW:
                # Truncated, rotated, or too far ahead to bridge: start again at the tail.
                start = max(0, size - CHUNK_SIZE)
                window.reset(start, await self._read(start, size - 1))
            else:
                window.append(await self._read(window.end, size - 1))
                window.drop_front()
            self._relayout(None if self.following else anchor)
            if self.following:
                self._scroll_to_end()

    async def _go_top(self) -> None:
        async with self._io_lock:
            if self._window.start > 0:
                self._window.reset(0, await self._read(0, CHUNK_SIZE - 1))
                self._relayout(None)
            self.scroll_to(x=0, y=0, animate=False, force=True)

    async def _go_end(self) -> None:
        async with self._io_lock:
            size = await self._read_size()
            window = self._window
            if window.end != size and not self._binary:
                start = max(0, size - CHUNK_SIZE)
                window.reset(start, await self._read(start, size - 1))
                self._relayout(None)
            self._scroll_to_end()

    async def _load_edge(self, backwards: bool) -> None:
        grew = False
        try:
            async with self._io_lock:
                anchor = self._anchor()
                grew = await self._extend(backwards)
                if grew:
                    self._relayout(anchor)
        finally:
            self._edge_busy = False
        if grew:
            # Scrolls during the read were ignored; the view may still be near an edge.
            self._maybe_load_edge()

    async def _extend(self, backwards: bool) -> bool:
        """Loads one chunk before or after the window; returns whether it grew."""
        window = self._window
        if backwards:
            if window.start == 0 or window.line_end(0) - window.start >= MAX_WINDOW:
                return False  # at the top, or inside one huge line we only show the start of
            start = max(0, window.start - CHUNK_SIZE)
            window.prepend(await self._read(start, window.start - 1))
            window.drop_back()
            return True
        if window.end >= self._file_size:
            return False
        stop = min(window.end + CHUNK_SIZE, self._file_size)
        window.append(await self._read(window.end, stop - 1))
        window.drop_front()
        return True

    async def _find(self, pattern: str, backwards: bool) -> None:
        async with self._io_lock:
            origin = self._search_origin(backwards)
            scanned = 0
            wrapped = False
            while (found := find_in_window(self._window, pattern, origin, backwards)) is None:
                origin = next_origin(self._window, origin, backwards)
                anchor = self._anchor()
                if scanned >= SEARCH_LIMIT:
                    self._no_match(f"not found: {pattern}")
                    return
                if not await self._extend(backwards):
                    # At the file's edge: once round, as less and vim do, when the whole
                    # other end is in memory (a 5 GB log is not read again from its start).
                    wrap = None if wrapped else self._wrap_origin(backwards)
                    if wrap is None:
                        where = "above" if backwards else "below"
                        whole = wrapped or self._match is None
                        self._no_match(f"not found: {pattern}" if whole else
                                       f"no more matches {where}: {pattern}")  # fmt: skip
                        return
                    origin, wrapped = wrap, True
                    continue
                scanned += CHUNK_SIZE
                self._relayout(anchor)
            self._match = found
            self.notice = (
                f"search wrapped to the {'end' if backwards else 'top'}" if wrapped else ""
            )
            self._relayout(None)
            self._scroll_to_offset(found.offset)

    def _no_match(self, notice: str) -> None:
        """Ends a search that found nothing: says so, and the old match is no longer shown."""
        self._match = None
        self.notice = notice
        self._relayout(None)

    def _wrap_origin(self, backwards: bool) -> Origin | None:
        """Where a search goes on from the other end of the file, if that end is in memory."""
        window = self._window
        if backwards:
            return (window.end, None) if window.end >= self._file_size else None
        return (window.start - 1, 0) if window.start == 0 else None

    def _search_origin(self, backwards: bool) -> Origin:
        """Where a search starts: just past the current match, or the view's edge."""
        if self._match is not None:
            match = self._match
            return (match.offset, match.start if backwards else match.end)
        lines = self._window.lines
        if not lines:
            return (self._window.start, None)
        top = round(self.scroll_y)
        row = top + self._page_height - 1 if backwards else top
        index = min(self._line_of_row(row)[0], len(lines) - 1)
        return (self._window.offsets[index], None if backwards else 0)

    def _on_poll_tick(self) -> None:
        if self.following:
            self.poll()

    def _maybe_load_edge(self) -> None:
        if not self._opened or self._binary or self._edge_busy or self._io_lock.locked():
            return
        top = round(self.scroll_y)
        window = self._window
        if top <= self._page_height and window.start > 0 and not self.following:
            self._edge_busy = True
            self._start(self._load_edge(backwards=True))
        elif top >= self.max_scroll_y - self._page_height and window.end < self._file_size:
            self._edge_busy = True
            self._start(self._load_edge(backwards=False))

    def _at_tail(self) -> bool:
        return self.following or super()._at_tail()
