"""Tests the wire helpers on their own: `$filter`, `$select`, paging, durations and body checks."""

from __future__ import annotations

from typing import Any

import pytest

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.times import format_duration, parse_duration
from batch_tui.emulator.query.filter import compile_filter, filter_properties
from batch_tui.emulator.query.filter_tables import (
    FILE_FILTER,
    NODE_FILTER,
    POOL_FILTER,
    TASK_FILTER,
)
from batch_tui.emulator.query.paging import PageRequest, next_link, parse_paging, take_page
from batch_tui.emulator.query.select import (
    TASK_PROPS,
    compile_select,
    parse_expand,
    selected_properties,
)
from batch_tui.emulator.validation.checks import validate

TASKS: list[dict[str, Any]] = [
    {"id": "a1", "state": "completed", "executionInfo": {"exitCode": 0, "result": "success",
     "endTime": "2024-10-01T12:00:00.1234567Z"}},
    {"id": "a2", "state": "completed", "executionInfo": {"exitCode": 3, "result": "failure",
     "endTime": "2024-10-01T13:00:00.0000000Z"}},
    {"id": "b1", "state": "running", "executionInfo": {"retryCount": 2}},
    {"id": "it's", "state": "active", "executionInfo": {}},
]  # fmt: skip


def ids(text: str, items: list[dict[str, Any]] = TASKS) -> list[str]:
    predicate = compile_filter(text, TASK_FILTER)
    assert predicate is not None
    return [item["id"] for item in items if predicate(item)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("state eq 'completed'", ["a1", "a2"]),
        ("state ne 'completed'", ["b1", "it's"]),
        ("executionInfo/exitCode gt 0", ["a2"]),
        ("executionInfo/exitCode ge 0 and executionInfo/exitCode le 0", ["a1"]),
        ("state eq 'running' or executionInfo/result eq 'failure'", ["a2", "b1"]),
        ("not (state eq 'completed')", ["b1", "it's"]),
        ("startswith(id, 'a')", ["a1", "a2"]),
        ("startswith(id,'a') eq false", ["b1", "it's"]),
        ("id eq 'it''s'", ["it's"]),
        ("executionInfo/retryCount eq 2", ["b1"]),
        ("executionInfo/endTime lt datetime'2024-10-01T12:30:00Z'", ["a1"]),
        ("executionInfo/endTime ge 2024-10-01T12:00:00.1234567Z", ["a1", "a2"]),
        ("executionInfo/exitCode eq null", ["b1", "it's"]),
        ("(state eq 'active' or state eq 'running') and startswith(id,'b')", ["b1"]),
        ("state eq 'completed' AND executionInfo/exitCode eq 3", ["a2"]),
    ],
)
def test_filter_selects_the_right_items(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("state eq active", "Expected a literal"),
        ("state gt 'active'", "operator 'gt' is not allowed"),
        ("commandLine eq 'x'", "cannot be used in a filter"),
        ("executionInfo/exitCode eq 'zero'", "is a int"),
        ("state eq 'a' and", "ended unexpectedly"),
        ("(state eq 'a'", "ended unexpectedly"),
        ("state eq 'a')", "Unexpected ')'"),
        ("executionInfo/endTime gt datetime'yesterday'", "not a valid datetime"),
        ("state eq 'unterminated", "Syntax error"),
        ("startswith(id, 3)", "string literal"),
    ],
)
def test_bad_filters_are_400_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ServiceError) as info:
        compile_filter(text, TASK_FILTER)
    err = info.value
    assert (err.status, err.code) == (400, "InvalidQueryParameterValue")
    assert err.values["QueryParameterName"] == "$filter"
    assert err.values["QueryParameterValue"] == text
    assert reason in err.values["Reason"]


def test_each_list_allows_its_documented_properties() -> None:
    assert compile_filter("startTaskInfo/exitCode ne 0", NODE_FILTER)
    assert compile_filter("enableAutoScale eq true", POOL_FILTER)
    assert compile_filter("startswith(name,'wd')", FILE_FILTER)
    with pytest.raises(ServiceError):
        compile_filter("name eq 'stdout.txt'", FILE_FILTER)
    with pytest.raises(ServiceError):
        compile_filter("startTaskInfo/state ne 'completed'", NODE_FILTER)
    assert compile_filter("  ", TASK_FILTER) is None


def test_select_projects_top_level_and_nested_properties() -> None:
    projector = compile_select("state, id,executionInfo/exitCode", TASK_PROPS)
    assert projector is not None
    assert projector(TASKS[1]) == {"id": "a2", "state": "completed",
                                   "executionInfo": {"exitCode": 3}}  # fmt: skip
    assert projector(TASKS[3]) == {"id": "it's", "state": "active"}
    with pytest.raises(ServiceError) as info:
        compile_select("id,nodeName", TASK_PROPS)
    assert info.value.values["QueryParameterName"] == "$select"


