"""Tests the table's sort strings against a plain natural-order key, and the model's orders."""

from __future__ import annotations

import random
import re

from hypothesis import given
from hypothesis import strategies as st

from batch_tui.ui.widgets.table_model import TableModel
from batch_tui.ui.widgets.table_rows import RowData
from batch_tui.ui.widgets.table_sort import number_string, text_string, value_string

_DIGITS = re.compile(r"([0-9]+)")


def natural_key(text: str) -> tuple[object, ...]:
    """The order the sort strings encode, spelled out as tuples (slow, but plain to read)."""
    stripped = text.strip()
    if not stripped:
        return (2,)
    if stripped[0] in "0123456789+-.":
        try:
            number = float(stripped.replace(",", ""))
        except ValueError:
            pass
        else:
            if number == number:
                return (0, number)
    parts: list[object] = _DIGITS.split(stripped.lower())
    parts[1::2] = [int(part) for part in parts[1::2]]  # type: ignore[arg-type]
    return (1, *parts)


# Cell texts are sanitised before they reach the table: no NUL (the text-run terminator).
cell_text = st.one_of(
    st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=12),
    st.from_regex(r"[a-zA-Z_-]{0,4}[0-9]{0,6}[a-z.]{0,2}[0-9]{0,3}", fullmatch=True),
    st.floats(allow_nan=False).map(str),
    st.integers(-(10**12), 10**12).map(lambda n: f"{n:,}"),
)


@given(st.lists(cell_text, max_size=30))
def test_sort_strings_order_like_the_natural_key(texts: list[str]) -> None:
    by_string = sorted(texts, key=text_string)
    assert [natural_key(text) for text in by_string] == sorted(map(natural_key, texts))


@given(cell_text, cell_text)
def test_equal_natural_keys_have_equal_sort_strings(first: str, second: str) -> None:
    assert (natural_key(first) == natural_key(second)) == (
        text_string(first) == text_string(second)
    )


@given(st.lists(st.floats(allow_nan=False), max_size=30))
def test_number_strings_order_by_value(values: list[float]) -> None:
    assert sorted(values, key=number_string) == sorted(values)
    assert all(number_string(value) < text_string("a") for value in values)


def test_sort_values_stand_in_for_text() -> None:
    assert value_string(2**30, "1.0 GiB") > value_string(900 * 2**20, "900 MiB")
    assert value_string(None, "node-9") < value_string("node-10", "x")


def rows(count: int, seed: int = 7) -> list[RowData]:
    shuffle = random.Random(seed)
    states = ["active", "running", "completed", "failed"]
    return [
        RowData(
            f"task-{index}",
            (f"task-{index}", shuffle.choice(states), str(shuffle.randint(-3, 300))),
            sort_values=(None, None, None) if index % 5 else (None, None, float(index)),
        )
        for index in range(count)
    ]


def expected_view(model: TableModel, column: int) -> list[str]:
    def key(row_key: str) -> str:
        return model._strings([row_key], column)[0]

    return sorted(model.rows, key=key)


def test_warm_orders_match_a_plain_sort_and_survive_patches() -> None:
    model = TableModel(3)
    model.set_rows(rows(12_000))
    steps = sum(1 for _ in model.warm([0, 1, 2]))
    assert steps > 3  # prepared in several short steps, not one long one
    for column in range(3):
        model.sort_by(column)
        assert model.view == expected_view(model, column)
    model.sort_by(1)
    changed = [RowData(f"task-{i}", (f"task-{i}", "zz-new", "1")) for i in range(0, 300, 7)]
    added = [RowData(f"extra-{i}", (f"extra-{i}", "aa-new", "2")) for i in range(5)]
    model.update_rows(changed + added)
    assert model.view == expected_view(model, 1)
    assert model.view[:5] == [f"extra-{i}" for i in range(5)]
    model.sort_by(1, reverse=True)
    assert model.view == expected_view(model, 1)[::-1]
    model.sort_by(2)  # its order was dropped by the update: computed again
    assert model.view == expected_view(model, 2)


def test_warm_stops_when_rows_change() -> None:
    model = TableModel(3)
    model.set_rows(rows(12_000))
    steps = model.warm([0, 1, 2])
    next(steps)
    model.update_rows([RowData("task-1", ("task-1", "changed", "9"))])
    assert list(steps) == []
    assert model._orders == {}


def test_filter_then_sort_in_either_order() -> None:
    model = TableModel(3)
    model.set_rows(rows(5_000))
    model.set_filter("fail")
    failed = [key for key, row in model.rows.items() if row.cells[1] == "failed"]
    assert model.view == failed
    model.sort_by(2)
    assert model.view == [key for key in expected_view(model, 2) if key in set(failed)]
    model.set_filter("^TASK-4[0-9][^0-9]")  # few matches: sorted on their own
    assert model.view == [
        key for key in expected_view(model, 2) if re.fullmatch("task-4[0-9]", key)
    ]
    model.set_filter("!TASK-")  # case-insensitive, inverted
    assert model.view == []
    model.set_filter(r"\d{4}")  # an escape: matched case-insensitively on the original
    assert len(model.view) == 4_000


def test_rows_listed_in_parts_show_in_key_order() -> None:
    model = TableModel(2)
    row = lambda key, state: RowData(key, (key, state))  # noqa: E731
    model.update_rows([row("t3", "running"), row("t7", "running")])  # one stream's page
    model.update_rows([row("t1", "completed"), row("t9", "completed")])  # another's
    assert model.view == ["t3", "t7", "t1", "t9"]  # the order they came in
    model.order_by_key()
    assert model.view == ["t1", "t3", "t7", "t9"]
    model.update_rows([row("t5", "active")])  # a later page, or a delta refresh
    assert model.view == ["t1", "t3", "t5", "t7", "t9"]
    model.set_filter("running")
    assert model.view == ["t3", "t7"]
    model.set_filter("")
    model.sort_by(1, reverse=True)
    assert set(model.view[:2]) == {"t3", "t7"}
    model.sort_by(None)
    assert model.view == ["t1", "t3", "t5", "t7", "t9"]
    model.remove_keys(["t3"])
    assert model.view == ["t1", "t5", "t7", "t9"]
