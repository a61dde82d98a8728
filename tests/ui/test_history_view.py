"""Tests the history's cells: a pool's trend with its bad nodes marked, the pool detail's lines,
a job's ETA."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from batch_tui.batch.models.job import TaskCounts
from batch_tui.ui.formatting import FAILED
from batch_tui.ui.history import History
from batch_tui.ui.history_view import job_eta, job_eta_short, pool_history_fields, pool_trend

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def sampled(offline_from: int | None = None, samples: int = 10) -> History:
    history = History()
    for index in range(samples):
        bad = offline_from is not None and index >= offline_from
        states = {"running": 2, "offline": 1} if bad else {"running": 2, "idle": 1}
        history.record_pools(START + timedelta(seconds=10 * index), {"p": states}, {"p": index})
    return history


def test_a_trend_without_bad_nodes_is_the_running_tasks_alone():
    assert pool_trend(None).plain == ""
    trend = pool_trend(sampled().pool("p"))
    assert trend.plain == "▁▂▃▄▅▅▆▇██" and "✗" not in trend.plain


def test_bad_nodes_come_first_marked_and_on_the_scale_of_the_pools_nodes():
    trend = pool_trend(sampled(offline_from=5).pool("p"))
    bad, tasks = trend.plain.split(" ")
    assert bad == "✗▁▁▄▄▄", "one node of three: a third high (3 steps of 7), after the first"
    assert tasks == "▁▂▃▄▅▅▆▇██"
    assert any(span.style == FAILED for span in trend.spans), "red as well as marked"


def test_the_pool_details_lines_show_the_bad_states_seen_first():
    assert pool_history_fields(None)[0][1].startswith("none yet")
    fields = dict(pool_history_fields(sampled(offline_from=5).pool("p")))
    labels = list(fields)
    assert labels == ["Samples", "✗ offline", "  running", "  idle", "  other", "Tasks running"]
    assert fields["Samples"] == "10 over 1m30s"
    assert str(fields["✗ offline"]).endswith(" 1") and str(fields["  idle"]).endswith(" 0")
    quiet = dict(pool_history_fields(sampled().pool("p")))
    assert not any("✗" in label for label in quiet), "no line for a bad state never seen"


def test_a_jobs_eta_from_its_completions():
    history = History()
    counts = TaskCounts(active=90, running=10, completed=0)
    assert job_eta(history, "j", counts) == "-"
    for minute, completed in enumerate((0, 10, 20)):
        history.record_jobs(START + timedelta(minutes=minute), {"j": completed})
    left = TaskCounts(active=90, running=10, completed=20)
    assert job_eta(history, "j", left) == "~10 min left at 10 tasks/min"
    assert job_eta_short(history, "j", left) == "~10m 10/m"
    assert job_eta(history, "j", TaskCounts()) == "-", "no task at all: neither done nor left"
    assert job_eta(history, "j", TaskCounts(completed=20)) == "done"
