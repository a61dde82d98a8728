"""Splits a job's task ids into ranges the service can list apart: ``id ge 'a' and id lt 'b'``.

The List Tasks filter compares ``id`` with ``ge``/``lt``, and a task's id never changes, so
ranges of ids cut a job into parts that never overlap, whatever the tasks do while they are
listed (states do not: a task that completes during a listing by state moves between parts).

Where to cut comes from the first page of the job, which a view lists first anyway:

- when its ids come in ascending order (the service lists in id order), they are the job's
  lowest ids: the cuts extrapolate from how much of the id space those ids span to where the
  job's ``count`` ids end (`extrapolated_cuts`);
- else they are a sample of the job: the cuts are its quantiles (`sample_cuts`).

Ids become numbers by a mapping that keeps their order (`IdSpace`), so a span can be
measured and cut evenly. The cuts only decide how big the parts are, never which tasks are
listed: the first part has no lower bound and the last no upper one, so every id is in
exactly one part even when a guess is wrong.

Every cut is lower-case letters, digits, ``-`` and ``_``: those compare in the same order
whether the service compares ids as they are or case-folded, so the parts are the same
under either rule.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from batch_tui.batch import odata

DIGITS: Final = "0123456789"
HEX: Final = "0123456789abcdef"
LOWER: Final = "abcdefghijklmnopqrstuvwxyz"
ID_CHARS: Final = "-0123456789_abcdefghijklmnopqrstuvwxyz"
"""The characters of a Batch id (letters, digits, ``-``, ``_``), upper case folded, in the
order both an ordinal and a case-folded comparison give them."""

ALPHABETS: Final = (DIGITS, HEX, LOWER, DIGITS + LOWER, ID_CHARS)
"""The character sets a position of an id may draw from, smallest first: a run of numbers
(``task-000123``) is cut as decimal, a GUID as hex, anything else over every id character."""

_PRECISION: Final = 12
"""Positions of an id a cut takes into account: a span measured in 38**12 parts is fine
enough for jobs of billions of tasks."""


@dataclass(frozen=True)
class IdRange:
    """The ids ``low <= id < high``; None is no bound."""

    low: str | None = None
    high: str | None = None

    def filter(self) -> odata.Filter | None:
        """The `$filter` that lists this range (None: the whole job)."""
        parts = []
        if self.low is not None:
            parts.append(odata.ge("id", self.low))
        if self.high is not None:
            parts.append(odata.lt("id", self.high))
        return odata.and_(*parts) if parts else None

    def holds(self, task_id: str) -> bool:
        """Whether an id falls in this range (ids compared case-folded, as cuts are)."""
        folded = task_id.lower()
        return (self.low is None or folded >= self.low) and (
            self.high is None or folded < self.high
        )


def ranges_between(cuts: Sequence[str], *, low: str | None = None) -> list[IdRange]:
    """The ranges that ascending `cuts` make: from `low` (None: no bound) to the first,
    between each, and from the last on."""
    bounds: list[str | None] = [low, *cuts, None]
    return [IdRange(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


class IdSpace:
    """Maps ids to numbers in [0, 1) and back, keeping their order.

    Each position of an id has an alphabet (`ALPHABETS`: the smallest that holds every
    character seen there in a sample, or the characters of a common prefix); a position's
    digit is the rank of its character, 0 meaning "the id ended". Characters outside a
    position's alphabet are ranked between their neighbours, so the order always holds.
    """

    def __init__(self, sample: Sequence[str]) -> None:
        folded = {task_id.lower() for task_id in sample}
        width = min(_PRECISION, max((len(i) for i in folded), default=1))
        self._min_length = min((len(i) for i in folded), default=0)
        seen = [{i[p] for i in folded if len(i) > p} for p in range(width)]
        varying = "".join(c for chars in seen if len(chars) > 1 for c in chars)
        wide = _smallest_alphabet(varying or DIGITS)
        # A character every sampled id has in a place ("0" in task-000123, "-" in a GUID) may
        # still vary beyond the sample if the varying places use it (the zeros do): such a
        # place gets their alphabet. One that does not ("-", the "task" of task-000123) stays
        # as it is: an alphabet of its one character.
        self._alphabets = ["".join(sorted(chars)) if not chars <= set(wide) else wide
                           for chars in seen]  # fmt: skip
        fixed = 0
        while fixed < width and self._alphabets[fixed] != wide:
            fixed += 1
        self.fixed_prefix = "".join(self._alphabets[:fixed])
        """The characters every id of the sample starts with and that no other id of the job
        is likely to change ("task-" of task-000123)."""

    def _base(self, position: int) -> int:
        # Every sampled id is at least `_min_length` long: before that, no digit is needed
        # for "the id ended", and numbers like 000123 map to a span of evenly spaced values.
        alphabet = len(self._alphabets[position])
        return alphabet if position < self._min_length else alphabet + 1

    def value(self, task_id: str) -> float:
        """The number of an id: ids in ascending order have numbers in ascending order (or
        equal ones, for ids that differ only past the positions measured)."""
        folded = task_id.lower()
        total = 0.0
        scale = 1.0
        for position, alphabet in enumerate(self._alphabets):
            scale /= self._base(position)
            if position >= len(folded):
                break
            offset = 0 if position < self._min_length else 1
            char = folded[position]
            rank = alphabet.find(char)
            if rank < 0:
                # Not in this position's alphabet: level with the first id above it (ids
                # that compare apart may share a number; none comes out of order).
                total += (bisect.bisect_left(alphabet, char) + offset) * scale
                break
            total += (rank + offset) * scale
        return total

    def top(self) -> float:
        """The number past every id that starts with `fixed_prefix`."""
        return self.value(self.fixed_prefix + "~") if self.fixed_prefix else 1.0

    def id_at(self, value: float) -> str:
        """An id whose number is close to `value` (where to cut a span)."""
        chars: list[str] = []
        remainder = min(max(value, 0.0), 1.0 - 1e-12)
        for position, alphabet in enumerate(self._alphabets):
            remainder *= self._base(position)
            digit = int(remainder)
            remainder -= digit
            rank = digit if position < self._min_length else digit - 1
            # Rank -1 is "the id ended"; a cut goes on with the lowest character instead.
            chars.append(alphabet[min(max(rank, 0), len(alphabet) - 1)])
            if position >= self._min_length and remainder <= 1e-9:
                break
        return "".join(chars)


def _smallest_alphabet(chars: str) -> str:
    present = set(chars)
    for alphabet in ALPHABETS:
        if present <= set(alphabet):
            return alphabet
    return ID_CHARS


def _common_prefix_length(ids: Sequence[str]) -> int:
    if not ids:
        return 0
    first, last = ids[0], ids[-1]  # sorted: the common prefix of all is theirs
    length = 0
    while length < min(len(first), len(last)) and first[length] == last[length]:
        length += 1
    return length


def is_ascending(ids: Sequence[str]) -> bool:
    """Whether ids come in strictly ascending (case-folded) order: a page of a service that
    lists in id order."""
    folded = [i.lower() for i in ids]
    return all(a < b for a, b in itertools.pairwise(folded))


def even_cuts(space: IdSpace, low: float, high: float, parts: int) -> list[str]:
    """Cuts that split the numbers [low, high) into `parts` spans of equal width, as ids
    (ascending, no repeats; fewer when the space is too narrow to cut so fine)."""
    cuts: list[str] = []
    for n in range(1, parts):
        cut = space.id_at(low + (high - low) * n / parts)
        if (not cuts or cut > cuts[-1]) and space.value(cut) > low:
            cuts.append(cut)
    return cuts


def extrapolated_cuts(first_page: Sequence[str], count: int, parts: int) -> list[str]:
    """Cuts into `parts` for a job of `count` tasks whose lowest ids are `first_page`.

    The first page spans some width of the id space; `count` ids at the same density end
    `count / len(first_page)` times as far. The cuts divide that extent evenly, from the
    page's last id on (the part below it is the first page's own).
    """
    if len(first_page) < 2 or parts < 2:
        return []
    space = IdSpace(first_page)
    start, end = space.value(first_page[0]), space.value(first_page[-1])
    width = max(end - start, 1e-12)
    extent = min(space.top(), start + width * count / len(first_page))
    return [c for c in even_cuts(space, end, max(extent, end), parts) if c > first_page[-1].lower()]


def sample_cuts(sample: Sequence[str], parts: int) -> list[str]:
    """Cuts at the quantiles of a sample of a job's ids (a page in no particular order)."""
    folded = sorted({i.lower() for i in sample})
    if len(folded) < 2 or parts < 2:
        return []
    cuts: list[str] = []
    for n in range(1, parts):
        cut = folded[len(folded) * n // parts]
        if not cuts or cut > cuts[-1]:
            cuts.append(cut)
    return cuts


def split_range(space: IdSpace, part: IdRange, pieces: int, low_id: str) -> list[IdRange]:
    """Splits a range that proved big into `pieces`, evenly from `low_id` (its lowest id
    seen) to its upper bound (for an open range, the end of the space); the pieces cover the
    whole range, bounds included."""
    low = space.value(part.low) if part.low is not None else space.value(low_id)
    high = space.value(part.high) if part.high is not None else space.top()
    cuts = [c for c in even_cuts(space, low, high, pieces) if part.holds(c) and c != part.low]
    if not cuts:
        return [part]
    bounds: list[str | None] = [part.low, *cuts, part.high]
    return [IdRange(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
