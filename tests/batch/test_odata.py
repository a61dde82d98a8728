"""Tests the $filter builder: literals, quoting, property validation and combinations."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_tui.batch.odata import (
    Filter,
    and_,
    any_of,
    eq,
    ge,
    gt,
    in_range,
    le,
    literal,
    lt,
    ne,
    or_,
    startswith,
)

# A tiny independent parser of the filter language, to prove that what the builder writes
# means what the caller asked for: no value ever escapes its quotes.
TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<dt>DateTime'[^']*')|(?P<num>-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)"
    r"|(?P<word>[A-Za-z][A-Za-z0-9/]*)|(?P<punct>[(),]))",
    re.S,
)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        assert match and match.end() > pos, f"cannot tokenize at {text[pos:]!r}"
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def value_of(kind: str, text: str) -> Any:
    if kind == "str":
        return text[1:-1].replace("''", "'")
    if kind == "num":
        return float(text) if any(c in text for c in ".e") else int(text)
    if kind == "dt":
        return datetime.fromisoformat(text[9:-1].replace("Z", "+00:00"))
    return {"true": True, "false": False}[text]


def parse(text: str) -> Any:
    """Parse into nested tuples: ("cmp", prop, op, value), ("startswith", ...), ("and", [...])."""
    tokens = tokenize(text)
    tree, rest = _expr(tokens)
    assert rest == [], f"trailing tokens {rest}"
    return tree


def _expr(tokens: list[tuple[str, str]]) -> tuple[Any, list[tuple[str, str]]]:
    first, tokens = _operand(tokens)
    parts, op = [first], None
    while tokens and tokens[0] in (("word", "and"), ("word", "or")):
        assert op in (None, tokens[0][1]), "mixed and/or without parentheses"
        op = tokens[0][1]
        part, tokens = _operand(tokens[1:])
        parts.append(part)
    return (first if op is None else (op, parts)), tokens


def _operand(tokens: list[tuple[str, str]]) -> tuple[Any, list[tuple[str, str]]]:
    if tokens[0] == ("punct", "("):
        inner, tokens = _expr(tokens[1:])
        assert tokens[0] == ("punct", ")")
        return inner, tokens[1:]
    if tokens[0] == ("word", "startswith"):
        (_, name), (_, prefix) = tokens[2], tokens[4]
        assert [t[1] for t in (tokens[1], tokens[3], tokens[5])] == ["(", ",", ")"]
        return ("startswith", name, value_of("str", prefix)), tokens[6:]
    (_, name), (_, op), (kind, raw) = tokens[:3]
    return ("cmp", name, op, value_of(kind, raw)), tokens[3:]


def test_comparisons_and_literals() -> None:
    assert str(eq("state", "active")) == "state eq 'active'"
    assert str(ne("executionInfo/exitCode", 0)) == "executionInfo/exitCode ne 0"
    assert str(gt("priority", -5)) == "priority gt -5"
    assert str(ge("x", 1.5)) == "x ge 1.5"
    assert str(lt("isDedicated", True)) == "isDedicated lt true"
    assert str(le("isDedicated", False)) == "isDedicated le false"
    assert str(startswith("id", "abc")) == "startswith(id, 'abc')"


def test_datetime_literal_is_utc_datetime_prefixed() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert str(gt("stateTransitionTime", when)) == (
        "stateTransitionTime gt DateTime'2024-01-02T01:04:05Z'"
    )
    precise = datetime(2024, 1, 2, 3, 4, 5, 120, tzinfo=timezone.utc)
    assert literal(precise) == "DateTime'2024-01-02T03:04:05.000120Z'"
    with pytest.raises(ValueError, match="timezone-aware"):
        literal(datetime(2024, 1, 1))


def test_quotes_are_doubled() -> None:
    assert str(eq("id", "it's")) == "id eq 'it''s'"
    assert str(startswith("id", "'")) == "startswith(id, '''')"


@pytest.mark.parametrize(
    "name", ["", "1state", "state eq 'x' or id", "a b", "state)", "x'", "$filter", "a-b"]
)
def test_property_names_are_validated(name: str) -> None:
    with pytest.raises(ValueError, match="property"):
        eq(name, "x")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_numbers_are_refused(value: float) -> None:
    with pytest.raises(ValueError):
        eq("x", value)


def test_other_types_are_refused() -> None:
    with pytest.raises(TypeError):
        eq("x", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        and_("state eq 'x'")  # type: ignore[arg-type]


def test_combinations_parenthesise_every_operand() -> None:
    combined = and_(eq("state", "completed"), or_(eq("a", 1), eq("b", 2)))
    assert str(combined) == "(state eq 'completed') and ((a eq 1) or (b eq 2))"
    assert and_(eq("a", 1)) == eq("a", 1)
    assert eq("a", 1) & eq("b", 2) == and_(eq("a", 1), eq("b", 2))
    assert eq("a", 1) | eq("b", 2) == or_(eq("a", 1), eq("b", 2))
    assert str(any_of("state", ["idle", "running"])) == "(state eq 'idle') or (state eq 'running')"
    assert repr(eq("a", 1)) == "Filter('a eq 1')"
    with pytest.raises(ValueError):
        or_()


@given(st.text())
def test_any_string_round_trips_through_the_parser(value: str) -> None:
    assert parse(str(eq("id", value))) == ("cmp", "id", "eq", value)
    assert parse(str(startswith("name", value))) == ("startswith", "name", value)


names = st.from_regex(r"[A-Za-z][A-Za-z0-9/]{0,12}", fullmatch=True).filter(
    lambda n: n not in ("and", "or", "startswith", "true", "false")
)
offsets = st.builds(
    timezone, st.timedeltas(timedelta(hours=-23, minutes=-59), timedelta(hours=23, minutes=59))
)
datetimes = st.datetimes(
    datetime(2, 1, 1), datetime(9998, 12, 31), timezones=st.just(timezone.utc) | offsets
)
"""Aware datetimes in any fixed offset, to the microsecond (a day away from the ends of the
calendar, so that their UTC form exists)."""
values = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    datetimes,
)
ops = st.sampled_from([eq, ne, gt, ge, lt, le])


def typed(tree: Any) -> Any:
    """``tree`` with each value paired with its type: ``1``, ``1.0`` and ``True`` are equal in
    Python, but a builder that wrote one for another would change the filter's meaning."""
    if isinstance(tree, list):
        return [typed(item) for item in tree]
    if isinstance(tree, tuple) and tree[0] == "cmp":
        return (*tree[:3], type(tree[3]).__name__, tree[3])
    if isinstance(tree, tuple) and tree[0] in ("and", "or"):
        return (tree[0], typed(tree[1]))
    return tree


