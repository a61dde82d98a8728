"""Tests marks as in k9s, vim keys in lists, trees, the heatmap and the viewer, and `>`, the
sort-by-column picker (issue 12, items 8-10)."""

from __future__ import annotations

import random
import time

from batch_tui.ui.screens.help import HelpScreen, collect_keys
from batch_tui.ui.screens.pools import PoolsScreen
from batch_tui.ui.widgets.heatmap import NodeHeatmap
from batch_tui.ui.widgets.sort_picker import SortPicker
from batch_tui.ui.widgets.table_marks import TableMarks
from batch_tui.ui.widgets.table_rows import Column, RowData
from batch_tui.ui.widgets.virtual_table import VirtualTable
from tests.ui.jobs_fixtures import open_job, three_tasks
from tests.ui.support import pilot_settle
from tests.ui.widget_apps import (
    GeneratedSource,
    HeatmapApp,
    TableApp,
    ViewApp,
    first_cells,
    line_number,
    make_nodes,
    settle,
    task_row,
)

SEVEN = [
    Column("id", "Task"),
    Column("state", "State"),
    Column("exit", "Exit"),
    Column("retry", "Retry"),
    Column("node", "Node"),
    Column("ran", "Ran"),
    Column("changed", "Changed"),
]


def seven_rows(count: int) -> list[RowData]:
    """Rows whose Ran column sorts in the reverse of their order."""
    return [
        RowData(f"t{i}", (f"t{i}", "running", "0", "0", "n", f"{count - i}s", "1s"))
        for i in range(count)
    ]


