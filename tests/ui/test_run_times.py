"""Tests the run-time math: runs from tasks, percentiles, buckets, outliers and the drawing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch_tui.batch.models.task import NodeInfo, Task, TaskExecutionInfo
from batch_tui.ui.run_times import (
    MAX_OUTLIERS,
    SLOWEST,
    RunTime,
    RunTimes,
    histogram_lines,
    outlier_nodes,
    run_time,
    summary_line,
)
from batch_tui.ui.sparkline import BLOCKS

START = datetime(2026, 1, 1, tzinfo=timezone.utc)

seconds_lists = st.lists(
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=300,
)


def runs_of(seconds: list[float], node: str = "tvm-1") -> RunTimes:
    return RunTimes(RunTime(f"t{i}", value, node) for i, value in enumerate(seconds))


def task(state: str, start: int | None, end: int | None, result: str = "success") -> Task:
    info = TaskExecutionInfo(
        start_time=START + timedelta(seconds=start) if start is not None else None,
        end_time=START + timedelta(seconds=end) if end is not None else None,
        exit_code=0 if result == "success" else 1,
        result=result,
    )
    return Task(id="t", state=state, execution_info=info, node_info=NodeInfo(node_id="tvm-2"))


def test_a_completed_tasks_run_is_end_minus_start_on_its_node():
    run = run_time(task("completed", 10, 75, result="failure"))
    assert run is not None
    assert (run.seconds, run.node_id, run.failed, run.exit_code) == (65.0, "tvm-2", True, 1)


@pytest.mark.parametrize(
    ("state", "start", "end"), [("running", 10, None), ("completed", None, 20), ("active", 1, 2)]
)
def test_tasks_without_a_finished_run_have_no_run_time(state, start, end):
    assert run_time(task(state, start, end)) is None


def test_percentiles_are_nearest_rank():
    runs = runs_of([float(value) for value in range(1, 101)])
    assert runs.percentile(50) == 50
    assert runs.percentile(90) == 90
    assert runs.percentile(99) == 99
    assert runs.percentile(100) == 100
    summary = runs.summary()
    assert summary is not None and (summary.count, summary.max) == (100, 100)
    with pytest.raises(ValueError, match="no run times"):
        RunTimes([]).percentile(50)


@given(seconds_lists, st.floats(min_value=0.01, max_value=100), st.floats(0.01, 100))
def test_percentiles_are_monotone(seconds, q1, q2):
    runs = runs_of(seconds)
    low, high = sorted((q1, q2))
    assert runs.percentile(low) <= runs.percentile(high)
    assert min(seconds) <= runs.percentile(low) <= max(seconds)


@given(seconds_lists, st.integers(min_value=1, max_value=70))
def test_buckets_cover_every_run_once_in_order(seconds, count):
    runs = runs_of(seconds)
    buckets = runs.buckets(count)
    assert sum(bucket.count for bucket in buckets) == len(seconds)
    assert 1 <= len(buckets) <= count
    assert buckets[0].low == pytest.approx(min(seconds), abs=1e-6, rel=1e-9)
    assert buckets[-1].high == pytest.approx(max(seconds), abs=1e-6, rel=1e-9)
    for before, after in zip(buckets, buckets[1:], strict=False):
        assert before.high == after.low and before.low <= before.high


def test_a_wide_spread_is_bucketed_on_a_log_scale():
    # 1,000 runs of 10 s and one of 5 hours: linear buckets would put all but one in the first.
    runs = runs_of([10.0] * 1000 + [12.0] * 100 + [18_000.0])
    assert runs.log_scaled()
    buckets = runs.buckets(10)
    widths = [bucket.high - bucket.low for bucket in buckets]
    assert widths == sorted(widths) and widths[-1] > 10 * widths[0]
    narrow = runs_of([10.0, 12.0, 30.0])
    assert not narrow.log_scaled()
    assert [bucket.count for bucket in narrow.buckets(2)] == [2, 1]


def test_equal_runs_make_one_bucket():
    assert [(b.low, b.high, b.count) for b in runs_of([5.0] * 7).buckets(10)] == [(5.0, 5.0, 7)]


def test_outliers_are_the_slowest_and_those_far_beyond_the_median():
    seconds = [60.0] * 200 + [61.0] * 100 + [400.0, 900.0]
    runs = RunTimes(
        [RunTime(f"t{i}", value, "tvm-1") for i, value in enumerate(seconds[:-2])]
        + [RunTime("slow-1", 400.0, "tvm-9"), RunTime("slow-2", 900.0, "tvm-9")]
    )
    outliers = runs.outliers()
    assert len(outliers) == SLOWEST
    assert [o.run.task_id for o in outliers[:2]] == ["slow-2", "slow-1"]
    assert outliers[0].why == ">3× median >p99" and outliers[0].times_median == 15.0
    assert outliers[-1].why == f"slowest {SLOWEST}"
    seconds_shown = [o.run.seconds for o in outliers]
    assert seconds_shown == sorted(seconds_shown, reverse=True)
    assert outlier_nodes(outliers[:5]) == [("tvm-1", 3), ("tvm-9", 2)]


@given(seconds_lists)
def test_every_run_beyond_both_bounds_is_an_outlier(seconds):
    runs = runs_of(seconds)
    summary = runs.summary()
    assert summary is not None
    listed = {o.run.task_id for o in runs.outliers()}
    beyond = [r for r in runs.runs if r.seconds > summary.p99 or r.seconds > 3 * summary.median]
    assert len(listed) >= min(len(beyond), MAX_OUTLIERS)
    assert len(listed) >= min(SLOWEST, len(seconds))


def test_histogram_draws_bars_with_blocks_an_axis_and_labels():
    runs = runs_of([10.0] * 40 + [20.0] * 10 + [30.0])
    lines = histogram_lines(runs.buckets(3), width=40, height=4)
    assert len(lines) == 6
    assert lines[0].startswith("40 │")
    bars = [line.split("│", 1)[1] for line in lines[:4]]
    assert all(column == "█" for column in (bar[:1] for bar in bars))  # the tallest: full
    # The single slowest run is still drawn: at least an eighth of a cell on the bottom row.
    assert bars[-1].rstrip()[-1] in BLOCKS
    assert "└" in lines[4]
    assert lines[5].strip().startswith("10s") and lines[5].rstrip().endswith("30s")
    assert all(len(line) <= 40 for line in lines)


@given(seconds_lists, st.integers(min_value=20, max_value=200))
def test_histogram_fits_its_width(seconds, width):
    runs = runs_of(seconds)
    lines = histogram_lines(runs.buckets(max(width - 12, 1)), width=width, height=4)
    assert all(len(line) <= width for line in lines)


def test_summary_line_names_the_numbers():
    runs = runs_of([float(value) for value in range(1, 101)])
    assert summary_line(runs.summary(), log=True) == (
        "100 runs · median 50s · p90 1m30s · p99 1m39s · max 1m40s · log scale"
    )
    assert summary_line(None, log=False).startswith("No completed tasks")
