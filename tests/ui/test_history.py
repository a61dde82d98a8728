"""Tests the history's rings, the rate of completions and the ETA in words."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from batch_tui.ui.history import (
    JOB_FIELDS,
    POOL_FIELDS,
    History,
    Rate,
    Ring,
    eta_short,
    eta_text,
    job_rate,
    pool_sample,
)

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
T0 = int(START.timestamp())


def test_a_ring_keeps_only_its_newest_samples_in_a_fixed_array():
    ring = Ring(("completed",), capacity=5)
    size = ring.nbytes
    for index in range(12):
        ring.append(T0 + index * 10, [index])
    assert len(ring) == 5
    assert ring.values("completed") == [7, 8, 9, 10, 11]
    assert ring.times() == [T0 + index * 10 for index in range(7, 12)]
    assert ring.nbytes == size, "appending never grows the array"


def test_a_sample_in_the_same_second_replaces_the_last():
    ring = Ring(("completed",), capacity=5)
    ring.append(T0, [1])
    ring.append(T0, [3])
    ring.append(T0 - 5, [4])  # the clock went back: still no second sample
    assert ring.times() == [T0] and ring.values("completed") == [4]


def test_values_are_clamped_to_unsigned_ints():
    ring = Ring(("a", "b"), capacity=2)
    ring.append(T0, [-3, 2**40])
    assert ring.values("a") == [0] and ring.values("b") == [2**32 - 1]


def test_a_ring_wants_a_value_per_field():
    with pytest.raises(ValueError, match="expected 2 values"):
        Ring(("a", "b")).append(T0, [1])


def test_dump_and_load_keep_the_samples_in_order_after_wrapping():
    ring = Ring(("a", "b"), capacity=4)
    for index in range(7):
        ring.append(T0 + index, [index, index * 2])
    again = Ring.load(("a", "b"), ring.dump(), capacity=4)
    assert again.times() == ring.times() and again.values("b") == [6, 8, 10, 12]
    smaller = Ring.load(("a", "b"), ring.dump(), capacity=2)
    assert smaller.values("a") == [5, 6], "a smaller ring keeps the newest"
    with pytest.raises(ValueError):
        Ring.load(("a", "b"), ring.dump()[:-4])


def test_a_pools_sample_names_the_bad_states_and_adds_up_the_others():
    states = {"idle": 2, "running": 3, "offline": 1, "starting": 4, "rebooting": 1}
    sample = dict(zip(POOL_FIELDS, pool_sample(states, running_tasks=7), strict=True))
    assert sample == {
        "idle": 2, "running": 3, "starttaskfailed": 0, "unusable": 0, "offline": 1,
        "unknown": 0, "other": 5, "tasks": 7,
    }  # fmt: skip


def test_the_history_samples_pools_and_jobs_and_drops_the_stalest_ring():
    history = History(capacity=10, max_series=2)
    history.record_pools(START, {"p1": {"idle": 1}, "p2": {"running": 2}}, {"p2": 5})
    history.record_pools(START + timedelta(seconds=10), {"p1": {"idle": 2}}, {})
    history.record_pools(START + timedelta(seconds=20), {"p3": {"offline": 1}}, {})
    assert set(history.pools) == {"p1", "p3"}, "p2 was sampled longest ago"
    ring = history.pool("p1")
    assert ring is not None and ring.values("idle") == [1, 2]
    history.record_jobs(START, {"j1": 4})
    job = history.job("j1")
    assert job is not None and job.fields == JOB_FIELDS and job.latest("completed") == 4
    loaded = History.load(history.dump(), capacity=10)
    reloaded = loaded.pool("p3")
    assert reloaded is not None and reloaded.values("offline") == [1]
    assert loaded.job("j1") is not None


def test_a_dump_of_other_fields_is_left_out():
    history = History()
    history.record_jobs(START, {"j1": 4})
    dumped = history.dump()
    dumped["job_fields"] = ["completed", "failed"]
    assert History.load(dumped).jobs == {}


def completions(*pairs: tuple[int, int]) -> Ring:
    ring = Ring(JOB_FIELDS)
    for seconds, completed in pairs:
        ring.append(T0 + seconds, [completed])
    return ring


def test_the_rate_is_measured_over_the_recent_window():
    assert job_rate(None) is None
    assert job_rate(completions((0, 0))) is None, "one sample: no rate yet"
    assert job_rate(completions((0, 0), (2, 10))) is None, "two seconds apart: noise"
    ring = completions((0, 0), (60, 100), (1200, 1000), (1260, 1060), (1800, 1600))
    rate = job_rate(ring, window=600)
    assert rate == Rate(per_minute=(1600 - 1000) * 60 / 600, span_seconds=600)
    sparse = job_rate(completions((0, 0), (3600, 600)), window=600)
    assert sparse is not None and sparse.per_minute == 10, (
        "one sample in the window: the one before"
    )


def test_the_eta_in_words():
    assert eta_text(None, 100) == "-"
    assert eta_text(Rate(212, 600), 0) == "done"
    assert eta_text(Rate(0, 600), 10) == "stalled (0 tasks/min)"
    assert eta_text(Rate(212, 600), 2968) == "~14 min left at 212 tasks/min"
    assert eta_text(Rate(212, 600), 100) == "<1 min left at 212 tasks/min"
    assert eta_text(Rate(2.5, 600), 600) == "~4.0 h left at 2.5 tasks/min"
    assert eta_text(Rate(0.5, 600), 100_000) == "~138.9 days left at 0.5 tasks/min"
    assert eta_text(Rate(1_500, 600), 3_000_000) == "~33.3 h left at 1,500 tasks/min"


def test_the_short_eta_fits_a_narrow_column():
    assert eta_short(None, 5) == "-"
    assert eta_short(Rate(212, 600), 0) == "done"
    assert eta_short(Rate(0, 600), 5) == "stalled"
    assert eta_short(Rate(212, 600), 2968) == "~14m 212/m"
    assert eta_short(Rate(212, 600), 10) == "<1m 212/m"
    assert eta_short(Rate(1, 600), 600) == "~10h 1/m"
