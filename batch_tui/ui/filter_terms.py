"""Provides the `/` filter's language: column terms and free text, parsed and composed back,
and what a list does with them (pure; no Textual).

A filter is words separated by spaces. A word `name:values` is a term on a column; the other
words, joined by one space, are the free text: a case-insensitive regex over the whole row (a
leading `!` inverts it). A term's values are alternatives separated by `|`:

- number columns: `137`, `1..255`, `1..`, `..-1`, `>0`, `>=1`, `<0`, `<=255`;
- choice columns: one of the column's words (`state:failed|running`);
- text columns: part of the cell, any case (`node:tvm-3`).

Every term must hold, and the free text must match: `exit:137 node:tvm-3 oom`.

A list declares its columns (`FilterColumn`). A column whose property the service filters
(its filter tables: https://learn.microsoft.com/rest/api/batchservice/odata-filters-in-batch)
goes to the service as `$filter` (`service_filter`, built by `batch_tui.batch.odata`), and the
same test runs on items in hand (`service_test`: a delta refresh drops what left the filter).
The other terms test the table's cell texts (`cell_tests`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Generic, Literal, TypeVar

from batch_tui.batch import odata
from batch_tui.ui.widgets.table_filter import CellTest

T = TypeVar("T")

Kind = Literal["number", "choice", "text"]

INT_MIN: Final = -(2**31)
INT_MAX: Final = 2**31 - 1
"""Exit codes are 32-bit integers in the service (a Windows crash is -1073741819)."""

_TERM: Final = re.compile(r"([A-Za-z][A-Za-z_-]*):(.*)", re.DOTALL)
_NUMBER: Final = r"[+-]?\d{1,12}"
_RANGE: Final = re.compile(rf"(?P<low>{_NUMBER})?\.\.(?P<high>{_NUMBER})?")
_BOUND: Final = re.compile(rf"(?P<op>>=|<=|>|<)(?P<n>{_NUMBER})")
_NUMBERS: Final = "137, 1..255, >0"


class FilterError(ValueError):
    """A filter that cannot apply; the message says why in one line."""


@dataclass(frozen=True)
class Span:
    """The integers from `low` to `high`, both included; None leaves that end open."""

    low: int | None
    high: int | None

    def holds(self, number: int) -> bool:
        """Whether `number` is in the span."""
        return (self.low is None or number >= self.low) and (
            self.high is None or number <= self.high
        )

    def __str__(self) -> str:
        if self.low is not None and self.low == self.high:
            return str(self.low)
        low = "" if self.low is None else str(self.low)
        high = "" if self.high is None else str(self.high)
        return f"{low}..{high}"


Value = Span | str
"""One alternative of a term: a span (number columns) or a lowercase word or text."""


@dataclass(frozen=True)
class Term:
    """`column:a|b`: the row's value in `column` is one of `values`."""

    column: str
    values: tuple[Value, ...]

    def __str__(self) -> str:
        return f"{self.column}:{'|'.join(map(str, self.values))}"


@dataclass(frozen=True)
class Query:
    """A parsed filter: its terms (all must hold) and its free text (a regex, "" for none)."""

    terms: tuple[Term, ...] = ()
    text: str = ""

    def __str__(self) -> str:
        return compose(self)


@dataclass(frozen=True)
class Choice(Generic[T]):
    """A choice that is not just the property's value (`state:failed`): the `$filter` sent
    and the same test on an item in hand."""

    filter: odata.Filter
    test: Callable[[T], bool]


