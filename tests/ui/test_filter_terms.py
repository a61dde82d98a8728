"""Tests the `/` filter's language: parsing, composing back, what goes to the service and
what is tested on the table's cells."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_tui.batch.models.common import TaskFailureInfo
from batch_tui.batch.models.task import NodeInfo, Task, TaskExecutionInfo
from batch_tui.emulator.query.filter_tables import NODE_FILTER, TASK_FILTER
from batch_tui.ui.filter_terms import (
    INT_MAX,
    INT_MIN,
    FilterError,
    Query,
    Span,
    Term,
    cell_tests,
    compose,
    parse,
    service_filter,
    service_test,
)
from batch_tui.ui.screens.nodes import NODE_FILTER_COLUMNS
from batch_tui.ui.task_rows import TASK_COLUMNS, TASK_FILTER_COLUMNS, task_row
from batch_tui.ui.widgets.table_filter import RowFilter
from batch_tui.ui.widgets.table_rows import plain

COLUMNS = TASK_FILTER_COLUMNS
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def task(
    task_id: str,
    state: str = "completed",
    exit_code: int | None = 0,
    node: str | None = "tvm-1",
    failure: TaskFailureInfo | None = None,
) -> Task:
    result = None if exit_code is None else ("success" if exit_code == 0 else "failure")
    info = TaskExecutionInfo(exit_code=exit_code, result=result, failure_info=failure)
    return Task(
        id=task_id,
        state=state,
        execution_info=info if state == "completed" else None,
        node_info=NodeInfo(node_id=node),
    )


def test_terms_and_free_text() -> None:
    query = parse("exit:137 node:TVM-3 oom  killed", COLUMNS)
    assert query == Query((Term("exit", (Span(137, 137),)), Term("node", ("tvm-3",))), "oom killed")
    assert compose(query) == "exit:137 node:tvm-3 oom killed"


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("137", Span(137, 137)),
        ("1..255", Span(1, 255)),
        ("1..", Span(1, None)),
        ("..-1", Span(None, -1)),
        (">0", Span(1, None)),
        (">=1", Span(1, None)),
        ("<0", Span(None, -1)),
        ("<=255", Span(None, 255)),
        ("-1073741819", Span(-1073741819, -1073741819)),
    ],
)
def test_number_ranges(text: str, span: Span) -> None:
    assert parse(f"exit:{text}", COLUMNS).terms == (Term("exit", (span,)),)


def test_alternatives_and_aliases() -> None:
    query = parse("result:failure|success state:FAILED task:ingest fail:user", COLUMNS)
    assert [str(term) for term in query.terms] == [
        "result:failure|success",
        "state:failed",
        "id:ingest",
        "failure:user",
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("exitcode:1", 'no column "exitcode" to filter: use exit, state'),
        ("exit:", "exit: needs a value, e.g. exit:137, exit:1..255 or exit:>0"),
        ("exit:abc", 'exit: "abc" is not a number or range'),
        ("exit:..", 'exit: ".." is not a number or range'),
        ("exit:5..1", "exit: 5..1 holds no number"),
        (f"exit:{INT_MAX + 1}", "is out of range"),
        (f"exit:<{INT_MIN}", "is out of range"),
        ("exit:1|", 'exit: an empty alternative in "1|"'),
        ("state:done", 'state: "done" is not one of active, preparing, running, completed'),
        ("result:", "result: needs a value, e.g. result:success|failure"),
        ("!exit:0", "exit: ! does not negate a term"),
    ],
)
def test_a_bad_term_says_why_in_one_line(text: str, says: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse(f"oom {text}", COLUMNS)
    message = str(caught.value)
    assert says in message
    assert "\n" not in message and len(message) < 120


def test_words_that_are_not_terms_stay_free_text() -> None:
    # Times, a regex's group and an inverted word are not column names.
    query = parse("12:30 (?:a|b) !oom", COLUMNS)
    assert query == Query((), "12:30 (?:a|b) !oom")


def test_what_goes_to_the_service() -> None:
    query = parse("exit:137|1..255 state:failed node:tvm-3 oom", COLUMNS)
    assert str(service_filter(query, COLUMNS)) == (
        "((executionInfo/exitCode eq 137) or ((executionInfo/exitCode ge 1) and "
        "(executionInfo/exitCode le 255))) and "
        "((state eq 'completed') and (executionInfo/result eq 'failure'))"
    )
    assert service_filter(parse("node:tvm-3 oom", COLUMNS), COLUMNS) is None
    assert service_test(parse("node:tvm-3", COLUMNS), COLUMNS) is None


def test_the_service_columns_are_the_ones_the_service_filters() -> None:
    """Each property sent is in the service's filter table of that list (the emulator's copy
    of the documented tables), with the type its values need."""
    kinds = {"number": "int", "choice": "string"}
    for columns, table in ((TASK_FILTER_COLUMNS, TASK_FILTER), (NODE_FILTER_COLUMNS, NODE_FILTER)):
        for column in columns:
            if column.service_property is None:
                continue
            assert column.service_property in table, column.name
            assert table[column.service_property].type == kinds[column.kind], column.name


TASKS = [
    task("ok", exit_code=0),
    task("bad", exit_code=1, failure=TaskFailureInfo(category="usererror", code="FailureExitCode")),
    task("oom", exit_code=137, node="tvm-3"),
    task("win", exit_code=-1073741819),
    task("run", state="running", exit_code=None),
]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("exit:137", ["oom"]),
        ("exit:>0", ["bad", "oom"]),
        ("exit:<0", ["win"]),
        ("exit:0|137", ["ok", "oom"]),
        ("state:failed", ["bad", "oom", "win"]),
        ("state:succeeded", ["ok"]),
        ("state:running|active", ["run"]),
        ("result:failure exit:1..200", ["bad", "oom"]),
    ],
)
def test_the_service_test_keeps_what_the_filter_selects(text: str, kept: list[str]) -> None:
    test = service_test(parse(text, COLUMNS), COLUMNS)
    assert test is not None
    assert [t.id for t in TASKS if test(t)] == kept


def rows_kept(text: str) -> list[str]:
    query = parse(text, COLUMNS)
    cells = cell_tests(query, COLUMNS, [column.key for column in TASK_COLUMNS])
    row_filter = RowFilter(query.text, cells)
    rows = [task_row(t, NOW) for t in TASKS]
    texts = ["\t".join(plain(cell) for cell in row.cells).lower() for row in rows]
    return row_filter.select([row.key for row in rows], texts, None)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("node:tvm-3", ["oom"]),
        ("node:TVM", ["ok", "bad", "oom", "win", "run"]),
        ("failure:exitcode", ["bad"]),
        ("failure:usererror", ["bad"]),
        ("fail:-", ["ok", "oom", "win", "run"]),
        ("id:o node:tvm-1", ["ok"]),
        ("node:tvm-1 !ok", ["bad", "win", "run"]),
        ("node:tvm-1 ^b", ["bad"]),
    ],
)
def test_local_terms_test_their_cells(text: str, kept: list[str]) -> None:
    assert rows_kept(text) == kept


def test_a_term_tests_its_own_column_only() -> None:
    # "ok" is a task id, not a node: node:ok keeps nothing where the free text "ok" keeps one.
    assert rows_kept("node:ok") == []
    assert rows_kept("ok") == ["ok"]


# -- parse and compose are inverse --------------------------------------------------------

BOUNDS = st.integers(min_value=INT_MIN, max_value=INT_MAX)


@st.composite
def spans(draw: st.DrawFn) -> Span:
    low, high = sorted((draw(BOUNDS), draw(BOUNDS)))
    return Span(draw(st.sampled_from([low, None])), draw(st.sampled_from([high, None])))


NON_EMPTY_SPANS = spans().filter(lambda span: span.low is not None or span.high is not None)
TEXT = st.text(alphabet="abcxyz0123456789-_.*", min_size=1, max_size=8)


@st.composite
def terms(draw: st.DrawFn) -> Term:
    column = draw(st.sampled_from(COLUMNS))
    values: st.SearchStrategy[object]
    if column.kind == "number":
        values = NON_EMPTY_SPANS
    elif column.kind == "choice":
        values = st.sampled_from(column.choices)
    else:
        values = TEXT
    return Term(column.name, tuple(draw(st.lists(values, min_size=1, max_size=3))))  # type: ignore[arg-type]


QUERIES = st.builds(
    Query,
    st.lists(terms(), max_size=4).map(tuple),
    st.lists(TEXT, max_size=3).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(query=QUERIES)
def test_a_composed_query_parses_back_to_itself(query: Query) -> None:
    assert parse(compose(query), COLUMNS) == query


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="exit:ndoaf.<>=|!-0137 ", max_size=24))
def test_any_typing_parses_or_says_why(text: str) -> None:
    """Every text a user can type on the way to a filter either parses, and then composes
    to a text that parses the same, or fails with a one-line FilterError."""
    try:
        query = parse(text, COLUMNS)
    except FilterError as error:
        assert "\n" not in str(error)
        return
    assert parse(compose(query), COLUMNS) == query
    if service_filter(query, COLUMNS) is not None:
        assert service_test(query, COLUMNS) is not None


CELL = st.text(alphabet="abtvm-_.*0137|()", max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(CELL, min_size=7, max_size=8), min_size=1, max_size=20),
    text=st.sampled_from(["node:a", "node:tvm|.*", "id:(|b", "failure:-", "node:a id:b"]),
)
def test_a_cell_tests_regex_keeps_what_its_python_test_keeps(
    rows: list[list[str]], text: str
) -> None:
    keys = [f"k{index}" for index in range(len(rows))]
    texts = ["\t".join(cells) for cells in rows]
    tests = cell_tests(parse(text, COLUMNS), COLUMNS, [column.key for column in TASK_COLUMNS])
    assert all(test.regex is not None for test in tests)
    by_regex = RowFilter("", tests).select(keys, texts, None)
    without = [replace(test, regex=None) for test in tests]
    assert by_regex == RowFilter("", without).select(keys, texts, None)
