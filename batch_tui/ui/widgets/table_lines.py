"""Provides TableLines: a VirtualTable's header and row lines as strips, drawn once and cached.

Lines are cached by row key, width, cursor and mark: a cursor move draws only the two rows
whose cursor flag changed, and a scroll only the rows scrolled in. The widget says when the
rows, its size or its styles changed (`forget`, `forget_lines`, `forget_styles`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.style import Style as RichStyle
from textual.app import App
from textual.cache import LRUCache
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget

from batch_tui.ui.formatting import Colors, terminal_style
from batch_tui.ui.widgets.table_cells import CellLine, StyledCells
from batch_tui.ui.widgets.table_model import TableModel
from batch_tui.ui.widgets.table_rows import Cell, Column, RowData, fit_widths

MARK_GLYPH = "●"
"""Shown in the one-cell gutter left of a marked row."""

_SORT_ARROWS = {False: " ▲", True: " ▼"}


@dataclass(frozen=True)
class LineStyles:
    """The widget's styles lines are drawn with (they change with focus and the theme)."""

    base: RichStyle
    header: RichStyle
    marked: RichStyle
    cursor: RichStyle
    parse: Callable[[str | Style], Style]
    """Parses style strings with the app's theme variables ("$error")."""

    @classmethod
    def of(cls, widget: Widget, prefix: str) -> LineStyles:
        """The styles of `widget` now: its own, and its `<prefix>--header`, `--marked` and
        `--cursor` component classes."""
        parse = widget.app.stylesheet.parse_style
        colors = terminal_colors(widget.app)
        return cls(
            base=widget.rich_style,
            header=widget.get_component_rich_style(f"{prefix}--header"),
            marked=widget.get_component_rich_style(f"{prefix}--marked", partial=True),
            cursor=widget.get_component_rich_style(f"{prefix}--cursor"),
            parse=parse if colors == "full" else _parse_for(parse, colors),
        )


def terminal_colors(app: App[object]) -> Colors:
    """What the app's terminal shows: "none" with `NO_COLOR`, "16" on a 16-colour terminal
    (`TERM=xterm`), else "full".

    Headless (tests, screenshots), the app draws for a full-colour terminal whatever `TERM`
    the shell that runs it has, so that snapshots are the same everywhere.
    """
    if app.no_color:
        return "none"
    if not app.is_headless and app.console.color_system in ("standard", "windows"):
        return "16"
    return "full"


def _parse_for(
    parse: Callable[[str | Style], Style], colors: Colors
) -> Callable[[str | Style], Style]:
    """Parses styles as `parse` does, after `terminal_style` made them fit the terminal."""

    def parse_for_terminal(style: str | Style) -> Style:
        return parse(terminal_style(style, colors) if isinstance(style, str) else style)

    return parse_for_terminal


class TableLines:
    """Draws and caches the lines of one table.

    Args:
        columns: The table's columns.
        model: Its rows, in the order shown.
    """

    def __init__(self, columns: Sequence[Column], model: TableModel) -> None:
        self.columns = columns
        self.model = model
        self._lines: LRUCache[tuple[str, int, bool, bool], Strip] = LRUCache(256)
        self._widths: tuple[tuple[int, tuple[int, ...]], list[int]] | None = None
        self._styled: StyledCells = {}

    def forget(self) -> None:
        """The rows or the size changed: widths and lines are worked out again."""
        self._widths = None
        self._lines.clear()

    def forget_lines(self) -> None:
        """The look of every line changed (focus): they are drawn again."""
        self._lines.clear()

    def forget_styles(self) -> None:
        """The theme changed: styled cells are drawn again too."""
        self._lines.clear()
        self._styled.clear()

    def header(self, width: int, styles: LineStyles) -> Strip:
        """The header line: the labels, with an arrow on the sorted column."""
        labels: list[Cell] = []
        for index, column in enumerate(self.columns):
            sorted_here = index == self.model.sort_column
            labels.append(
                column.label + (_SORT_ARROWS[self.model.sort_reverse] if sorted_here else "")
            )
        return self._draw(labels, width, styles.header, None, styles)

    def row(
        self, key: str, width: int, cursor: bool, marked: bool, styles: Callable[[], LineStyles]
    ) -> Strip:
        """The line of the row with this key (`styles` is asked only to draw a new line)."""
        cache_key = (key, width, cursor, marked)
        strip = self._lines.get(cache_key)
        if strip is None:
            strip = self._draw_row(self.model.rows[key], width, cursor, marked, styles())
            self._lines[cache_key] = strip
        return strip

    def _draw_row(
        self, row: RowData, width: int, cursor: bool, marked: bool, styles: LineStyles
    ) -> Strip:
        base = styles.base
        if row.style:
            base += styles.parse(row.style).rich_style
        if marked:
            base += styles.marked
        post = styles.cursor if cursor else None
        gutter = MARK_GLYPH if marked else " "
        if row.span is not None:
            # One column as wide as the line: the gutter, a space, then the text.
            whole = (Column("span", "", cut="end"),)
            line = CellLine(whole, (max(0, width - 2),), base, styles.parse, self._styled)
            return line.render((row.span,), width, post, gutter)
        return self._draw(row.cells, width, base, post, styles, gutter)

    def _draw(
        self,
        cells: Sequence[Cell],
        width: int,
        base: RichStyle,
        post: RichStyle | None,
        styles: LineStyles,
        gutter: str = " ",
    ) -> Strip:
        line = CellLine(self.columns, self._column_widths(width), base, styles.parse, self._styled)
        return line.render(cells, width, post, gutter)

    def _column_widths(self, width: int) -> list[int]:
        """Column widths for this width, cached until rows or the size change."""
        natural = list(self.model.natural_widths)
        sorted_index = self.model.sort_column
        if sorted_index is not None:
            # Room for the sort arrow, so that the header label is not cut.
            label = self.columns[sorted_index].label
            natural[sorted_index] = max(natural[sorted_index], len(label) + 2)
        signature = (width, tuple(natural))
        if self._widths is None or self._widths[0] != signature:
            available = width - 1 - len(self.columns)
            self._widths = (signature, fit_widths(self.columns, natural, available))
        return self._widths[1]
