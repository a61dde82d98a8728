"""Provides the OData `$filter` parser and evaluator, with each list's filterable properties.

Grammar (OData v3 as the Batch service accepts it): `or`, `and`, `not`, parentheses, comparisons
`path op literal` with `eq ne gt ge lt le`, and `startswith(path, 'text')`. Literals: strings in
single quotes (a quote inside is doubled), integers, `true`/`false`/`null`, and datetimes as
`datetime'2024-10-01T12:00:00Z'` or a bare ISO timestamp. Each list allows its own properties and
operators (`filters.py`); anything else is a 400 `InvalidQueryParameterValue`, never a 500.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.times import parse_iso, stamp

Predicate = Callable[[Mapping[str, Any]], bool]

ALL_OPS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
EQ_NE = frozenset({"eq", "ne"})
ID_OPS = ALL_OPS | {"startswith"}
MAX_NESTING = 100
"""How deep parentheses and `not`s may nest. The service's OData parser stops at a recursion
limit too (400, not a stack overflow); this one keeps the emulator's recursive-descent parser
and the closures it builds far from Python's own limit."""


@dataclass(frozen=True)
class FilterProp:
    """A filterable property: its type (`string`, `datetime`, `int`, `bool`) and operators."""

    type: str
    ops: frozenset[str]


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<dt>datetime'[^']*')
    | (?P<iso>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)
    | (?P<str>'(?:[^']|'')*')
    | (?P<num>-?\d+)(?![\w.])
    | (?P<name>[A-Za-z_$][\w/]*)
    | (?P<punct>[(),])
    )""",
    re.VERBOSE | re.IGNORECASE,
)


class FilterSyntaxError(Exception):
    """A `$filter` the service would refuse; its text becomes the error's Reason."""


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterSyntaxError(f"Syntax error at position {pos} in '{text}'.")
        kind = m.lastgroup or ""
        tokens.append(_Tok(kind, m.group(kind)))
        pos = m.end()
    return tokens


@dataclass(frozen=True)
class _Literal:
    type: str  # string, int, datetime, bool, null
    value: Any


def _literal(tok: _Tok) -> _Literal:
    if tok.kind == "str":
        return _Literal("string", tok.text[1:-1].replace("''", "'"))
    if tok.kind == "num":
        return _Literal("int", int(tok.text))
    if tok.kind in ("dt", "iso"):
        raw = tok.text[9:-1] if tok.kind == "dt" else tok.text
        try:
            return _Literal("datetime", parse_iso(raw))
        except ValueError as exc:
            raise FilterSyntaxError(f"'{raw}' is not a valid datetime.") from exc
    word = tok.text.lower()
    if tok.kind == "name" and word in ("true", "false"):
        return _Literal("bool", word == "true")
    if tok.kind == "name" and word == "null":
        return _Literal("null", None)
    raise FilterSyntaxError(f"Expected a literal value but found '{tok.text}'.")