def test_expand_accepts_only_stats() -> None:
    assert parse_expand("stats") is True
    assert parse_expand(None) is False
    with pytest.raises(ServiceError):
        parse_expand("nodes")


def test_paging_limits_and_tokens() -> None:
    assert parse_paging({}) == PageRequest(1000, None)
    assert parse_paging({"maxresults": "10"}, maximum=10).size == 10
    for bad, code in (("0", "OutOfRange"), ("1001", "OutOfRange"), ("ten", "InvalidQuery")):
        with pytest.raises(ServiceError) as info:
            parse_paging({"maxresults": bad})
        assert info.value.code.startswith(code)
    with pytest.raises(ServiceError):
        parse_paging({"maxresults": "11"}, maximum=10)


def test_take_page_survives_deletions_between_pages() -> None:
    items = [f"t{i:02d}" for i in range(10)]
    first, token = take_page(items, str, None, PageRequest(4, None))
    assert first == ["t00", "t01", "t02", "t03"]
    del items[0:2]  # two earlier items are deleted before the next page is asked for
    second, token = take_page(items, str, None, PageRequest(4, token))
    assert second == ["t04", "t05", "t06", "t07"]
    third, token = take_page(items, str, None, PageRequest(4, token))
    assert third == ["t08", "t09"] and token is None


def test_take_page_with_a_filter_has_no_empty_last_page() -> None:
    items = list(range(10))
    page, token = take_page(items, str, lambda i: i < 3, PageRequest(3, None))
    assert page == [0, 1, 2] and token is None


def test_next_link_keeps_the_query_and_replaces_the_token() -> None:
    link = next_link(
        "https://a.b", "/jobs/j/tasks",
        "api-version=2024-07-01.20.0&%24filter=state%20eq%20%27active%27&$skipToken=old", "7-t7",
    )  # fmt: skip
    assert link == (
        "https://a.b/jobs/j/tasks?api-version=2024-07-01.20.0"
        "&$filter=state%20eq%20%27active%27&$skipToken=7-t7"
    )


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("PT01H00M00S", "PT1H"),
        ("PT15M", "PT15M"),
        ("P1DT2M", "P1DT2M"),
        ("PT0S", "PT0S"),
        ("PT1.5S", "PT1.5S"),
        ("P2W", "P14D"),
        ("P10675199DT2H48M5.4775807S", "P10675199DT2H48M5.4775807S"),
        ("P99999999D", "P10675199DT2H48M5.4775807S"),
    ],
)
def test_durations_are_normalised_like_the_service(text: str, canonical: str) -> None:
    assert format_duration(parse_duration(text)) == canonical


@pytest.mark.parametrize("text", ["1H", "P", "PT", "P1M2", "PT-1S", "P1Y"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_validate_reports_the_service_codes() -> None:
    ok = validate({"id": "t", "commandLine": "x", "constraints": {"maxWallClockTime": "PT60M"},
                   "userIdentity": {"autoUser": {"elevationLevel": "ADMIN"}},
                   "displayName": None}, "TaskAddParameter")  # fmt: skip
    assert ok["constraints"] == {"maxWallClockTime": "PT1H"}
    assert ok["userIdentity"]["autoUser"]["elevationLevel"] == "admin"
    assert "displayName" not in ok
    cases = [
        ({"id": "t"}, "MissingRequiredProperty", {"PropertyName": "commandLine"}),
        ({"id": "t", "commandLine": "x", "bogus": 1}, "InvalidRequestBody", None),
        ({"id": "t", "commandLine": 5}, "InvalidRequestBody", None),
        ({"id": "t", "commandLine": "x", "requiredSlots": 0}, "InvalidPropertyValue",
         {"PropertyName": "requiredSlots", "PropertyValue": "0"}),
        ({"id": "t", "commandLine": "x", "userIdentity": {"autoUser": {"scope": "node"}}},
         "InvalidPropertyValue", {"PropertyName": "scope", "PropertyValue": "node"}),
        ({"id": "t", "commandLine": "x", "constraints": {"maxWallClockTime": "1 hour"}},
         "InvalidRequestBody", None),
    ]  # fmt: skip
    for body, code, values in cases:
        with pytest.raises(ServiceError) as info:
            validate(body, "TaskAddParameter")
        assert (info.value.status, info.value.code) == (400, code)
        if values:
            assert values.items() <= info.value.values.items()


def test_filters_and_selects_name_the_properties_they_read() -> None:
    text = "(state ne 'active') and startswith(id, 'and') or executionInfo/exitCode eq 0"
    assert filter_properties(text) == {"state", "id", "executionInfo"}
    assert filter_properties("lastModified ge DateTime'2024-01-01T00:00:00Z'") == {"lastModified"}
    assert filter_properties(None) == frozenset()
    assert selected_properties("id, state,executionInfo/exitCode") == {
        "id",
        "state",
        "executionInfo",
    }
    assert selected_properties("") == frozenset()
