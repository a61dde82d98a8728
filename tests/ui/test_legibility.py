"""Tests legibility at 80x24, in 16 colours and with NO_COLOR: ids cut where they differ,
columns that take the width they need, failures that stand out, the screen's own keys."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style as RichStyle
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType

from batch_tui.batch.models.job import TaskCounts
from batch_tui.ui.formatting import FAILED, cut_middle, terminal_style
from batch_tui.ui.node_counts import states_cell
from batch_tui.ui.screens.job_detail import tasks_line
from batch_tui.ui.widgets.key_bar import KeyBar
from batch_tui.ui.widgets.table_cells import CellLine
from batch_tui.ui.widgets.table_rows import Column, RowData, fit_widths
from batch_tui.ui.widgets.virtual_table import VirtualTable

NODE_IDS = [
    "tvmps_02d8f3c1a9b4e5d6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2_d",
    "tvmps_02d8f3c1a9b4e5d6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1b3_d",
]


def test_two_node_ids_cut_in_the_middle_still_differ() -> None:
    cut = [cut_middle(node_id, 12) for node_id in NODE_IDS]
    assert cut[0] != cut[1] and all(len(text) == 12 and "…" in text for text in cut)
    assert cut_middle("short", 12) == "short"
    line = CellLine([Column("id", "Node", cut="middle")], [12], RichStyle(), None)  # type: ignore[arg-type]
    texts = ["".join(s.text for s in line.render((i,), 14, None, " ")) for i in NODE_IDS]
    assert texts[0] != texts[1] and texts[0].strip().endswith("0f1a2_d")


def test_spare_width_goes_to_cut_columns_not_to_a_right_aligned_last_one() -> None:
    columns = [
        Column("id", "Node", max_width=30, cut="middle"),
        Column("ip", "IP", min_width=7, cut="never"),
        Column("age", "Age", align="right"),
    ]
    wide = fit_widths(columns, [72, 15, 3], 190)
    assert wide == [72, 15, 3]  # the id shows whole; the rest stays blank at the line's end
    narrow = fit_widths(columns, [72, 15, 3], 30)
    assert narrow[1] == 15  # an IP address is never cut
    assert sum(narrow) == 30


def test_no_color_makes_failures_bold_and_reversed_and_drops_colours() -> None:
    assert set(terminal_style(FAILED, "none").split()) == {"bold", "reverse"}
    assert terminal_style("ansi_bright_black", "none") == ""
    assert terminal_style("dim", "none") == ""
    assert terminal_style(FAILED, "full") == FAILED


def test_sixteen_colours_keep_failures_red_and_transitions_yellow() -> None:
    # Textual's palette turns ansi_red into a pink that 16 colours show as magenta.
    assert terminal_style(FAILED, "16") == "$error"
    assert terminal_style("bold ansi_yellow", "16") == "bold ansi_bright_yellow"


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        table = VirtualTable([Column("id", "ID"), Column("state", "State")])
        table.set_rows(
            [RowData("ok", ("ok", "running")), RowData("bad", ("bad", "failed"), style=FAILED)]
        )
        yield table


async def test_a_failed_row_is_reversed_with_no_color() -> None:
    app = TableApp()
    app.no_color = True
    async with app.run_test(size=(40, 6)):
        table = app.query_one(VirtualTable)
        bad = [segment.style for segment in table.render_line(2) if segment.text.strip()]
        good = [segment.style for segment in table.render_line(1) if segment.text.strip()]
        assert all(style is not None and style.reverse and style.bold for style in bad)
        assert not any(style is not None and style.reverse for style in good)


class Keys(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="table.select"),
        Binding("space", "mark", "Mark", id="table.mark"),
        Binding("escape", "back", "Back", id="screen.back"),
        Binding("r", "refresh", "Refresh", id="screen.refresh"),
        Binding("p", "pause", "Pause", id="screen.pause"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("h", "heatmap", "Heatmap", id="nodes.heatmap"),
        Binding("b", "reboot", "Reboot", id="node.reboot"),
    ]

    def compose(self) -> ComposeResult:
        yield KeyBar()


async def test_a_short_bar_shows_the_screens_own_keys_and_help_first() -> None:
    app = Keys()
    async with app.run_test(size=(50, 4)) as pilot:
        await pilot.pause()
        line = "".join(segment.text for segment in app.query_one(KeyBar).render_line(0))
        assert line.startswith(" h Heatmap  b Reboot  ? Help ")
        assert "Pause" not in line


def test_the_pool_row_shows_bad_node_states_ahead_of_running() -> None:
    cell = states_cell({"running": 30, "offline": 1, "starttaskfailed": 2, "unusable": 1})
    assert cell.plain == "2 starttaskfailed 1 unusable 1 offline 30 running"


def test_the_job_header_puts_failed_and_running_before_active() -> None:
    counts = TaskCounts(active=80_000, running=5_678, completed=12_345, failed=1_234)
    plain = tasks_line(counts, "full").plain
    assert plain.index("failed") < plain.index("running") < plain.index("active")
    # At 80 columns (a 14-cell label and a padding cell), running and failed stay in view.
    assert plain.index("running") + len("running") <= 80 - 15
    failed = tasks_line(counts, "none")
    assert any("reverse" in str(span.style) for span in failed.spans)
