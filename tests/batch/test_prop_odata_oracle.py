"""Property test: the client's filters mean, to the emulator's own parser, what they say.

A second, independent oracle for ``batch_tui.batch.odata``: each generated filter is built with
the client's builder, compiled by the emulator's `compile_filter` (written separately, from the
service's documentation) and evaluated over generated task-like entities in their wire form.
The result must equal a direct Python evaluation of what the filter was built from: quotes,
non-ASCII text, negative numbers, datetimes in any offset and to the microsecond,
``startswith`` and ``any_of`` inside nested ``and``/``or`` all keep their meaning.
(The rule that the emulator shares no code with the client is about ``batch_tui``; a test may
import both sides.)
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from batch_tui.batch import odata
from batch_tui.batch.odata import Filter
from batch_tui.emulator.query.filter import EQ_NE, FilterProp, compile_filter
from batch_tui.emulator.query.filter_tables import TASK_FILTER
from tests.batch.strategies import SLOW

SPEC: dict[str, FilterProp] = {**TASK_FILTER, "isDedicated": FilterProp("bool", EQ_NE)}
"""The task list's filterable properties, plus a boolean one so every literal type is used."""

Entity = dict[str, Any]
"""A task as values by property path (``executionInfo/exitCode``); None means "not sent"."""

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_BUILDERS: dict[str, Callable[[str, Any], Filter]] = {name: getattr(odata, name) for name in _OPS}

# A few characters, so that generated values often equal or prefix each other, including
# a quote, parentheses and non-ASCII text.
_TEXT = st.text(st.sampled_from("ab'() é漢"), max_size=4)
_MOMENTS = st.datetimes(
    datetime(2024, 1, 1), datetime(2024, 1, 1, 0, 0, 3), timezones=st.just(timezone.utc)
)
"""Three seconds of microseconds: close enough to collide, far enough to order."""
_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "string": _TEXT,
    "int": st.integers(-3, 3) | st.integers(-(2**31), 2**31 - 1),
    "datetime": _MOMENTS,
    "bool": st.booleans(),
}
_OFFSETS = st.builds(timezone, st.timedeltas(timedelta(hours=-14), timedelta(hours=14)))

entities = st.fixed_dictionaries(
    {path: st.none() | _VALUES[prop.type] for path, prop in SPEC.items()}
)


def wire(entity: Entity) -> dict[str, Any]:
    """The entity as the service (and the emulator's store) writes it: nested camelCase
    objects and 7-digit UTC timestamps."""
    body: dict[str, Any] = {}
    for path, value in entity.items():
        if value is None:
            continue
        *parents, name = path.split("/")
        node = body
        for parent in parents:
            node = node.setdefault(parent, {})
        if isinstance(value, datetime):
            # The 7th digit is 0: the emulator compares in microseconds, the service in
            # 100 ns ticks, and this test is about the builder, not that difference.
            value = value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
        node[name] = value
    return body


def evaluate(tree: Any, entity: Entity) -> bool:
    """What the filter means, evaluated directly on the entity's Python values."""
    kind = tree[0]
    if kind in ("and", "or"):
        results = [evaluate(part, entity) for part in tree[1]]
        return all(results) if kind == "and" else any(results)
    value = entity[tree[1]]
    if kind == "startswith":
        return isinstance(value, str) and value.startswith(tree[2])
    _, _, op, expected = tree
    if value is None:
        return bool(op == "ne")  # OData: null is unequal to every literal, and unordered
    return _OPS[op](value, expected)


def _value(path: str, pool: list[Entity]) -> st.SearchStrategy[Any]:
    """A value of the property's type, often one an entity has."""
    seen = [entity[path] for entity in pool if entity[path] is not None]
    values = _VALUES[SPEC[path].type]
    if seen:
        values = st.sampled_from(seen) | values
    if SPEC[path].type == "datetime":  # the same instant, written in any offset
        values = st.tuples(values, _OFFSETS).map(lambda pair: pair[0].astimezone(pair[1]))
    return values


@st.composite
def leaves(draw: st.DrawFn, pool: list[Entity]) -> tuple[Filter, Any]:
    path = draw(st.sampled_from(sorted(SPEC)))
    allowed = SPEC[path].ops
    kinds = (
        ["cmp"]
        + ["startswith"] * ("startswith" in allowed)
        + ["any_of"] * (SPEC[path].type == "string")
    )
    kind = draw(st.sampled_from(kinds))
    if kind == "startswith":
        prefix = draw(_value(path, pool).map(lambda text: text[: len(text) // 2]) | _TEXT)
        return odata.startswith(path, prefix), ("startswith", path, prefix)
    if kind == "any_of":
        choices = draw(st.lists(_value(path, pool), min_size=1, max_size=3))
        compared = [("cmp", path, "eq", choice) for choice in choices]
        return odata.any_of(path, choices), ("or", compared)
    op = draw(st.sampled_from(sorted(allowed & _OPS.keys())))
    value = draw(_value(path, pool))
    return _BUILDERS[op](path, value), ("cmp", path, op, value)


@st.composite
def filters(draw: st.DrawFn, pool: list[Entity], depth: int = 0) -> tuple[Filter, Any]:
    if depth < 3 and draw(st.booleans()):
        combine = draw(st.sampled_from([odata.and_, odata.or_]))
        parts = draw(st.lists(filters(pool, depth + 1), min_size=2, max_size=3))
        tree = (combine.__name__.rstrip("_"), [part for _, part in parts])
        return combine(*(built for built, _ in parts)), tree
    return draw(leaves(pool))


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Entity], Filter, Any]:
    pool = draw(st.lists(entities, min_size=1, max_size=6))
    built, tree = draw(filters(pool))
    return pool, built, tree


def _predicate(text: str, spec: Mapping[str, FilterProp]) -> Callable[[Any], bool]:
    predicate = compile_filter(text, spec)
    assert predicate is not None, f"no predicate for {text!r}"
    return predicate


@settings(max_examples=150, deadline=None, suppress_health_check=SLOW)
@given(cases())
def test_the_emulator_reads_built_filters_as_they_were_built(
    case: tuple[list[Entity], Filter, Any],
) -> None:
    pool, built, tree = case
    predicate = _predicate(str(built), SPEC)  # a 400 here: the builder wrote bad syntax
    for entity in pool:
        assert predicate(wire(entity)) == evaluate(tree, entity), (str(built), entity)
