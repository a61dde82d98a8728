"""Tests the `/` filter: the joined-text search finds exactly the rows a per-row scan does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from batch_tui.ui.widgets.table_filter import FEW_ROWS, CellTest, Haystack, RowFilter

WORDS = st.sampled_from(["completed", "active", "tvm-1_a", "task-0001", "failed", "é", "0"])
TEXTS = st.lists(st.lists(WORDS, min_size=1, max_size=4).map("\t".join), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(texts=TEXTS, needle=st.sampled_from(["comp", "task-0001", "a", "\tf", "é", "zz", "0"]),
       invert=st.booleans())  # fmt: skip
def test_the_haystack_finds_the_rows_a_scan_finds(
    texts: list[str], needle: str, invert: bool
) -> None:
    keys = [f"k{index}" for index in range(len(texts))]
    row_filter = RowFilter(("!" if invert else "") + needle)
    scanned = row_filter.select(keys, texts, None)
    assert row_filter.select(keys, texts, Haystack(keys, texts)) == scanned
    assert scanned == [k for k, t in zip(keys, texts, strict=True) if row_filter.keeps(t)]


def test_the_haystack_gives_up_when_many_rows_match() -> None:
    texts = [f"task-{i}\tcompleted" for i in range(10_000)]
    haystack = Haystack([str(i) for i in range(10_000)], texts)
    assert haystack.rows_with("task-42\t", 10) == [42]
    assert haystack.rows_with("completed", 10_000 // FEW_ROWS) is None
    assert haystack.rows_with("nowhere", 10) == []


def test_a_regex_filter_scans() -> None:
    row_filter = RowFilter("^task-[12]$")
    assert row_filter.needle is None
    assert row_filter.select(["a", "b", "c"], ["task-1", "task-3", "task-2"], None) == ["a", "c"]


def test_warming_a_big_table_prepares_the_filters_haystack() -> None:
    from batch_tui.ui.widgets.table_model import HAYSTACK_ROWS, TableModel
    from batch_tui.ui.widgets.table_rows import RowData

    model = TableModel(2)
    model.set_rows(RowData(f"t{i}", (f"t{i}", "completed")) for i in range(HAYSTACK_ROWS))
    for _ in model.warm([0, 1]):
        pass
    assert model._haystack is not None
    prepared = model._haystack[1]
    model.set_filter("t42")
    assert model.view == [f"t{i}" for i in range(HAYSTACK_ROWS) if "t42" in f"t{i}"]
    assert model._haystack[1] is prepared  # the key press used it, built nothing


NEEDLES = st.sampled_from(["comp", "tvm", "a", "0", "zz"])


@settings(max_examples=300, deadline=None)
@given(texts=TEXTS, index=st.integers(0, 3), word=NEEDLES, pattern=st.sampled_from(
    ["", "!", "task", "!task", "^a", "!^t"]))  # fmt: skip
def test_cell_tests_keep_the_same_rows_with_or_without_the_haystack(
    texts: list[str], index: int, word: str, pattern: str
) -> None:
    keys = [f"k{row}" for row in range(len(texts))]
    cell = CellTest(index, lambda text: word in text, needle=word)
    row_filter = RowFilter(pattern, [cell])
    scanned = row_filter.select(keys, texts, None)
    assert row_filter.select(keys, texts, Haystack(keys, texts)) == scanned
    text_only = RowFilter(pattern) if pattern not in ("", "!") else None
    expected = [
        key
        for key, text in zip(keys, texts, strict=True)
        if index < len(cells := text.split("\t")) and word in cells[index]
        and (text_only is None or text_only.keeps(text))
    ]  # fmt: skip
    assert scanned == expected


def test_a_cell_test_looks_at_its_own_cell_only() -> None:
    texts = ["tvm-1\tcompleted", "completed\ttvm-1"]
    row_filter = RowFilter("", [CellTest(1, lambda text: "tvm" in text, needle="tvm")])
    assert row_filter.select(["a", "b"], texts, None) == ["b"]
    assert row_filter.needle == "tvm"