@dataclass(frozen=True)
class FilterColumn(Generic[T]):
    """A column the `/` filter can name.

    Attributes:
        name: What the user types before the colon.
        kind: How its values are written and compared.
        cell: The key of the table column whose text a term tests here (local columns).
        service_property: The service's filterable property; a term then goes as `$filter`.
        read: The property's value on an item in hand (service columns).
        choices: The words a choice column takes.
        special: Choices whose `$filter` and test are not `property eq word`.
        aliases: Other names for the column.
    """

    name: str
    kind: Kind
    cell: str | None = None
    service_property: str | None = None
    read: Callable[[T], object] | None = None
    choices: tuple[str, ...] = ()
    special: Mapping[str, Choice[T]] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def on_service(self) -> bool:
        """Whether the service filters this column."""
        return self.service_property is not None


def parse(text: str, columns: Sequence[FilterColumn[T]]) -> Query:
    """Parses what the user typed.

    Raises:
        FilterError: For an unknown column or a value the column does not take.
    """
    by_name = {name: column for column in columns for name in (column.name, *column.aliases)}
    terms: list[Term] = []
    words: list[str] = []
    for word in text.split():
        match = _TERM.fullmatch(word.removeprefix("!"))
        if match is None:
            words.append(word)
            continue
        name, raw = match.group(1).lower(), match.group(2)
        column = by_name.get(name)
        if column is None:
            known = ", ".join(column.name for column in columns)
            raise FilterError(f'no column "{name}" to filter: use {known}')
        if word.startswith("!"):
            raise FilterError(f"{column.name}: ! does not negate a term; give the values to keep")
        terms.append(Term(column.name, _values(column, raw)))
    return Query(tuple(terms), " ".join(words))


def compose(query: Query) -> str:
    """The text that parses back into `query`: its terms, then its free text."""
    return " ".join([*(str(term) for term in query.terms), *([query.text] if query.text else [])])


def _values(column: FilterColumn[T], raw: str) -> tuple[Value, ...]:
    if not raw:
        raise FilterError(f"{column.name}: needs a value, e.g. {_example(column)}")
    parts = raw.split("|")
    if "" in parts:
        raise FilterError(f'{column.name}: an empty alternative in "{raw}"')
    if column.kind == "number":
        return tuple(_span(column.name, part) for part in parts)
    words = tuple(part.lower() for part in parts)
    if column.kind == "choice":
        for word in words:
            if word not in column.choices:
                choices = ", ".join(column.choices)
                raise FilterError(f'{column.name}: "{word}" is not one of {choices}')
    return words


def _example(column: FilterColumn[T]) -> str:
    name = column.name
    if column.kind == "number":
        return f"{name}:137, {name}:1..255 or {name}:>0"
    if column.kind == "choice":
        return f"{name}:{'|'.join(column.choices[:2])}"
    return f"{name}:part-of-it"


def _span(name: str, text: str) -> Span:
    """Reads `137`, `1..255`, `1..`, `..255`, `>0`, `>=1`, `<0` or `<=255`."""
    span: Span | None = None
    if (match := _RANGE.fullmatch(text)) and (match["low"] or match["high"]):
        span = Span(_int(match["low"]), _int(match["high"]))
    elif match := _BOUND.fullmatch(text):
        number = int(match["n"])
        op = match["op"]
        span = {
            ">": Span(number + 1, None),
            ">=": Span(number, None),
            "<": Span(None, number - 1),
            "<=": Span(None, number),
        }[op]
    elif re.fullmatch(_NUMBER, text):
        span = Span(int(text), int(text))
    if span is None:
        raise FilterError(f'{name}: "{text}" is not a number or range ({_NUMBERS})')
    return _checked(name, text, span)


def _int(text: str | None) -> int | None:
    return None if text is None else int(text)


def _checked(name: str, text: str, span: Span) -> Span:
    for bound in (span.low, span.high):
        if bound is not None and not INT_MIN <= bound <= INT_MAX:
            raise FilterError(f"{name}: {text} is out of range ({INT_MIN}..{INT_MAX})")
    if span.low is not None and span.high is not None and span.low > span.high:
        raise FilterError(f"{name}: {text} holds no number")
    return span


# -- what a list does with a query ----------------------------------------------------------