async def test_space_marks_and_moves_down_v_marks_a_range_a_all_u_none() -> None:
    app = TableApp([task_row(i) for i in range(20)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("space", "space")
        assert table.marked_keys == ("task-0", "task-1") and table.cursor_key == "task-2"
        await pilot.press("j", "j", "j", "V")  # from the last mark (task-1) to the cursor
        assert table.marked_keys == tuple(f"task-{i}" for i in range(6))
        await pilot.press("U")
        assert table.marked_keys == ()
        await pilot.press("space", "G", "ctrl+@")  # k9s's ctrl+space: the same range
        assert len(table.marked_keys) == 20 - 5
        await pilot.press("ctrl+backslash")  # k9s's clear
        assert table.marked_keys == ()

        table.set_filter("task-1")  # task-1, task-10 .. task-19
        await pilot.press("A")
        assert len(table.marked_keys) == 11
        table.set_filter("")
        assert table.marked_keys[0] == "task-1" and len(table.marked_keys) == 11


async def test_vim_keys_move_the_table_cursor() -> None:
    app = TableApp([task_row(i) for i in range(100)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("j", "j", "k")
        assert table.cursor_key == "task-1"
        await pilot.press("G")
        assert table.cursor_key == "task-99" and first_cells(table)[-1] == "task-99"
        await pilot.press("g")
        assert table.cursor_key == "task-0" and first_cells(table)[0] == "task-0"


async def test_the_picker_sorts_by_any_column_in_two_keys() -> None:
    app = TableApp(seven_rows(12), SEVEN)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("greater_than_sign")
        assert isinstance(app.screen, SortPicker)
        prompts = [str(option.prompt) for option in app.screen.query_one("OptionList").options]
        assert prompts[5] == "6  Ran" and prompts[-1] == "0  original order"
        await pilot.press("6")
        assert table.sort_column == "ran" and not table.sort_reverse
        assert first_cells(table)[0] == "t11"
        await pilot.press("greater_than_sign", "6")  # the same column again: reversed
        assert table.sort_column == "ran" and table.sort_reverse
        await pilot.press("greater_than_sign", "escape")  # esc keeps the sort
        assert table.sort_column == "ran" and table.sort_reverse
        await pilot.press("greater_than_sign", "0")  # the original order
        assert table.sort_column is None and first_cells(table)[0] == "t0"
        await pilot.press("greater_than_sign", "j", "j", "enter")  # or move and enter
        assert table.sort_column == "exit"
        await pilot.press("greater_than_sign", "k", "enter")  # opens on the sorted column
        assert table.sort_column == "state"
        table.sort_by(None)
        await pilot.press("s")  # s still cycles
        assert table.sort_column == "id"


async def test_mark_all_of_100k_rows_and_keys_after_it_stay_fast() -> None:
    app = TableApp([task_row(i) for i in range(100_000)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("A")
        assert len(table.marked_keys) == 100_000
        started = time.perf_counter()
        for _ in range(50):  # what a status line asks on every cursor move
            assert len(table.marked_keys) == 100_000
        assert time.perf_counter() - started < 0.05  # remembered, not a pass per call
        await pilot.press("space")  # unmarks the first row
        # ... and updates the rows found in place: no new pass over 100,000 rows (20 ms).
        assert table._marks._valid(table.visible_keys) is not None
        assert len(table.marked_keys) == 99_999 and table.cursor_key == "task-1"


async def test_heatmap_vim_keys() -> None:
    app = HeatmapApp(make_nodes(500))
    async with app.run_test(size=(80, 24)) as pilot:
        heatmap = app.query_one(NodeHeatmap)
        await pilot.pause()
        columns = heatmap.columns
        await pilot.press("l", "l", "h")
        assert heatmap.cursor_index == 1
        await pilot.press("j")
        assert heatmap.cursor_index == 1 + columns
        await pilot.press("k")
        assert heatmap.cursor_index == 1
        await pilot.press("G")
        assert heatmap.cursor_index == 499
        await pilot.press("g")
        assert heatmap.cursor_index == 0


async def test_job_tasks_g_is_top_ctrl_g_goes_to_and_marks_show_at_80(
    emulator, seed_pool, seed_job, settle, make_app
):
    await three_tasks(seed_pool, seed_job, settle, emulator)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_job(app, pilot)
        await pilot.press("G", "g")
        assert screen.table.cursor_key == "t0" and app.screen is screen
        await pilot.press("A")
        await pilot_settle(pilot)
        assert "3 marked" in str(screen.query_one("#list-status").render())
        await pilot.press("greater_than_sign", "3")  # Exit
        await pilot_settle(pilot)
        assert screen.table.sort_column == "exit"
        assert "sorted by exit" in str(screen.query_one("#list-status").render())
        await pilot.press("ctrl+g")
        await pilot_settle(pilot)
        assert type(app.screen).__name__ == "PromptScreen"


async def test_help_lists_the_new_keys_with_their_ids(
    emulator, seed_pool, seed_job, settle, make_app
):
    await three_tasks(seed_pool, seed_job, settle, emulator)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_job(app, pilot)
        ids = {row.key: row.binding_id for row in collect_keys(screen)}
        assert ids["j"] == "table.down" and ids["g"] == "table.first" and ids["G"] == "table.last"
        assert ids["V"] == "table.mark-range" and ids["A"] == "table.mark-all"
        assert ids["U"] == "table.clear-marks" and ids[">"] == "table.sort-by"
        assert ids["^g"] == "tasks.go-to"
        await pilot.press("question_mark")
        await pilot_settle(pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_pool_tree_vim_keys(make_app, seed_pool):
    await seed_pool("pool-a", 1)
    await seed_pool("pool-b", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(PoolsScreen())
        await pilot_settle(pilot)
        tree = app.screen.pool_tree
        assert tree.cursor_line == 0
        await pilot.press("j")
        assert tree.cursor_line == 1
        await pilot.press("k")
        assert tree.cursor_line == 0
        await pilot.press("G")
        assert tree.cursor_line == tree.last_line
        await pilot.press("g")
        assert tree.cursor_line == 0


async def test_log_view_j_and_k_scroll() -> None:
    app = ViewApp(GeneratedSource(1_000_000))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        view = await settle(pilot)
        assert line_number(view.visible_lines[0]) == 0
        await pilot.press("j", "j", "j", "k")
        view = await settle(pilot)
        assert line_number(view.visible_lines[0]) == 2


def test_marks_found_once_then_updated_in_place_match_a_fresh_pass() -> None:
    view = [f"task-{i}" for i in range(2_000)]
    marks = TableMarks()
    chooser = random.Random(12)
    for step in range(1_000):
        index = chooser.randrange(len(view))
        if step % 3:
            marks.shown(view)  # remembered: the next toggle updates it
        marks.toggle(view[index], view, index)
        if step % 97 == 0:
            marks.mark_range(view, index)
        assert marks.shown(view) == tuple(key for key in view if key in marks.keys)
    other = list(reversed(view))  # a new view (a sort): found again, not updated
    assert marks.shown(other) == tuple(key for key in other if key in marks.keys)
