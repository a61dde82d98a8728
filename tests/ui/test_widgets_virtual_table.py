"""Tests VirtualTable through Pilot: cursor, scrolling, filter, sort, marks, updates."""

from __future__ import annotations

from textual.app import App, ComposeResult

from batch_tui.ui.widgets.table_filter import RowFilter
from batch_tui.ui.widgets.table_model import TableModel
from batch_tui.ui.widgets.table_rows import Column, RowData, fit_widths, plain
from batch_tui.ui.widgets.table_sort import text_string
from batch_tui.ui.widgets.virtual_table import VirtualTable
from tests.ui.widget_apps import COLUMNS, TableApp, first_cells, screen_text, task_row


async def test_100k_rows_scroll_filter_and_sort() -> None:
    app = TableApp([task_row(i) for i in range(100_000)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.pause()
        assert table.row_count == 100_000
        assert first_cells(table)[:2] == ["task-0", "task-1"]

        await pilot.press("end")
        assert table.cursor_key == "task-99999"
        assert first_cells(table)[-1] == "task-99999"
        await pilot.press("pageup")
        assert table.cursor_key == "task-99976"  # 23 rows per page under the header

        table.set_filter("node-4[29]$")  # nodes 42 and 49: 2 in every 50 rows
        assert table.row_count == 4_000
        assert all(table.get_row(key).cells[3].plain in ("node-42", "node-49")  # type: ignore[union-attr]
                   for key in table.visible_keys)  # fmt: skip

        table.set_filter("")
        table.sort_by("id", reverse=True)
        await pilot.press("home")
        assert first_cells(table)[:3] == ["task-99999", "task-99998", "task-99997"]

        table.sort_by("exit")
        exits = [int(plain(table.get_row(key).cells[2])) for key in table.visible_keys]  # type: ignore[union-attr]
        assert exits == sorted(exits)


async def test_cursor_keys_and_messages() -> None:
    app = TableApp([task_row(i) for i in range(100)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("down", "down", "up")
        assert table.cursor_key == "task-1"
        await pilot.press("pagedown")
        assert table.cursor_key == "task-24"
        assert first_cells(table)[-1] == "task-24"  # scrolled so the cursor shows
        await pilot.press("up")  # staying in view does not scroll
        assert first_cells(table)[-1] == "task-24"
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == ["task-23"]
        assert app.moved[-3:] == ["task-1", "task-24", "task-23"]


async def test_cursor_stays_on_its_row_through_updates_sort_and_filter() -> None:
    app = TableApp([task_row(i) for i in range(1_000)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        assert table.move_cursor("task-500")
        table.sort_by("id", reverse=True)
        assert table.cursor_key == "task-500"
        assert table.cursor_index == 499
        table.set_rows([task_row(i) for i in range(400, 1_200)])
        assert table.cursor_key == "task-500"
        table.update_rows([task_row(500, state="failed")])
        assert table.cursor_key == "task-500"
        assert "failed" in screen_text(table)[1 + table.cursor_index - round(table.scroll_y)]
        table.set_filter("failed|task-9")
        assert table.cursor_key == "task-500"
        table.set_filter("!task-5")
        assert table.cursor_key is not None and not table.cursor_key.startswith("task-5")
        await pilot.pause()


async def test_removing_the_cursor_row_moves_to_the_next() -> None:
    app = TableApp([task_row(i) for i in range(10)])
    async with app.run_test(size=(80, 24)):
        table = app.query_one(VirtualTable)
        table.move_cursor("task-4")
        table.remove_keys(["task-4", "missing"])
        assert table.cursor_key == "task-5"
        assert table.row_count == 9


async def test_update_rows_adds_new_rows_in_sorted_place() -> None:
    app = TableApp([task_row(i) for i in range(10)])
    async with app.run_test(size=(80, 24)):
        table = app.query_one(VirtualTable)
        table.sort_by("id")
        table.update_rows([task_row(15), task_row(5, state="preparing")])
        assert list(table.visible_keys[5:7]) == ["task-5", "task-6"]
        assert table.visible_keys[-1] == "task-15"
        assert table.get_row("task-5").cells[1] == "preparing"  # type: ignore[union-attr]


async def test_filter_never_raises_on_invalid_regex() -> None:
    app = TableApp(
        [RowData("a", ("node[1", "x", "0", "n")), RowData("b", ("node1", "y", "0", "n"))]
    )
    async with app.run_test(size=(80, 24)):
        table = app.query_one(VirtualTable)
        table.set_filter("node[1")
        assert list(table.visible_keys) == ["a"]
        table.set_filter("NODE1")
        assert list(table.visible_keys) == ["b"]
        table.set_filter("!node\\d")
        assert list(table.visible_keys) == ["a"]
        table.set_filter("!")
        assert table.row_count == 2


async def test_marks_toggle_and_survive_filters() -> None:
    app = TableApp([task_row(i) for i in range(20)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("space", "down", "space")  # space marks and moves down
        assert list(table.marked_keys) == ["task-0", "task-2"]
        await pilot.press("up")
        assert screen_text(table)[1].startswith("●")
        assert screen_text(table)[2].startswith(" ")
        table.set_filter("task-2")
        assert list(table.marked_keys) == ["task-2"]
        table.set_filter("")
        assert list(table.marked_keys) == ["task-0", "task-2"]
        await pilot.press("space")
        assert list(table.marked_keys) == ["task-0"]
        table.remove_keys(["task-0"])
        assert list(table.marked_keys) == []


async def test_s_cycles_sortable_columns_and_shows_an_arrow() -> None:
    columns = [Column("id", "ID"), Column("state", "State", sortable=False), Column("n", "N")]
    rows = [RowData(f"r{i}", (f"r{i}", "s", str(10 - i))) for i in range(10)]
    app = TableApp(rows, columns)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("s")
        assert table.sort_column == "id"
        await pilot.press("s")
        assert table.sort_column == "n"
        assert "N ▲" in screen_text(table)[0]
        assert first_cells(table)[0] == "r9"
        await pilot.press("S")
        assert table.sort_reverse and "N ▼" in screen_text(table)[0]
        await pilot.press("s")
        assert table.sort_column is None
        assert first_cells(table)[0] == "r0"


async def test_columns_fit_80_with_ellipsis_and_escapes_never_render() -> None:
    long_name = "pool-" + "x" * 200
    columns = [Column("id", "ID", max_width=30), Column("msg", "Message")]
    rows = [
        RowData("a", (long_name, "\x1b]52;c;ZXZpbA==\x07 \x1b[31mred")),
        RowData("b", ("b", "ok")),
    ]
    app = TableApp(rows, columns)
    async with app.run_test(size=(80, 24)):
        table = app.query_one(VirtualTable)
        lines = screen_text(table)
        width = table.scrollable_content_region.width
        assert all(len(line) == width for line in lines)
        assert "…" in lines[1]
        assert "\x1b" not in "".join(lines) and "\x07" not in "".join(lines)
        assert "␛]52;c;ZXZpbA==␇ red" in lines[1]


async def test_row_style_and_click() -> None:
    rows = [task_row(i) for i in range(30)]
    rows[3] = RowData("task-3", rows[3].cells, style="$error")
    app = TableApp(rows)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        error = app.stylesheet.parse_style("$error").rich_style.color
        styles = {segment.style.color for segment in table.render_line(4) if segment.style}
        assert error in styles
        await pilot.click(VirtualTable, offset=(5, 6))
        assert table.cursor_key == "task-5"


async def test_empty_table_has_no_cursor() -> None:
    app = TableApp([])
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("down", "enter", "space")
        assert table.cursor_key is None and app.selected == [] and table.marked_keys == ()
        assert screen_text(table)[0].split() == ["ID", "State", "Exit", "Node"]


def test_natural_sort_orders_numbers_by_value() -> None:
    values = ["node-10", "node-9", "Node-1", "", "2.5", "10", "-1"]
    assert sorted(values, key=text_string) == ["-1", "2.5", "10", "Node-1", "node-9", "node-10", ""]


def test_sort_values_override_text() -> None:
    model = TableModel(1)
    model.set_rows(
        [
            RowData("big", ("1.0 GiB",), sort_values=(2**30,)),
            RowData("small", ("900 MiB",), sort_values=(900 * 2**20,)),
        ]
    )
    model.sort_by(0)
    assert model.view == ["small", "big"]


def test_a_filter_inverts_and_falls_back_to_a_literal() -> None:
    keep = RowFilter("!a(")  # "a(" is no regex: matched as the text it is
    assert keep.invert and not keep.keeps("xa(y") and keep.keeps("xay")


def test_fit_widths_shrinks_widest_first_and_fills_the_rest() -> None:
    columns = [Column("a", "A"), Column("b", "B", width=5), Column("c", "C")]
    assert fit_widths(columns, [10, 0, 50], 40) == [10, 5, 25]
    assert fit_widths(columns, [4, 0, 4], 40) == [4, 5, 31]
    assert sum(fit_widths(columns, [100, 0, 100], 20)) == 20


class PrefilledApp(App[None]):
    """Fills the table before it is mounted, as a screen's compose may."""

    def compose(self) -> ComposeResult:
        table = VirtualTable(COLUMNS)
        table.set_rows([task_row(i) for i in range(100)])
        table.move_cursor("task-50")
        yield table


async def test_rows_set_before_mount_show_with_the_cursor_in_view() -> None:
    app = PrefilledApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        assert table.cursor_key == "task-50"
        assert "task-50" in first_cells(table)


async def test_rows_streaming_in_open_at_the_top_until_the_user_moves() -> None:
    app = TableApp([])
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        table.order_by_key()
        table.update_rows([task_row(i) for i in range(500, 600)])  # the first page to arrive
        table.update_rows([task_row(i) for i in range(100, 200)])  # an earlier part, later
        assert table.cursor_index == 0 and table.cursor_key == "task-100"
        assert first_cells(table)[0] == "task-100"
        await pilot.press("down")
        table.update_rows([task_row(i) for i in range(200, 300)])
        assert table.cursor_key == "task-101"  # placed by the user: it stays on its row
        table.set_rows([])
        table.update_rows([task_row(i) for i in range(700, 710)])
        assert table.cursor_key == "task-700"  # emptied, refilled: at the top again
