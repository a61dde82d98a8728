"""Builds Batch OData ``$filter`` expressions safely, so no caller formats one by hand.

The service's filter language (https://learn.microsoft.com/rest/api/batchservice/odata-filters-in-batch)
is OData v3: comparisons ``eq ne gt ge lt le``, the function ``startswith(prop, 'text')``,
and ``and`` / ``or``. Literals:

- strings in single quotes, a quote inside doubled: ``id eq 'it''s'``;
- ``true`` / ``false``; integers and finite floats as plain numbers;
- date-times as ``DateTime'2024-01-01T00:00:00Z'``, the form of the Batch documentation's own
  example (``stateTransitionTime gt DateTime'{0:o}'`` in "Create queries to list Batch
  resources efficiently"), always in UTC.

Property paths (``state``, ``executionInfo/exitCode``) are checked against
``^[A-Za-z][A-Za-z0-9/]*$``, so a value can never be smuggled in as a property.

Example::

    and_(eq("state", "completed"), ne("executionInfo/exitCode", 0))
    # (state eq 'completed') and (executionInfo/exitCode ne 0)
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

Value = str | bool | int | float | datetime
"""What a comparison can compare a property with."""

_PROPERTY = re.compile(r"[A-Za-z][A-Za-z0-9/]*")


class Filter:
    """A complete ``$filter`` expression; ``str(f)`` is the text to send.

    Build one with the functions of this module; ``a & b`` and ``a | b`` combine two.
    """

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Filter({self._text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Filter) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)

    def __and__(self, other: Filter) -> Filter:
        return and_(self, other)

    def __or__(self, other: Filter) -> Filter:
        return or_(self, other)


def prop(name: str) -> str:
    """Validate a property path such as ``state`` or ``executionInfo/exitCode``.

    Raises:
        ValueError: If the name is not a plain property path.
    """
    if not _PROPERTY.fullmatch(name):
        raise ValueError(f"not a filterable property name: {name!r}")
    return name


def literal(value: Value) -> str:
    """Format a Python value as an OData literal.

    Raises:
        ValueError: For a naive datetime, one outside the years 1-9999 in UTC, or a
            non-finite float.
        TypeError: For any other type.
    """
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot filter on a non-finite number: {value!r}")
        return repr(value)
    if isinstance(value, datetime):
        return f"DateTime'{_utc_iso(value)}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot use a {type(value).__name__} in a filter")


def _utc_iso(value: datetime) -> str:
    # utcoffset(), not tzinfo: a tzinfo that returns no offset leaves the value naive, and
    # astimezone would then silently read it as local time.
    if value.utcoffset() is None:
        raise ValueError("filter datetimes must be timezone-aware (a naive one is ambiguous)")
    try:
        utc = value.astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00: the documented error, not a crash
        raise ValueError(f"{value.isoformat()} has no UTC form in the years 1-9999") from None
    # isoformat, not strftime: strftime does not zero-pad years before 1000 on glibc.
    return utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds") + "Z"


def _compare(op: str, name: str, value: Value) -> Filter:
    return Filter(f"{prop(name)} {op} {literal(value)}")


def eq(name: str, value: Value) -> Filter:
    """``name eq value``."""
    return _compare("eq", name, value)


def ne(name: str, value: Value) -> Filter:
    """``name ne value``."""
    return _compare("ne", name, value)


def gt(name: str, value: Value) -> Filter:
    """``name gt value``."""
    return _compare("gt", name, value)


def ge(name: str, value: Value) -> Filter:
    """``name ge value``."""
    return _compare("ge", name, value)


def lt(name: str, value: Value) -> Filter:
    """``name lt value``."""
    return _compare("lt", name, value)


def le(name: str, value: Value) -> Filter:
    """``name le value``."""
    return _compare("le", name, value)


def startswith(name: str, prefix: str) -> Filter:
    """``startswith(name, 'prefix')``: the only string function Batch supports."""
    if not isinstance(prefix, str):
        raise TypeError("startswith takes a string prefix")
    return Filter(f"startswith({prop(name)}, {literal(prefix)})")


def _join(op: str, filters: tuple[Filter, ...]) -> Filter:
    if not filters:
        raise ValueError(f"{op}_ needs at least one filter")
    if not all(isinstance(f, Filter) for f in filters):
        raise TypeError(f"{op}_ combines Filter objects only")
    if len(filters) == 1:
        return filters[0]
    # Every operand is parenthesised, so precedence never depends on what is inside.
    return Filter(f" {op} ".join(f"({f})" for f in filters))


def and_(*filters: Filter) -> Filter:
    """All of ``filters``: ``(a) and (b) ...``."""
    return _join("and", filters)


def or_(*filters: Filter) -> Filter:
    """Any of ``filters``: ``(a) or (b) ...``."""
    return _join("or", filters)


def any_of(name: str, values: list[str] | tuple[str, ...]) -> Filter:
    """``(name eq 'a') or (name eq 'b') ...``: a state filter with several states."""
    return or_(*(eq(name, v) for v in values))


def in_range(name: str, low: int | None, high: int | None) -> Filter:
    """The integers from ``low`` to ``high``, both included; None leaves that end open.

    ``name eq low`` when they are equal, else ``(name ge low) and (name le high)`` or the one
    bound given: ``executionInfo/exitCode`` from 1 to 255 is
    ``(executionInfo/exitCode ge 1) and (executionInfo/exitCode le 255)``.

    Raises:
        ValueError: If both ends are open (that is no filter) or ``low`` exceeds ``high``.
        TypeError: If a bound is not an integer.
    """
    for bound in (low, high):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
            raise TypeError(f"a range bound must be an integer, not {bound!r}")
    if low is None:
        if high is None:
            raise ValueError("a range needs at least one bound")
        return le(name, high)
    if high is None:
        return ge(name, low)
    if low > high:
        raise ValueError(f"empty range: {low} > {high}")
    return eq(name, low) if low == high else and_(ge(name, low), le(name, high))
