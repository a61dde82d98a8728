"""Provides the bounds a `$filter` puts on `id`, so a list can skip what they rule out cheaply.

A client lists a big job in ranges of ids side by side (`id ge 'task-500000' and id lt
'task-506000'`). Evaluating the whole filter on each of a million tasks to find the few
thousand in the range takes seconds a page; comparing ids with the bounds takes a tenth of
that, and the full filter then runs only on the tasks inside them.

Only bounds the filter requires are taken: comparisons of `id` with a string, joined to the
rest by a top-level `and`. Parentheses around a comparison or a conjunction
(`(id ge 'a') and (id lt 'b')`, as the client writes a range) count the same as without. A
filter with a top-level `or`, or whose `id` comparisons sit inside an `or` or a `not`, gives
no bounds from them (the list scans as before), never wrong ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

_TOKEN = re.compile(r"\s*('(?:[^']|'')*'|[A-Za-z_$][\w/$]*|\S)")
"""Tokens enough to find the top level: quoted strings (a quote inside doubled), words and
single characters (parentheses, commas, the rest of a literal)."""

_BOUNDING_OPS = frozenset({"eq", "ge", "gt", "le", "lt"})


@dataclass(frozen=True)
class IdBounds:
    """`low <= id <= high` (`<` where the side is open), as the filter compares: case-sensitive
    string order. A side that is None is unbounded."""

    low: str | None = None
    low_open: bool = False
    high: str | None = None
    high_open: bool = False

    def holds(self, item_id: str) -> bool:
        """Whether an item with this id may pass the filter (outside the bounds it cannot)."""
        if self.low is not None and (item_id < self.low or (self.low_open and item_id == self.low)):
            return False
        return self.high is None or not (
            item_id > self.high or (self.high_open and item_id == self.high)
        )

    def candidates(self, ids: Iterable[str], start: int) -> Iterator[int]:
        """The positions, counted from `start`, of the ids within the bounds, in order."""
        low, high = self.low, self.high
        # The ranges a client lists (`ge` a cut, `lt` the next) compared inline: calling
        # `holds` for each of a million ids would cost three times as long.
        if low is not None and not self.low_open and (high is None or self.high_open):
            if high is None:
                return (index for index, item_id in enumerate(ids, start) if low <= item_id)
            return (index for index, item_id in enumerate(ids, start) if low <= item_id < high)
        if low is None and high is not None and self.high_open:
            return (index for index, item_id in enumerate(ids, start) if item_id < high)
        holds = self.holds
        return (index for index, item_id in enumerate(ids, start) if holds(item_id))

    def narrowed(self, op: str, value: str) -> IdBounds:
        """These bounds and `id <op> value` both."""
        bounds = self
        if op in ("eq", "ge", "gt"):
            open_ = op == "gt"
            if bounds.low is None or value > bounds.low or (value == bounds.low and open_):
                bounds = replace(bounds, low=value, low_open=open_)
        if op in ("eq", "le", "lt"):
            open_ = op == "lt"
            if bounds.high is None or value < bounds.high or (value == bounds.high and open_):
                bounds = replace(bounds, high=value, high_open=open_)
        return bounds


def _top_level_terms(tokens: list[str]) -> list[list[str]] | None:
    """Splits a filter's tokens at their top-level `and`s; None when they have a top-level
    `or` or their parentheses do not balance (the parser refuses that anyway)."""
    terms: list[list[str]] = [[]]
    depth = 0
    for token in tokens:
        word = token.lower()
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0 and word == "or":
            return None
        elif depth == 0 and word == "and":
            terms.append([])
            continue
        terms[-1].append(token)
    return terms if depth == 0 else None


def _inside_parentheses(term: list[str]) -> list[str] | None:
    """The tokens inside a term that is one parenthesised group (`(id ge 'a')`), or None."""
    if len(term) < 2 or term[0] != "(" or term[-1] != ")":
        return None
    depth = 0
    for token in term[:-1]:
        depth += token == "("
        depth -= token == ")"
        if depth == 0:  # closed before the end: `(a) and (b)` is not one group
            return None
    return term[1:-1]


def _narrowed(bounds: IdBounds, tokens: list[str]) -> IdBounds:
    """`bounds` and those the conjunction of `tokens` requires (a group's own `and`s too)."""
    terms = _top_level_terms(tokens)
    for term in terms or []:
        inner = _inside_parentheses(term)
        if inner is not None:
            bounds = _narrowed(bounds, inner)
        elif len(term) == 3 and term[0] == "id" and term[2].startswith("'"):
            op = term[1].lower()
            if op in _BOUNDING_OPS:
                bounds = bounds.narrowed(op, term[2][1:-1].replace("''", "'"))
    return bounds


def id_bounds(text: str | None) -> IdBounds | None:
    """Returns the bounds a valid `$filter` puts on `id`, or None when it puts none.

    Args:
        text: The `$filter` value; a filter the parser refuses yields whatever bounds, as the
            request fails before any item is tested.
    """
    if not text:
        return None
    bounds = _narrowed(IdBounds(), _TOKEN.findall(text))
    return None if bounds == IdBounds() else bounds