@st.composite
def leaves(draw: st.DrawFn) -> tuple[Filter, Any]:
    """A comparison, a ``startswith`` or an ``any_of`` (itself an ``or`` of comparisons)."""
    name = draw(names)
    kind = draw(st.sampled_from(["cmp", "startswith", "any_of"]))
    if kind == "startswith":
        prefix = draw(st.text(max_size=12))
        return startswith(name, prefix), ("startswith", name, prefix)
    if kind == "any_of":
        choices = draw(st.lists(st.text(max_size=8), min_size=1, max_size=3))
        compared = [("cmp", name, "eq", choice) for choice in choices]
        return any_of(name, choices), compared[0] if len(compared) == 1 else ("or", compared)
    op, value = draw(ops), draw(values)
    return op(name, value), ("cmp", name, op.__name__, value)


@st.composite
def filters(draw: st.DrawFn, depth: int = 0) -> tuple[Filter, Any]:
    if depth < 2 and draw(st.booleans()):
        combine = draw(st.sampled_from([and_, or_]))
        parts = draw(st.lists(filters(depth + 1), min_size=2, max_size=3))
        tree = (combine.__name__.rstrip("_"), [p[1] for p in parts])
        return combine(*(p[0] for p in parts)), tree
    return draw(leaves())


@settings(max_examples=150, deadline=None)
@given(filters())
def test_nested_filters_parse_back_to_what_was_built(built: tuple[Filter, Any]) -> None:
    expression, tree = built
    assert typed(parse(str(expression))) == typed(tree)


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_round_trip_exactly(value: float) -> None:
    assert typed(parse(str(ge("avgCPUPercentage", value)))) == typed(
        ("cmp", "avgCPUPercentage", "ge", value)
    )


UTC_LITERAL = re.compile(r"DateTime'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z'")


@settings(max_examples=100, deadline=None)
@given(datetimes)
def test_datetimes_in_any_offset_are_sent_as_the_same_instant_in_utc(when: datetime) -> None:
    text = literal(when)
    assert UTC_LITERAL.fullmatch(text), text
    assert parse(f"x eq {text}") == ("cmp", "x", "eq", when)  # aware: compares the instant
    micros = when.astimezone(timezone.utc).microsecond  # sub-second offsets shift it
    assert (f".{micros:06d}Z" in text) == (micros != 0)


@pytest.mark.parametrize(
    "when",
    [
        datetime.min.replace(tzinfo=timezone(timedelta(hours=1))),
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-1))),
    ],
)
def test_datetimes_with_no_utc_form_are_refused_as_values(when: datetime) -> None:
    with pytest.raises(ValueError, match="UTC"):
        literal(when)


class _NoOffset(tzinfo):
    """A tzinfo that does not know its offset: per the datetime docs, the value is naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_a_datetime_whose_tzinfo_gives_no_offset_is_naive() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        literal(datetime(2024, 1, 1, tzinfo=_NoOffset()))


def test_in_range_writes_the_bounds_given() -> None:
    code = "executionInfo/exitCode"
    assert str(in_range(code, 137, 137)) == "executionInfo/exitCode eq 137"
    assert str(in_range(code, 1, None)) == "executionInfo/exitCode ge 1"
    assert str(in_range(code, None, -1)) == "executionInfo/exitCode le -1"
    assert str(in_range(code, 1, 255)) == (
        "(executionInfo/exitCode ge 1) and (executionInfo/exitCode le 255)"
    )


@pytest.mark.parametrize(
    ("low", "high", "error"),
    [(None, None, ValueError), (5, 1, ValueError), (1.5, None, TypeError), (True, 3, TypeError)],
)
def test_in_range_refuses_no_range(low: Any, high: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        in_range("executionInfo/exitCode", low, high)


@settings(max_examples=200, deadline=None)
@given(low=st.integers(-(2**31), 2**31 - 1) | st.none(), high=st.integers(-(2**31), 2**31 - 1))
def test_in_range_selects_exactly_the_numbers_in_it(low: int | None, high: int) -> None:
    if low is not None and low > high:
        low, high = high, low
    tree = parse(str(in_range("executionInfo/exitCode", low, high)))
    comparisons = tree[1] if tree[0] == "and" else [tree]
    for number in {high - 1, high, high + 1, *(() if low is None else (low - 1, low, low + 1))}:
        holds = all(_compare(number, op, value) for _, _, op, value in comparisons)
        assert holds == ((low is None or number >= low) and number <= high)


def _compare(number: int, op: str, value: int) -> bool:
    return {"eq": number == value, "ge": number >= value, "le": number <= value}[op]
