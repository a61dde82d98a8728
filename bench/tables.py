"""Renders benchmark results as plain-text (markdown) tables with a budget and a verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

PASS = "PASS"
MISS = "MISS"


def verdict(ok: bool) -> str:
    """Returns PASS or MISS."""
    return PASS if ok else MISS


@dataclass
class Table:
    """One benchmark's table: a title, columns, rows of cells and notes under it."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([_cell(cell) for cell in cells])

    def render(self) -> str:
        widths = [len(column) for column in self.columns]
        for row in self.rows:
            widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
        lines = [f"### {self.title}", "", _line(self.columns, widths)]
        lines.append("| " + " | ".join("-" * width for width in widths) + " |")
        lines += [_line(row, widths) for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    @property
    def misses(self) -> int:
        return sum(row.count(MISS) for row in self.rows)


def _line(cells: list[str], widths: list[int]) -> str:
    return (
        "| "
        + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        + " |"
    )


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
