"""Provides the rendering of one table line: safe, fitted, aligned and styled cells."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual.content import Content
from textual.strip import Strip
from textual.style import Style

from batch_tui.ui.formatting import cut_middle
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.widgets.table_rows import Cell, Column, Cut

StyledCells = dict[tuple[int, int, str, str, RichStyle], tuple[object, list[Segment]]]
"""Rendered styled cells by (id of the cell, width, alignment, cut, base style), each kept
with its cell so that an id is never taken for another object's."""

STYLED_CELLS_MAX = 4_096
"""Most styled cells kept rendered: state cells are shared by thousands of rows."""


class CellLine:
    """Renders rows of cells into strips for fixed column widths and a base style.

    Args:
        columns: The table's columns (for alignment).
        widths: Width of each column, from `fit_widths`.
        base: Style under every cell (the widget's, plus the row's).
        parse_style: Parses style strings with the app's theme variables ("$error").
    """

    def __init__(
        self,
        columns: Sequence[Column],
        widths: Sequence[int],
        base: RichStyle,
        parse_style: Callable[[str | Style], Style],
        styled: StyledCells | None = None,
    ) -> None:
        self.columns = columns
        self.widths = widths
        self.base = base
        self.parse_style = parse_style
        self.styled: StyledCells = {} if styled is None else styled

    def render(
        self, cells: Sequence[Cell], width: int, post: RichStyle | None, gutter: str
    ) -> Strip:
        """Renders a one-cell gutter, then each cell after a space, padded to `width`.

        Args:
            cells: The row's cells.
            width: Width of the whole line.
            post: A style over everything (the cursor), or `None`.
            gutter: The character in the gutter (a mark, or a space).

        Returns:
            A strip exactly `width` cells wide.
        """
        base = self.base
        segments = [Segment(gutter, base)]
        plain_run = ""  # plain cells and separators, joined into one segment
        for column, cell_width, cell in zip(self.columns, self.widths, cells, strict=False):
            plain_run += " "
            if cell.__class__ is str:
                text = sanitize_text(cell)
                if column.cut == "middle" and len(text) > cell_width:
                    text = cut_middle(text, cell_width)
                fitted = fit_plain(text, cell_width, column.align)
                if fitted is not None:
                    plain_run += fitted
                    continue
            if plain_run:
                segments.append(Segment(plain_run, base))
                plain_run = ""
            segments += self._styled(cell, cell_width, column)
        if plain_run:
            segments.append(Segment(plain_run, base))
        if post is not None:
            segments = list(Segment.apply_style(segments, post_style=post))
        return Strip(segments).adjust_cell_length(width, post or base)

    def _styled(self, cell: Cell, width: int, column: Column) -> list[Segment]:
        """The segments of a styled cell; shared cells (a row's state) render once."""
        key = (id(cell), width, column.align, column.cut, self.base)
        known = self.styled.get(key)
        if known is not None and known[0] is cell:
            return known[1]
        content = fit_content(as_content(cell), width, column.align, column.cut)
        segments = [
            Segment(text, self.base + style.rich_style)
            for text, style in content.render(end="", parse_style=self.parse_style)
        ]
        if len(self.styled) >= STYLED_CELLS_MAX:
            self.styled.clear()
        self.styled[key] = (cell, segments)
        return segments


def as_content(cell: Cell) -> Content:
    """Converts a cell to Content whose text is safe for the terminal.

    Plain strings are always sanitized. Styled cells keep their styles when their text is
    already clean; otherwise they fall back to the sanitized plain text.
    """
    if isinstance(cell, str):
        return Content(sanitize_text(cell))
    content = Content.from_rich_text(cell) if isinstance(cell, Text) else cell
    clean = sanitize_text(content.plain)
    return content if clean == content.plain else Content(clean)


def fit_plain(text: str, width: int, align: str) -> str | None:
    """Pads clean plain text to exactly `width` cells; `None` when it needs the slow path
    (too wide, or characters that are not one cell each)."""
    length = len(text)
    if length > width or not text.isascii():
        return None
    if align == "right":
        return text.rjust(width)
    if align == "center":
        return text.center(width)
    return text.ljust(width)


def fit_content(content: Content, width: int, align: str, cut: Cut = "end") -> Content:
    """Cuts with an ellipsis (at the end, or in the middle for `cut="middle"`), then pads
    to exactly `width` cells."""
    if content.cell_length > width:
        plain = content.plain
        if cut == "middle" and plain.isascii() and width >= 3:
            shown = cut_middle(plain, width)
            head = shown.index("…")
            tail = width - 1 - head
            return content[:head] + Content("…") + content[len(plain) - tail :]
        return content.truncate(width, ellipsis=True)
    if align == "right":
        return content.pad_left(width - content.cell_length)
    if align == "center":
        return content.center(width)
    return content.pad_right(width - content.cell_length)
