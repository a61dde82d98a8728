"""Tests sparklines: heights from counts, the newest on the right, spikes kept."""

from __future__ import annotations

from batch_tui.ui.sparkline import BLOCKS, bucketed, sparkline


def test_heights_scale_to_the_largest_value():
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8) == "▁▂▃▄▅▆▇█"
    assert sparkline([2, 4], 8) == "▅█"


def test_zero_is_the_lowest_block_and_one_is_always_above_it():
    assert sparkline([0, 0, 0], 5) == "▁▁▁"
    line = sparkline([0, 1, 1000], 3)
    assert line[0] == BLOCKS[0] and line[1] == BLOCKS[1] and line[2] == BLOCKS[-1]


def test_a_shared_top_puts_several_lines_on_one_scale():
    assert sparkline([1, 2], 2, top=8) == "▂▃"
    assert sparkline([9], 1, top=8) == "█", "a value over the top is a full block"


def test_nothing_to_draw():
    assert sparkline([], 10) == ""
    assert sparkline([1, 2], 0) == ""


def test_more_values_than_cells_keep_each_runs_peak():
    values = [0] * 20
    values[7] = 9
    assert bucketed(values, 5) == [0, 9, 0, 0, 0]
    assert len(sparkline(list(range(1000)), 40)) == 40
    assert sparkline(values, 5) == "▁█▁▁▁", "a one-sample spike stays in view"