def service_terms(query: Query, columns: Sequence[FilterColumn[T]]) -> tuple[Term, ...]:
    """The terms the service filters."""
    on_service = {column.name for column in columns if column.on_service}
    return tuple(term for term in query.terms if term.column in on_service)


def service_filter(query: Query, columns: Sequence[FilterColumn[T]]) -> odata.Filter | None:
    """The `$filter` of the query's service terms (all must hold), or None if it has none."""
    by_name = {column.name: column for column in columns}
    parts = [_term_filter(by_name[term.column], term) for term in service_terms(query, columns)]
    return odata.and_(*parts) if parts else None


def _term_filter(column: FilterColumn[T], term: Term) -> odata.Filter:
    assert column.service_property is not None
    alternatives: list[odata.Filter] = []
    for value in term.values:
        if isinstance(value, Span):
            alternatives.append(odata.in_range(column.service_property, value.low, value.high))
        elif (choice := column.special.get(value)) is not None:
            alternatives.append(choice.filter)
        else:
            alternatives.append(odata.eq(column.service_property, value))
    return odata.or_(*alternatives)


def service_test(query: Query, columns: Sequence[FilterColumn[T]]) -> Callable[[T], bool] | None:
    """The test of the query's service terms on an item in hand (the same as the service's),
    or None if it has none."""
    by_name = {column.name: column for column in columns}
    tests = [_term_test(by_name[term.column], term) for term in service_terms(query, columns)]
    if not tests:
        return None
    return lambda item: all(test(item) for test in tests)


def _term_test(column: FilterColumn[T], term: Term) -> Callable[[T], bool]:
    read = column.read
    assert read is not None, f"service column {column.name} has no read"
    spans = [value for value in term.values if isinstance(value, Span)]
    words = {value for value in term.values if isinstance(value, str)}
    special = [column.special[word].test for word in words if word in column.special]
    plain = words.difference(column.special)

    def test(item: T) -> bool:
        value = read(item)
        if value in plain or any(_number_in(value, span) for span in spans):
            return True
        return any(choice(item) for choice in special)

    return test


def _number_in(value: object, span: Span) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and span.holds(value)


def cell_tests(
    query: Query, columns: Sequence[FilterColumn[T]], cell_keys: Sequence[str]
) -> tuple[CellTest, ...]:
    """The tests of the query's other terms on a table's lowercased cell texts.

    Args:
        query: The parsed filter.
        columns: The list's filter columns.
        cell_keys: The keys of the table's columns, in order.
    """
    by_name = {column.name: column for column in columns}
    tests: list[CellTest] = []
    for term in query.terms:
        column = by_name[term.column]
        if column.on_service or column.cell is None:
            continue
        tests.append(_cell_test(column.kind, cell_keys.index(column.cell), term.values))
    return tuple(tests)


def _cell_test(kind: Kind, index: int, values: tuple[Value, ...]) -> CellTest:
    words = [value for value in values if isinstance(value, str)]
    spans = [value for value in values if isinstance(value, Span)]
    needle = words[0] if len(words) == 1 else None
    if kind == "number":
        return CellTest(index, lambda cell: _cell_number_in(cell, spans))
    # The row's text is its cells joined by tabs: skip `index` cells, then test this one.
    skip = rf"(?:[^\t]*\t){{{index}}}"
    either = "|".join(map(re.escape, words))
    if kind == "choice":
        regex = rf"{skip}(?:{either})(?:\t|$)"
        return CellTest(index, frozenset(words).__contains__, needle, regex)
    regex = rf"{skip}[^\t]*?(?:{either})"
    return CellTest(index, lambda cell: any(word in cell for word in words), needle, regex)


def _cell_number_in(cell: str, spans: list[Span]) -> bool:
    try:
        number = int(cell.replace(",", ""))
    except ValueError:
        return False  # "-": no number
    return any(span.holds(number) for span in spans)
