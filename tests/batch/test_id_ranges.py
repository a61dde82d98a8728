"""Tests the cutting of task ids into ranges: ordered cuts, ranges that cover every id once."""

from __future__ import annotations

import bisect
import random
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from batch_tui.batch.id_ranges import (
    ID_CHARS,
    IdRange,
    IdSpace,
    extrapolated_cuts,
    ranges_between,
    sample_cuts,
    split_range,
)

batch_ids = st.text(alphabet=ID_CHARS + "ABCXYZ", min_size=1, max_size=20)


def _shares(ids: list[str], cuts: list[str]) -> list[int]:
    ordered = sorted(i.lower() for i in ids)
    edges = [0, *(bisect.bisect_left(ordered, c) for c in cuts), len(ordered)]
    return [b - a for a, b in zip(edges, edges[1:], strict=False)]


def test_zero_padded_ids_are_cut_into_even_ranges_from_the_first_page_alone() -> None:
    ids = [f"task-{n:06d}" for n in range(100_000)]
    cuts = extrapolated_cuts(ids[:1000], 100_000, 20)
    shares = _shares(ids, cuts)
    assert len(shares) == 20
    assert max(shares) < 1.3 * 100_000 / 20


def test_guids_are_cut_within_a_third_of_even() -> None:
    draw = random.Random(7)
    guids = sorted(str(uuid.UUID(int=draw.getrandbits(128))) for _ in range(50_000))
    shares = _shares(guids, extrapolated_cuts(guids[:1000], len(guids), 8))
    assert len(shares) == 8
    assert max(shares) < 1.35 * len(guids) / 8, shares


def test_unpadded_numbers_are_cut_unevenly_but_no_range_holds_a_third() -> None:
    # frame-1 .. frame-50000 in id order: 11,111 ids start with each of 1-4 and 1,111 with
    # each of 6-9, which the first page cannot show; the listing splits what proves big.
    ids = sorted(f"frame-{n}" for n in range(1, 50_001))
    shares = _shares(ids, extrapolated_cuts(ids[:1000], len(ids), 8))
    assert max(shares) < len(ids) / 3, shares


@given(st.lists(batch_ids, min_size=2, max_size=300, unique_by=str.lower), st.integers(2, 40))
def test_cuts_ascend_and_the_ranges_hold_every_id_exactly_once(ids: list[str], parts: int) -> None:
    ordered = sorted(ids, key=str.lower)
    for cuts in (
        extrapolated_cuts(ordered[: len(ordered) // 2 + 1], len(ordered) * 7, parts),
        sample_cuts(ids, parts),
    ):
        assert cuts == sorted(set(cuts))
        assert all(c == c.lower() for c in cuts)
        ranges = ranges_between(cuts)
        for task_id in ids:
            assert sum(r.holds(task_id) for r in ranges) == 1


@settings(max_examples=200)
@given(st.lists(batch_ids, min_size=2, max_size=200, unique_by=str.lower))
def test_the_id_space_keeps_the_order_of_ids(ids: list[str]) -> None:
    space = IdSpace(ids[: max(2, len(ids) // 3)])
    ordered = sorted(ids, key=str.lower)
    values = [space.value(i) for i in ordered]
    assert values == sorted(values)
    assert all(0.0 <= v <= 1.0 for v in values)


@given(
    st.lists(batch_ids, min_size=2, max_size=100, unique_by=str.lower),
    st.integers(2, 30),
    st.sampled_from([None, "m"]),
    st.sampled_from([None, "t"]),
)
def test_a_split_range_s_pieces_cover_it_and_nothing_else(
    ids: list[str], pieces: int, low: str | None, high: str | None
) -> None:
    part = IdRange(low, high)
    space = IdSpace(ids)
    split = split_range(space, part, pieces, min(ids, key=str.lower))
    assert split[0].low == part.low and split[-1].high == part.high
    assert all(a.high == b.low for a, b in zip(split, split[1:], strict=False))
    for task_id in ids:
        assert sum(r.holds(task_id) for r in split) == int(part.holds(task_id))


def test_a_range_s_filter_is_what_the_service_is_sent() -> None:
    assert IdRange().filter() is None
    assert str(IdRange("a", None).filter()) == "id ge 'a'"
    assert str(IdRange("a", "b'c").filter()) == "(id ge 'a') and (id lt 'b''c')"
