"""Tests of decoding the service's quirks: odd items, numbers as strings, durations, timestamps."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch_tui.batch import models as m
from batch_tui.batch import undecodable_reason
from batch_tui.batch.models import (
    UNLIMITED,
    Node,
    NodeFile,
    decode,
    decode_page,
    decoding,
    is_unlimited,
)

UTC = timezone.utc


# --- The service's quirks, and odd items --------------------------------------------------


def test_unknown_fields_and_unknown_states_decode() -> None:
    body = (
        b'{"id": "n1", "state": "hibernating", "futureField": {"x": [1]}, "schedulingState": "x"}'
    )
    node = decode(body, Node)
    assert (node.id, node.state, node.scheduling_state) == ("n1", "hibernating", "x")


def test_numbers_sent_as_strings_decode_without_a_repair(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoding, "_repair", None)  # the fast path alone must cope
    node = decode(b'{"id": "n1", "runningTasksCount": "3", "totalTasksRun": "12"}', Node)
    assert (node.running_tasks_count, node.total_tasks_run) == (3, 12)
    file = decode(b'{"name": "x", "properties": {"contentLength": "13"}}', NodeFile)
    assert file.properties is not None and file.properties.content_length == 13


def test_missing_fields_take_their_defaults() -> None:
    node = decode(b'{"id": "n1"}', Node)
    assert node == Node(id="n1") and node.state == "" and node.recent_tasks == ()
    assert decode(b"{}", m.TaskCountsResult).task_counts == m.TaskCounts()


def test_a_page_with_one_odd_item_still_decodes() -> None:
    good = [{"id": f"n{i}", "state": "idle", "runningTasksCount": i} for i in range(999)]
    odd = {"id": "odd", "state": "running", "runningTasksCount": {"no": 1}, "errors": [7]}
    data = json.dumps({"value": [*good[:500], odd, "junk", *good[500:]], "odata.nextLink": "n"})
    page = decode_page(data.encode(), Node)
    assert len(page.value) == 1001 and page.next_link == "n"
    repaired = page.value[500]
    assert (repaired.id, repaired.state, repaired.running_tasks_count) == ("odd", "running", 0)
    assert repaired.errors == ()
    # An item that is not an object has no id to show it by: a placeholder says so.
    assert undecodable_reason(page.value[501].id) == "not an object"
    assert [n.running_tasks_count for n in page.value[502:]] == list(range(500, 999))


def test_an_item_that_is_not_an_object_is_left_out_of_a_page_of_things_without_ids() -> None:
    page = decode_page(b'{"value": [{"name": "a.txt"}, "junk", 7]}', NodeFile)
    assert [item.name for item in page.value] == ["a.txt"]


def test_a_single_odd_entity_is_repaired_field_by_field() -> None:
    body = {
        "id": "t1",
        "state": "completed",
        "executionInfo": {"exitCode": "oops", "retryCount": 2},
    }
    task = decode(json.dumps(body).encode(), m.Task)
    assert task.execution_info == m.TaskExecutionInfo(exit_code=None, retry_count=2)


def test_dotnet_max_datetime_is_clamped_not_dropped() -> None:
    body = b'{"schedule": {"doNotRunAfter": "9999-12-31T23:59:59.9999999Z"}}'
    schedule = decode(body, m.JobSchedule).schedule
    assert schedule is not None
    assert schedule.do_not_run_after == datetime(9999, 12, 31, 23, 59, 59, 999999, UTC)


def test_bodies_that_are_not_models_raise() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(b"[1, 2]", Node)
    with pytest.raises(msgspec.ValidationError):
        decode_page(b'{"value": 5}', Node)
    with pytest.raises(msgspec.DecodeError):
        decode_page(b"{not json", Node)


def test_batch_error_body_decodes() -> None:
    message = "A query parameter is missing.\nRequestId:r\nTime:t"
    body = {
        "odata.metadata": "https://a.b.batch.azure.com/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element",
        "code": "MissingRequiredQueryParameter",
        "message": {"lang": "en-US", "value": message},
        "values": [{"key": "QueryParameterName", "value": "api-version"}],
    }
    error = decode(json.dumps(body).encode(), m.ErrorBody)
    assert error.code == "MissingRequiredQueryParameter"
    assert error.message == m.ErrorMessage(lang="en-US", value=message)
    assert error.values == (m.ErrorDetail(key="QueryParameterName", value="api-version"),)


def test_node_user_hides_its_password_but_sends_it() -> None:
    user = m.NodeUser(name="u", password="s3cret", is_admin=True)
    assert "s3cret" not in repr(user) and "password='***'" in repr(user)
    assert json.loads(msgspec.json.encode(user)) == {
        "name": "u",
        "isAdmin": True,
        "password": "s3cret",
    }


def test_models_are_frozen_and_hashable() -> None:
    node = decode(b'{"id": "n1", "recentTasks": [{"taskState": "running"}]}', Node)
    assert hash(node) == hash(
        decode(b'{"id": "n1", "recentTasks": [{"taskState": "running"}]}', Node)
    )
    with pytest.raises(AttributeError):
        node.id = "n2"  # type: ignore[misc]


# --- Durations and timestamps -------------------------------------------------------------


def test_unlimited_duration() -> None:
    constraints = decode(b'{"maxWallClockTime": "P10675199DT2H48M5.4775807S"}', m.JobConstraints)
    assert constraints.max_wall_clock_time == UNLIMITED
    assert is_unlimited(UNLIMITED) and is_unlimited(timedelta.max)
    assert not is_unlimited(None) and not is_unlimited(timedelta(days=3650))


def micros_half_up(fraction: str) -> int:
    """Microseconds of a 0-7 digit fraction, the 7th digit rounded half up (as msgspec does)."""
    value = Decimal(f"0.{fraction or '0'}") * 1_000_000
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@st.composite
def dotnet_durations(draw: st.DrawFn) -> tuple[str, timedelta]:
    """Durations as .NET writes and accepts them: ``P1D``, ``PT01H00M00S``, 7 fraction digits."""
    days, hours = draw(st.integers(0, 10675199)), draw(st.integers(0, 23))
    minutes, seconds = draw(st.integers(0, 59)), draw(st.integers(0, 59))
    fraction = draw(st.text("0123456789", max_size=7))
    shown = draw(st.lists(st.booleans(), min_size=4, max_size=4))
    width = 2 if draw(st.booleans()) else 0
    shown[3] = shown[3] or not any(shown) or bool(fraction)
    time = "".join(
        f"{value:0{width}d}{unit}"
        for value, unit, on in zip((hours, minutes), "HM", shown[1:3], strict=True)
        if on
    )
    if shown[3]:
        time += f"{seconds:0{width}d}" + (f".{fraction}" if fraction else "") + "S"
    text = "P" + (f"{days}D" if shown[0] else "") + (f"T{time}" if time else "")
    expected = timedelta(
        days=days if shown[0] else 0,
        hours=hours if shown[1] else 0,
        minutes=minutes if shown[2] else 0,
        seconds=seconds if shown[3] else 0,
        microseconds=micros_half_up(fraction),
    )
    return text, expected


@given(dotnet_durations())
def test_dotnet_durations_decode(case: tuple[str, timedelta]) -> None:
    text, expected = case
    body = json.dumps({"maxWallClockTime": text, "retentionTime": text}).encode()
    constraints = decode(body, m.TaskConstraints)
    assert constraints.max_wall_clock_time == constraints.retention_time == expected


@given(st.timedeltas(min_value=timedelta(0), max_value=UNLIMITED))
def test_durations_round_trip_through_snapshots(duration: timedelta) -> None:
    constraints = m.TaskConstraints(max_wall_clock_time=duration)
    assert decode(msgspec.json.encode(constraints), m.TaskConstraints) == constraints


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.text("0123456789", min_size=1, max_size=7),
)
def test_timestamps_with_seven_fraction_digits_decode(moment: datetime, fraction: str) -> None:
    moment = moment.replace(microsecond=0)
    text = f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction}Z"
    node = decode(json.dumps({"stateTransitionTime": text}).encode(), Node)
    expected = moment.replace(tzinfo=UTC) + timedelta(microseconds=micros_half_up(fraction))
    assert node.state_transition_time == expected
