"""Tests CellLine's rendering of styled cells: shared cells render once, never confused."""

from __future__ import annotations

from rich.style import Style as RichStyle
from textual.content import Content
from textual.style import Style

from batch_tui.ui.widgets.table_cells import CellLine, StyledCells
from batch_tui.ui.widgets.table_rows import Column

COLUMNS = [Column("id", "ID"), Column("state", "State")]


def parse(style: str | Style) -> Style:
    return Style.parse(style) if isinstance(style, str) else style


def line(styled: StyledCells) -> CellLine:
    return CellLine(COLUMNS, [8, 9], RichStyle(), parse, styled)


def test_a_shared_styled_cell_renders_once_and_lookalikes_are_not_confused() -> None:
    styled: StyledCells = {}
    running = Content.styled("running", "bold green")
    failed_look = Content.styled("running", "bold red")  # equal text, other style
    first = line(styled).render(("task-1", running), 20, None, " ")
    second = line(styled).render(("task-2", running), 20, None, " ")
    other = line(styled).render(("task-3", failed_look), 20, None, " ")
    assert len(styled) == 2
    assert first.text == "  task-1   running  " and second.text.startswith("  task-2 ")
    assert colours(other) == {"#ff0000"}
    assert colours(second) == {"#008000"}


def colours(strip: object) -> set[str]:
    return {seg.style.color.name for seg in strip if seg.style and seg.style.color}  # type: ignore[attr-defined]
