"""Tests the pure parts of the schedule views: the states each schedule action applies in (as
the emulator's 409s say), and how next runs, recurrences and pools read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from batch_tui.batch.models import JobSchedule
from batch_tui.ui.actions import (
    ACTIONS,
    TYPED_CONFIRM,
    refusal,
    schedule_action_refusal,
    typed_confirmation,
)
from batch_tui.ui.schedule_fields import (
    format_until,
    recurrence_text,
    schedule_row,
    schedule_sections,
    spec_pool,
)
from batch_tui.ui.widgets.table_rows import plain

NOW = datetime(2026, 12, 8, 1, 0, tzinfo=timezone.utc)
STATES = ("active", "disabled", "completed", "terminating", "deleting")
ALLOWED = {
    "schedule.enable": {"disabled"},
    "schedule.disable": {"active"},
    "schedule.terminate": {"active", "disabled"},
    "schedule.delete": {"active", "disabled", "completed", "terminating"},
}


def decoded(**data: object) -> JobSchedule:
    """A schedule as the client decodes the service's JSON."""
    body = {"id": "nightly", "state": "active", **data}
    return msgspec.json.decode(msgspec.json.encode(body), type=JobSchedule)


@pytest.mark.parametrize("action", sorted(ALLOWED))
@pytest.mark.parametrize("state", STATES)
def test_each_action_applies_where_the_service_takes_it(action: str, state: str) -> None:
    reason = schedule_action_refusal(action, state)
    assert (reason is None) == (state in ALLOWED[action])
    assert refusal(ACTIONS[action], decoded(state=state)) == reason


def test_refusals_say_why_in_words() -> None:
    assert schedule_action_refusal("schedule.enable", "active") == "it is already active"
    assert schedule_action_refusal("schedule.disable", "disabled") == "it is already disabled"
    assert schedule_action_refusal("schedule.terminate", "completed") == (
        "it is completed; only an active or disabled schedule can be terminated"
    )
    assert schedule_action_refusal("schedule.delete", "deleting") == "it is already being deleted"


def test_the_actions_have_their_keys_and_delete_wants_the_id_typed() -> None:
    keys = {spec.id: spec.key for spec in ACTIONS.values() if spec.kind == "schedule"}
    assert keys == {"schedule.enable": "E", "schedule.disable": "D",
                    "schedule.terminate": "T", "schedule.delete": "X"}  # fmt: skip
    assert "schedule.delete" in TYPED_CONFIRM
    assert typed_confirmation(ACTIONS["schedule.delete"], ["nightly"]) == "nightly"
    assert typed_confirmation(ACTIONS["schedule.disable"], ["nightly"]) is None


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (None, "-"),
        (NOW + timedelta(seconds=42), "in 42s"),
        (NOW + timedelta(hours=2, minutes=5), "in 2h5m"),
        (NOW, "due"),
        (NOW - timedelta(seconds=3), "due"),
    ],
)
def test_format_until(moment: datetime | None, text: str) -> None:
    assert format_until(moment, NOW) == text


def test_the_list_row_reads_next_run_recent_job_every_and_pool() -> None:
    schedule = decoded(
        schedule={"recurrenceInterval": "PT1M"},
        executionInfo={"nextRunTime": "2026-12-08T01:00:42.0000000Z",
                       "recentJob": {"id": "nightly:job-7", "url": "u"}},
        jobSpecification={"poolInfo": {"poolId": "render-pool"}},
    )  # fmt: skip
    row = schedule_row(schedule, NOW)
    cells = [plain(cell) for cell in row.cells]
    assert cells == ["nightly", "active", "in 42s", "nightly:job-7", "1m", "render-pool"]
    once = schedule_row(decoded(schedule={}), NOW)
    assert [plain(cell) for cell in once.cells][2:] == ["-", "-", "once", "-"]


def test_an_auto_pool_is_named_by_its_prefix() -> None:
    schedule = decoded(
        jobSpecification={"poolInfo": {"autoPoolSpecification": {
            "autoPoolIdPrefix": "nightly", "poolLifetimeOption": "jobschedule",
            "pool": {"vmSize": "standard_d2s_v3"}}}},
    )  # fmt: skip
    assert spec_pool(schedule.job_specification) == "auto nightly"
    assert recurrence_text(schedule.schedule) == "once"
    text = "\n".join(block.plain for block in schedule_sections(schedule, NOW))
    assert "lives per jobschedule, standard_d2s_v3" in text


def test_the_detail_shows_statistics_only_when_sent() -> None:
    stats = {"url": "u", "numSucceededTasks": 12, "numFailedTasks": 2, "numTaskRetries": 1,
             "wallClockTime": "PT5M"}  # fmt: skip
    with_stats = "\n".join(b.plain for b in schedule_sections(decoded(stats=stats), NOW))
    without = "\n".join(b.plain for b in schedule_sections(decoded(), NOW))
    assert "Statistics" in with_stats and "Failed tasks      2" in with_stats
    assert "Statistics" not in without
    assert "Next run          none planned" in without