def _lookup(item: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = item
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _coerce(value: Any, prop_type: str) -> Any:
    """Turns a stored JSON value into something comparable with the property's literals."""
    if value is None:
        return None
    if prop_type == "datetime":
        return stamp(str(value))
    if prop_type == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    return value


_ORDERED: dict[str, Callable[[str, str], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
"""The ordering comparisons of two strings (their `eq` and `ne` have paths of their own)."""

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: bool(a == b),
    "ne": lambda a, b: bool(a != b),
    "gt": lambda a, b: bool(a > b),
    "ge": lambda a, b: bool(a >= b),
    "lt": lambda a, b: bool(a < b),
    "le": lambda a, b: bool(a <= b),
}


class _Parser:
    """A recursive-descent parser that compiles the filter into nested closures."""

    def __init__(self, tokens: list[_Tok], spec: Mapping[str, FilterProp]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.spec = spec
        self.depth = 0

    def enter(self) -> None:
        """Counts one more level of nesting, refusing more than `MAX_NESTING`."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise FilterSyntaxError(
                f"The filter is nested too deeply: at most {MAX_NESTING} levels of "
                "parentheses and 'not' are allowed."
            )

    def peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise FilterSyntaxError("The filter ended unexpectedly.")
        self.pos += 1
        return tok

    def keyword(self, *words: str) -> str | None:
        tok = self.peek()
        if tok is not None and tok.kind == "name" and tok.text.lower() in words:
            self.pos += 1
            return tok.text.lower()
        return None

    def expect(self, text: str) -> None:
        tok = self.next()
        if tok.text != text:
            raise FilterSyntaxError(f"Expected '{text}' but found '{tok.text}'.")

    def parse(self) -> Predicate:
        pred = self.parse_or()
        if self.peek() is not None:
            raise FilterSyntaxError(f"Unexpected '{self.next().text}'.")
        return pred

    def parse_or(self) -> Predicate:
        preds = [self.parse_and()]
        while self.keyword("or"):
            preds.append(self.parse_and())
        return preds[0] if len(preds) == 1 else (lambda item: any(p(item) for p in preds))

    def parse_and(self) -> Predicate:
        preds = [self.parse_not()]
        while self.keyword("and"):
            preds.append(self.parse_not())
        return preds[0] if len(preds) == 1 else (lambda item: all(p(item) for p in preds))

    def parse_not(self) -> Predicate:
        if self.keyword("not"):
            self.enter()
            inner = self.parse_not()
            self.depth -= 1
            return lambda item: not inner(item)
        return self.parse_atom()

    def parse_atom(self) -> Predicate:
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.next()
            self.enter()
            pred = self.parse_or()
            self.expect(")")
            self.depth -= 1
            return pred
        if self.keyword("startswith"):
            return self.parse_startswith()
        return self.parse_comparison()

    def prop(self, op: str) -> tuple[tuple[str, ...], FilterProp]:
        tok = self.next()
        if tok.kind != "name":
            raise FilterSyntaxError(f"Expected a property name but found '{tok.text}'.")
        prop = self.spec.get(tok.text)
        if prop is None:
            raise FilterSyntaxError(f"The property '{tok.text}' cannot be used in a filter.")
        if op not in prop.ops:
            raise FilterSyntaxError(f"The operator '{op}' is not allowed on '{tok.text}'.")
        return tuple(tok.text.split("/")), prop

    def parse_startswith(self) -> Predicate:
        self.expect("(")
        path, _ = self.prop("startswith")
        self.expect(",")
        lit = _literal(self.next())
        self.expect(")")
        if lit.type != "string":
            raise FilterSyntaxError("startswith needs a string literal.")
        prefix: str = lit.value
        want = True
        if self.keyword("eq"):
            want = bool(self.bool_literal())
        elif self.keyword("ne"):
            want = not self.bool_literal()

        def check(item: Mapping[str, Any]) -> bool:
            value = _lookup(item, path)
            return isinstance(value, str) and value.startswith(prefix) == want

        return check

    def bool_literal(self) -> bool:
        lit = _literal(self.next())
        if lit.type != "bool":
            raise FilterSyntaxError("startswith(...) can only be compared with true or false.")
        return bool(lit.value)

    def parse_comparison(self) -> Predicate:
        start = self.pos
        self.next()
        op = self.keyword(*_COMPARE)
        if op is None:
            raise FilterSyntaxError("Expected a comparison operator (eq, ne, gt, ge, lt, le).")
        self.pos = start
        path, prop = self.prop(op)
        self.pos += 1
        lit = _literal(self.next())
        return _comparison(path, prop, op, lit)


def _comparison(path: tuple[str, ...], prop: FilterProp, op: str, lit: _Literal) -> Predicate:
    if lit.type == "null":
        if op not in EQ_NE:
            raise FilterSyntaxError(f"null cannot be compared with '{op}'.")
        return lambda item: (_lookup(item, path) is None) == (op == "eq")
    if lit.type != prop.type:
        name = "/".join(path)
        raise FilterSyntaxError(
            f"'{name}' is a {prop.type} and cannot be compared with {lit.type}."
        )
    compare = _COMPARE[op]
    expected = lit.value
    if prop.type == "string" and len(path) == 1 and op in EQ_NE:
        # `state eq 'running'`: the test a listing by state runs on every item it scans.
        name = path[0]
        if op == "eq":
            return lambda item: item.get(name) == expected
        return lambda item: item.get(name) != expected
    if prop.type == "string" and len(path) == 1:
        # `id ge 'task-050000'`: the test a listing by ranges of ids runs on every item it
        # scans, without the general lookup and coercion (a stored string is compared as is).
        name, ordered = path[0], _ORDERED[op]

        def compare_string(item: Mapping[str, Any]) -> bool:
            value = item.get(name)
            return isinstance(value, str) and ordered(value, expected)

        return compare_string

    def check(item: Mapping[str, Any]) -> bool:
        value = _coerce(_lookup(item, path), prop.type)
        if value is None:
            return op == "ne"
        return compare(value, expected)

    return check


def compile_filter(text: str | None, spec: Mapping[str, FilterProp]) -> Predicate | None:
    """Compiles a `$filter` for a list whose filterable properties are `spec`.

    Args:
        text: The `$filter` value, or None/empty for no filter.
        spec: The list's filterable properties (e.g. `TASK_FILTER`).

    Returns:
        A predicate over wire dicts, or None when there is no filter.

    Raises:
        ServiceError: 400 InvalidQueryParameterValue with QueryParameterName, QueryParameterValue
            and Reason when the filter is malformed or uses a property the list does not allow.
    """
    if text is None or not text.strip():
        return None
    try:
        return _Parser(_tokenize(text), spec).parse()
    except FilterSyntaxError as exc:
        raise invalid_query("$filter", text, str(exc)) from exc


def filter_properties(text: str | None) -> frozenset[str]:
    """The top-level property names a `$filter` reads (`executionInfo` for
    `executionInfo/exitCode`); call it once `compile_filter` accepted the text."""
    if text is None or not text.strip():
        return frozenset()
    words = {"and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "true", "false", "null"}
    return frozenset(
        tok.text.split("/")[0]
        for tok in _tokenize(text)
        if tok.kind == "name" and tok.text.lower() not in words and tok.text != "startswith"
    )


def invalid_query(name: str, value: str, reason: str) -> ServiceError:
    """Returns the service's 400 for a bad query parameter value."""
    return ServiceError(
        400,
        "InvalidQueryParameterValue",
        "Value for one of the query parameters specified in the request URI is invalid.",
        {"QueryParameterName": name, "QueryParameterValue": value, "Reason": reason},
    )
