"""Provides JsonLines: an entity's JSON text, highlighted, wrapped on demand and searchable.

The text is held whole (an entity's JSON is kilobytes) in the `LineWindow` the file viewer
uses, so every line is sanitized the same way, and search is the file viewer's
(`log_search.find_in_window`: a case-insensitive regex, a literal if it is not one), going once
round the text as `less` does.
"""

from __future__ import annotations

import re
from typing import ClassVar, Final

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.strip import Strip

from batch_tui.ui.widgets.log_lines import LogLines
from batch_tui.ui.widgets.log_search import Origin, find_in_window

_TOKENS: Final = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)'
    r'|(?P<string>"(?:[^"\\]|\\.)*"?)'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<literal>\b(?:true|false|null)\b)"
)
"""The parts of a line of indented JSON that are highlighted (a string may run off the line:
the view cuts very long ones)."""

TOKEN_CLASSES: Final = {
    "key": "json-lines--key",
    "string": "json-lines--string",
    "number": "json-lines--number",
    "literal": "json-lines--literal",
}


class JsonLines(LogLines, can_focus=True, inherit_bindings=False):
    """Shows a JSON text: keys, strings, numbers and literals styled (keys bold, so that they
    stand out without colour too), the search match in reverse."""

    DEFAULT_CSS = """
    JsonLines {
        & > .json-lines--key { color: $text-accent; text-style: bold; }
        & > .json-lines--string { color: $success; }
        & > .json-lines--number { color: $warning; }
        & > .json-lines--literal { color: $secondary; text-style: italic; }
        & > .log-lines--match { text-style: reverse bold; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"log-lines--match", *TOKEN_CLASSES.values()}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "find_next", "Next", id="json.find-next", tooltip="Next match"),
        Binding("N", "find_previous", "Previous", id="json.find-previous",
                tooltip="Previous match"),
        Binding("w", "toggle_wrap", "Wrap", id="json.wrap", tooltip="Wrap long lines"),
        Binding("up,k", "scroll_up", "Up", show=False, id="json.up", tooltip="Up a line"),
        Binding("down,j", "scroll_down", "Down", show=False, id="json.down",
                tooltip="Down a line"),
        Binding("pageup", "page_up", "Page up", show=False, id="json.page-up",
                tooltip="Up a page"),
        Binding("pagedown,space", "page_down", "Page down", show=False, id="json.page-down",
                tooltip="Down a page"),
        Binding("g,home", "go_top", "Top", show=False, id="json.top", tooltip="First line"),
        Binding("G,end", "go_end", "End", show=False, id="json.end", tooltip="Last line"),
    ]  # fmt: skip

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's widget signature
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._pattern = ""
        self.text = ""
        """The JSON shown, as given (not sanitized: for saving)."""

    def load(self, text: str) -> None:
        """Shows `text`; a reload keeps the line at the top where it was."""
        anchor = self._anchor() if self._opened else None
        data = text.encode("utf-8")
        self.text = text
        self._file_size = len(data)
        self._window.reset(0, data)
        self._opened = True
        self._match = None
        self.notice = ""
        self._relayout(anchor)

    @property
    def line_count(self) -> int:
        """How many lines the text has."""
        return len(self._window.lines)

    # -- search -------------------------------------------------------------------------

    def find(self, pattern: str, *, backwards: bool = False) -> bool:
        """Goes to the next (or previous) match of a regex, once round the text; returns
        whether it found one (the `notice` says what happened)."""
        self._pattern = pattern
        if not pattern or not self._window.lines:
            return False
        found = find_in_window(self._window, pattern, self._search_origin(backwards), backwards)
        wrapped = False
        if found is None:
            # From the other end: an origin outside the text means "from that edge".
            edge: Origin = (self._window.end, None) if backwards else (-1, 0)
            found = find_in_window(self._window, pattern, edge, backwards)
            wrapped = True
        if found is None:
            self._match = None
            self.notice = f"not found: {pattern}"
            self._relayout(None)
            return False
        self._match = found
        self.notice = f"search wrapped to the {'end' if backwards else 'top'}" if wrapped else ""
        self._relayout(None)
        self._scroll_to_offset(found.offset)
        return True

    def _search_origin(self, backwards: bool) -> Origin:
        """Just past the current match, else the first (or last) line in view."""
        if self._match is not None:
            match = self._match
            return (match.offset, match.start if backwards else match.end)
        first, last = self._visible_line_range()
        offsets = self._window.offsets
        return (offsets[last], None) if backwards else (offsets[first], 0)

    def action_find_next(self) -> None:
        self.find(self._pattern)

    def action_find_previous(self) -> None:
        self.find(self._pattern, backwards=True)

    # -- moving -------------------------------------------------------------------------

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_go_top(self) -> None:
        self.scroll_to(x=0, y=0, animate=False, force=True)

    def action_go_end(self) -> None:
        self._scroll_to_end()

    def _update_position(self) -> None:
        count = len(self._window.lines)
        if not count:
            self.position_text = ""
            return
        first, last = self._visible_line_range()
        self.position_text = f"lines {first + 1:,}–{last + 1:,} of {count:,}"

    # -- rendering ----------------------------------------------------------------------

    def _line_strip(self, index: int) -> Strip:
        """The whole line as a strip, its tokens and the search match styled (cached)."""
        strip = self._strips.get(index)
        if strip is None:
            line = Text(self._window.lines[index], style=self.rich_style, end="")
            for token in _TOKENS.finditer(line.plain):
                kind = token.lastgroup or "string"
                line.stylize(self._token_style(kind), token.start(), token.end())
            match = self._match
            if match is not None and match.offset == self._window.offsets[index]:
                highlight = self.get_component_rich_style("log-lines--match")
                line.stylize(highlight, match.start, match.end)
            # Every segment over the base style: Rich leaves unstyled runs without one.
            segments = Segment.apply_style(line.render(self.app.console), self.rich_style)
            strip = self._strips[index] = Strip(list(segments))
        return strip

    def _token_style(self, kind: str) -> Style:
        return self.get_component_rich_style(TOKEN_CLASSES[kind], partial=True)
