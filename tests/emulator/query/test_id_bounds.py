"""Tests the bounds a `$filter` puts on `id`, and paging that tests only the items within them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from batch_tui.emulator.query.filter import compile_filter
from batch_tui.emulator.query.filter_tables import TASK_FILTER
from batch_tui.emulator.query.id_bounds import IdBounds, id_bounds
from batch_tui.emulator.query.paging import PageRequest, take_page

IDS = ["b", "a", "c2", "C1", "c", "d'x", "c1", "e", "c10", "b"]
"""Ids in no order, with upper case (sorted before lower case) and a quote."""


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("id ge 'c' and id lt 'd'", IdBounds("c", False, "d", True)),
        ("state eq 'active' and id gt 'c1'", IdBounds("c1", True)),
        (
            "id le 'x''y' and (state eq 'active' or state eq 'running')",
            IdBounds(None, False, "x'y"),
        ),
        ("id eq 'c1'", IdBounds("c1", False, "c1", False)),
        ("id ge 'a' and id ge 'c' and id lt 'z' and id lt 'e'", IdBounds("c", False, "e", True)),
        ("id ge 'a' And id LT 'b'", IdBounds("a", False, "b", True)),
        # As the client writes a range (`odata.and_`): each comparison in parentheses.
        ("(id ge 'a') and (id lt 'b')", IdBounds("a", False, "b", True)),
        ("((id ge 'a' and state eq 'active')) and (id lt 'b')", IdBounds("a", False, "b", True)),
        ("(id ge 'a' or id lt 'b') and id le 'c'", IdBounds(None, False, "c")),
    ],
)
def test_required_id_comparisons_bound_the_ids(text: str, bounds: IdBounds) -> None:
    assert id_bounds(text) == bounds


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "state eq 'active'",
        "id ge 'c' or state eq 'active'",  # a top-level or: an id outside may pass
        "(id ge 'c') or id lt 'b'",
        "(id ge 'c') or (id lt 'b')",
        "(id ge 'c' or id lt 'b')",
        "not id ge 'c'",
        "(id ge 'c' or id lt 'b') and state eq 'active'",
        "startswith(id, 'c')",
        "state eq 'id ge ''c'''",  # the comparison is inside a string
        "id ne 'c'",
    ],
)
def test_filters_that_do_not_require_an_id_range_give_no_bounds(text: str | None) -> None:
    assert id_bounds(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "id ge 'c' and id lt 'd'",
        "id gt 'c1' and id le 'c2'",
        "id ge 'C' and id lt 'c'",
        "id eq 'b'",
        "id ge 'd''x'",
        "id lt 'b' and state eq 'active'",
        "(id ge 'c') and (id lt 'd')",
    ],
)
@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_pages_with_bounds_hold_what_the_filter_alone_gives(text: str, size: int) -> None:
    items = [{"id": item_id, "state": "active"} for item_id in IDS]
    accept = compile_filter(text, TASK_FILTER)
    bounds = id_bounds(text)
    assert accept is not None and bounds is not None

    def listing(with_bounds: bool) -> list[tuple[list[str], str | None]]:
        def candidates(start: int) -> Iterator[int]:
            return bounds.candidates((item["id"] for item in items[start:]), start)

        pages, token = [], None
        while True:
            page, token = take_page(
                items,
                lambda item: item["id"].lower(),
                accept,
                PageRequest(size, token),
                candidates if with_bounds else None,
            )
            pages.append(([item["id"] for item in page], token))
            if token is None:
                return pages

    expected = [item_id for item_id in IDS if accept({"id": item_id, "state": "active"})]
    assert expected, "each filter takes some ids"
    pages = listing(True)
    assert pages == listing(False)
    assert [item_id for page, _ in pages for item_id in page] == expected
    assert all(page for page, _ in pages)  # no empty last page behind a next link


def test_only_the_items_within_the_bounds_are_tested() -> None:
    items = [{"id": f"t{index:04d}", "state": "active"} for index in range(5000)]
    text = "id ge 't2000' and id lt 't2100'"
    predicate = compile_filter(text, TASK_FILTER)
    bounds = id_bounds(text)
    assert predicate is not None and bounds is not None
    tested: list[str] = []

    def accept(item: dict[str, Any]) -> bool:
        tested.append(item["id"])
        return predicate(item)

    def candidates(start: int) -> Iterator[int]:
        return bounds.candidates((item["id"] for item in items[start:]), start)

    page, token = take_page(
        items, lambda item: item["id"], accept, PageRequest(50, None), candidates
    )
    assert [item["id"] for item in page] == [f"t{index:04d}" for index in range(2000, 2050)]
    assert token is not None and tested == [item["id"] for item in page] + ["t2050"]
    page, token = take_page(
        items, lambda item: item["id"], accept, PageRequest(50, token), candidates
    )
    assert page[-1]["id"] == "t2099" and token is None
    assert len(tested) == 101  # not the 4,900 ids outside the range
