"""Tests what the pool dialogs ask and say (pure): the refusals of the pool actions by state,
the resize change line, the fields' checks and an autoscale run as lines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from batch_tui.batch.models import AutoScaleRun, AutoScaleRunError, NameValuePair, Pool
from batch_tui.ui.actions import ACTIONS, pool_action_refusal, typed_confirmation
from batch_tui.ui.pool_changes import (
    ResizeRequest,
    parse_count,
    parse_minutes,
    resize_change,
    run_lines,
    shrinks,
)


def pool(state="active", allocation="steady", autoscale=False, dedicated=4, spot=0):
    return Pool(
        id="gpu-pool", state=state, allocation_state=allocation, enable_auto_scale=autoscale,
        target_dedicated_nodes=dedicated, target_low_priority_nodes=spot,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("action", "subject", "reason"),
    [
        ("pool.resize", pool(), None),
        ("pool.resize", pool(allocation="resizing"), "only a steady pool"),
        ("pool.resize", pool(autoscale=True), "disable autoscale (M)"),
        ("pool.stop-resize", pool(), "only a resize can be stopped"),
        ("pool.stop-resize", pool(allocation="stopping"), "only a resize can be stopped"),
        ("pool.stop-resize", pool(allocation="resizing"), None),
        ("pool.autoscale", pool(), None),
        ("pool.autoscale", pool(allocation="resizing"), "enables autoscale only on a steady"),
        ("pool.autoscale", pool(allocation="resizing", autoscale=True), None),
        ("pool.disable-autoscale", pool(), "already off"),
        ("pool.disable-autoscale", pool(autoscale=True), None),
        ("pool.delete", pool(allocation="resizing"), None),
        ("pool.delete", pool(state="deleting"), "being deleted"),
        ("pool.resize", pool(state="deleting"), "being deleted"),
    ],
)
def test_pool_actions_follow_the_service_rules(action, subject, reason):
    refusal = pool_action_refusal(action, subject)
    if reason is None:
        assert refusal is None
    else:
        assert refusal is not None and reason in refusal


def test_deleting_a_pool_asks_for_its_id():
    assert typed_confirmation(ACTIONS["pool.delete"], ["gpu-pool"]) == "gpu-pool"
    assert typed_confirmation(ACTIONS["pool.stop-resize"], ["gpu-pool"]) is None


def test_the_change_line_names_both_counts():
    grow = ResizeRequest(10, 2, "requeue", timedelta(minutes=15))
    assert resize_change(pool(), grow) == "4 -> 10 dedicated, 0 -> 2 spot"
    assert not shrinks(pool(), grow)
    same_spot = ResizeRequest(1, 0, "requeue", timedelta(minutes=15))
    assert resize_change(pool(), same_spot) == "4 -> 1 dedicated, 0 spot"
    assert shrinks(pool(), same_spot)


@pytest.mark.parametrize("text", ["", "-1", "1.5", "ten", "100001"])
def test_a_bad_count_is_refused_in_one_line(text):
    with pytest.raises(ValueError, match="Dedicated: a whole number"):
        parse_count(text, "Dedicated")


def test_minutes_must_be_within_the_service_bounds():
    assert parse_minutes(" 20 ", "Timeout", 5, 60) == timedelta(minutes=20)
    for text in ("4", "61", "5m"):
        with pytest.raises(ValueError, match="Timeout: whole minutes from 5 to 60"):
            parse_minutes(text, "Timeout", 5, 60)


def test_a_run_shows_its_results_then_its_error_and_details():
    run = AutoScaleRun(
        results="$TargetDedicatedNodes=2;$TargetLowPriorityNodes=0;spare=3",
        error=AutoScaleRunError(
            code="AutoScalingFormulaEvaluationError", message="Division by zero",
            values=(NameValuePair(name="Message", value="Line 1, Col 9: division by zero"),),
        ),
    )  # fmt: skip
    assert run_lines(run) == [
        "Results: $TargetDedicatedNodes=2; $TargetLowPriorityNodes=0; spare=3",
        "AutoScalingFormulaEvaluationError: Division by zero",
        "  Message: Line 1, Col 9: division by zero",
    ]
    assert run_lines(AutoScaleRun()) == ["Results: none"]
