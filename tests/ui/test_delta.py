"""Tests DeltaPlan: full listings first, when forced, for small lists and every so often;
deltas in between start at the latest change seen, less the margin and the listing's time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from batch_tui.ui.delta import MARGIN, DeltaPlan

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def test_a_plan_lists_everything_first_then_deltas_then_everything_again() -> None:
    plan = DeltaPlan(full_every=3)
    assert plan.wants_full()  # nothing seen yet
    plan.listed([T0, None, T0 - timedelta(hours=1)], seconds=4.0)
    assert plan.changed_since() == T0 - MARGIN - timedelta(seconds=4)
    assert not plan.wants_full()
    plan.changed([T0 + timedelta(seconds=9)])
    plan.changed([])  # nothing changed: the start stays
    assert plan.since == T0 + timedelta(seconds=9)
    assert plan.wants_full()  # the third refresh: a full listing
    assert plan.wants_full(forced=True)
    assert plan.wants_full(big=False)  # one page: a delta saves nothing
    plan.forget()
    assert plan.wants_full()


def test_a_delta_never_moves_the_start_back() -> None:
    plan = DeltaPlan(full_every=10)
    plan.listed([T0], seconds=0)
    plan.changed([T0 - timedelta(minutes=5)])  # an old change inside the margin
    assert plan.since == T0
