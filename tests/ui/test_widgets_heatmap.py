"""Tests NodeHeatmap: legend counts, cursor movement, selection, 5,000 nodes at 80x24."""

from __future__ import annotations

from textual.app import App, ComposeResult

from batch_tui.ui.widgets.heatmap import CELL_WIDTH, NodeCell, NodeHeatmap, legend_entries
from tests.ui.widget_apps import HeatmapApp, make_nodes


def lines(heatmap: NodeHeatmap) -> list[str]:
    return [heatmap.render_line(y).text for y in range(heatmap.scrollable_content_region.height)]


def test_legend_counts_known_states_in_order_then_others() -> None:
    nodes = [NodeCell("a", "Idle"), NodeCell("b", "running"), NodeCell("c", "idle")]
    nodes.append(NodeCell("d", "zeta"))
    assert legend_entries(nodes) == [("running", 1), ("idle", 2), ("zeta", 1)]


async def test_5000_nodes_fit_and_scroll_at_80x24() -> None:
    app = HeatmapApp(make_nodes(5_000))
    async with app.run_test(size=(80, 24)) as pilot:
        heatmap = app.query_one(NodeHeatmap)
        await pilot.pause()
        shown = lines(heatmap)
        legend = shown[0] + shown[1]
        assert "● running 2,085" in legend and "✖ starttaskfailed 416" in legend
        assert "◐ newstate 416" in legend
        assert shown[2].startswith("▸ tvmps_0000") and shown[2].endswith("…")
        columns = heatmap.columns
        assert columns == heatmap.scrollable_content_region.width // CELL_WIDTH
        assert shown[3].split() == ["●"] * 5 + ["○"] * 3 + ["✖", "◌", "◐", "◐"] * 1 + (
            ["●"] * 5 + ["○"] * 3 + ["✖", "◌", "◐", "◐"]
        ) * 2 + ["●"] * (columns - 36)

        await pilot.press("end")
        assert heatmap.cursor_node == heatmap.nodes[-1]
        last_row = [line for line in lines(heatmap)[3:] if line.strip()][-1]
        assert len(last_row.split()) == 5_000 % columns
        assert heatmap.scroll_y == heatmap.max_scroll_y > 0


async def test_arrows_move_by_cell_and_row_and_enter_selects() -> None:
    nodes = make_nodes(500)
    app = HeatmapApp(nodes)
    async with app.run_test(size=(80, 24)) as pilot:
        heatmap = app.query_one(NodeHeatmap)
        await pilot.pause()  # the first layout settles whether a scrollbar takes a column
        columns = heatmap.columns
        await pilot.press("right", "right", "down", "left")
        assert heatmap.cursor_index == columns + 1
        await pilot.press("up", "up", "left", "left", "left")
        assert heatmap.cursor_index == 0
        await pilot.press("pagedown")
        assert heatmap.cursor_index > columns * 10
        await pilot.press("home", "enter")
        await pilot.pause()
        assert app.selected == [nodes[0].node_id]
        assert app.highlighted[0] == nodes[0].node_id
        assert nodes[columns + 1].node_id in app.highlighted


async def test_cursor_keeps_its_node_when_nodes_change() -> None:
    nodes = make_nodes(100)
    app = HeatmapApp(nodes)
    async with app.run_test(size=(80, 24)) as pilot:
        heatmap = app.query_one(NodeHeatmap)
        await pilot.press("right", "right", "right")
        heatmap.set_nodes(nodes[2:])
        assert heatmap.cursor_node == nodes[3]
        heatmap.set_nodes([])
        assert heatmap.cursor_node is None
        await pilot.press("enter")
        assert app.selected == []
        assert "no nodes" in lines(heatmap)[0]


async def test_click_moves_the_cursor_and_colours_follow_state() -> None:
    nodes = make_nodes(200)
    app = HeatmapApp(nodes)
    async with app.run_test(size=(80, 24)) as pilot:
        heatmap = app.query_one(NodeHeatmap)
        await pilot.click(NodeHeatmap, offset=(2 * CELL_WIDTH, 4))  # grid row 1 (header is 3)
        assert heatmap.cursor_index == heatmap.columns + 2
        failed = app.stylesheet.parse_style("ansi_red").rich_style.color
        failed_cell = list(heatmap.render_line(3))[2 * 8]  # the 9th node, starttaskfailed
        assert failed_cell.text == "✖" and failed_cell.style is not None
        assert failed_cell.style.color == failed


async def test_node_ids_with_escapes_are_sanitized() -> None:
    app = HeatmapApp([NodeCell("evil\x1b]52;c;eA==\x07", "idle\x1b[2J")])
    async with app.run_test(size=(80, 24)):
        text = "".join(lines(app.query_one(NodeHeatmap)))
        assert "\x1b" not in text and "\x07" not in text
        assert "evil␛]52;c;eA==␇" in text


class PrefilledApp(App[None]):
    def compose(self) -> ComposeResult:
        heatmap = NodeHeatmap()
        heatmap.set_nodes(make_nodes(3))
        yield heatmap


async def test_nodes_set_before_mount_render() -> None:
    app = PrefilledApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert lines(app.query_one(NodeHeatmap))[2].split() == ["●", "●", "●"]
