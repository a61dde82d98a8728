"""Tests the node timeline's layout: bars from recent tasks, windows, cells and the axis."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from batch_tui.batch.models.node import Node, RecentTask
from batch_tui.batch.models.task import NodeInfo, Task, TaskExecutionInfo
from batch_tui.ui.timeline import (
    ZOOM_STEPS,
    Bar,
    Timeline,
    Window,
    axis_line,
    bars_of,
    fit_window,
    lane_cells,
    lane_counts_text,
    visible,
)

T0 = datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def recent(task_id: str, start: float | None, end: float | None, result: str | None) -> RecentTask:
    info = TaskExecutionInfo(
        start_time=at(start) if start is not None else None,
        end_time=at(end) if end is not None else None,
        result=result,
    )
    state = "completed" if end is not None else "running"
    return RecentTask(job_id="job-1", task_id=task_id, task_state=state, execution_info=info)


def node(node_id: str, *tasks: RecentTask, state: str = "idle") -> Node:
    return Node(id=node_id, state=state, recent_tasks=tasks)


def test_bars_come_from_recent_tasks_that_started():
    bars = bars_of(
        node(
            "n1",
            recent("ok", 0, 10, "success"),
            recent("bad", 10, 12, "failure"),
            recent("now", 12, None, None),
            recent("never", None, None, None),
        )
    )
    assert [(b.task_id, b.outcome, b.end is None) for b in bars] == [
        ("ok", "success", False),
        ("bad", "failure", False),
        ("now", "running", True),
    ]


def test_merging_keeps_bars_a_node_no_longer_lists_and_drops_gone_nodes():
    timeline = Timeline()
    timeline.merge([node("n2"), node("n1", recent("a", 0, 5, "success"))])
    timeline.merge([node("n1", recent("b", 5, 9, "failure"), state="running")])
    assert list(timeline.lanes) == ["n1"]
    lane = timeline.lanes["n1"]
    assert set(lane.bars) == {("job-1", "a"), ("job-1", "b")} and lane.state == "running"
    assert lane_counts_text(lane) == "1 ok 1 ✗"


def test_cells_show_the_worst_outcome_and_a_short_failure_keeps_its_cell():
    window = Window(at(100), 10, 10)  # 10:00:00 .. 10:01:40, 10 s a cell
    bars = [
        Bar("j", "ok", at(0), at(40), "success"),
        Bar("j", "blip", at(41), at(42), "failure"),
        Bar("j", "ok2", at(42), at(59), "success"),
        Bar("j", "run", at(80), None, "running"),
    ]
    assert lane_cells(bars, window, now=at(100)) == "████╳█  ▓▓"
    assert lane_cells([], window, now=at(100)) == " " * 10


def test_bars_outside_the_window_are_not_drawn():
    window = Window(at(100), 10, 5)  # 10:00:50 .. 10:01:40
    bars = [
        Bar("j", "old", at(0), at(20), "failure"),
        Bar("j", "later", at(200), at(300), "success"),
    ]
    assert lane_cells(bars, window, now=at(400)) == "     "


def test_fit_window_picks_the_smallest_zoom_that_holds_every_bar():
    timeline = Timeline()
    timeline.merge([node("n1", recent("a", 0, 30, "success"))])
    window = fit_window(timeline, at(600), 50)
    assert window.cell_seconds == 15 and window.start <= at(0) and window.end == at(600)
    assert window.zoomed(1).cell_seconds == 30 and window.zoomed(-100).cell_seconds == 1
    assert window.scrolled(-4).end == at(540)


@given(st.lists(st.tuples(st.floats(0, 5000), st.floats(0, 600)), max_size=30),
       st.integers(1, 200), st.sampled_from(ZOOM_STEPS), st.floats(-3000, 8000))  # fmt: skip
def test_a_lane_is_always_as_wide_as_its_window(spans, cells, step, end):
    bars = [Bar("j", str(i), at(s), at(s + d), "success") for i, (s, d) in enumerate(spans)]
    window = Window(at(end), step, cells)
    assert len(lane_cells(bars, window, now=at(9000))) == cells
    assert len(axis_line(window)) <= cells


def test_axis_labels_the_times_of_their_cells():
    # 32 cells of 10 s from 10:00:00; labels 9 cells wide, at least two apart.
    line = axis_line(Window(at(320), 10, 32), label_every=8)
    assert line == "┊10:00:00  ┊10:01:50  ┊10:03:40"


def test_only_the_visible_lanes_are_taken():
    lanes = list(range(1000))
    assert list(visible(lanes, 990, 20)) == list(range(990, 1000))  # type: ignore[arg-type]
    assert list(visible(lanes, 10, 3)) == [10, 11, 12]  # type: ignore[arg-type]


def task(task_id: str, node_id: str, start: float | None, end: float | None, result: str | None,
         pool_id: str = "pool") -> Task:  # fmt: skip
    info = TaskExecutionInfo(
        start_time=None if start is None else at(start),
        end_time=None if end is None else at(end),
        result=result,
    )
    state = "completed" if end is not None else "running"
    return Task(id=task_id, state=state, execution_info=info,
                node_info=NodeInfo(pool_id=pool_id, node_id=node_id))  # fmt: skip


def test_a_job_s_task_list_adds_the_bars_a_node_no_longer_lists():
    timeline = Timeline()
    timeline.merge([node("n1", recent("t9", 90, 95, "success")), node("n2")])
    added = timeline.merge_tasks(
        "pool",
        "job",
        [
            task("t1", "n1", 10, 20, "failure"),  # before the node's recent tasks
            task("t2", "n2", 30, None, None),  # running on the other node
            task("t3", "n3", 30, 40, "success"),  # a node that left the pool: no lane
            task("t4", "n1", 50, 60, "success", pool_id="other"),  # another pool's node
            task("t5", "n1", None, None, None),  # never started
        ],
    )
    assert added == 2
    bars = timeline.lanes["n1"].bars
    assert bars[("job", "t1")].outcome == "failure" and ("job-1", "t9") in bars
    assert timeline.lanes["n2"].bars[("job", "t2")].outcome == "running"
    assert "n3" not in timeline.lanes
