"""Tests that big lists leave the garbage collector's full passes, and come back when they go."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from textual.app import App, ComposeResult

from batch_tui.ui import heap
from batch_tui.ui.widgets.table_model import Column, RowData
from batch_tui.ui.widgets.virtual_table import WARM_ROWS, VirtualTable
from tests.ui.jobs_fixtures import wait_for


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_settle_freezes_and_release_collects_frozen_cycles() -> None:
    heap.release()  # start from a full collection
    before = gc.get_freeze_count()
    kept = [Cycle() for _ in range(1_000)]
    heap.settle()
    assert gc.get_freeze_count() >= before + 1_000
    assert all(not gc.is_finalized(cycle) for cycle in kept)
    del kept  # cycles: only a collection frees them, and none sees frozen objects
    gc.collect()
    frozen = gc.get_freeze_count()
    assert frozen >= before + 1_000
    heap.release()
    assert gc.get_freeze_count() < frozen - 900


class BigTable(App[None]):
    def __init__(self, rows: int = WARM_ROWS + 1_000) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield VirtualTable([Column("id", "ID"), Column("n", "N")])

    def on_mount(self) -> None:
        self.query_one(VirtualTable).set_rows(
            RowData(f"row-{i}", (f"row-{i}", str(i % 97))) for i in range(self.rows)
        )


async def test_a_big_table_settles_when_idle_and_releases_when_removed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    releases: list[int] = []
    release = heap.release
    monkeypatch.setattr(heap, "release", lambda: releases.append(1) or release())
    app = BigTable()
    async with app.run_test() as pilot:
        table = app.query_one(VirtualTable)
        await wait_for(pilot, lambda: table._settled, rounds=2_000)
        assert gc.get_freeze_count() > WARM_ROWS
        assert table._model._orders.keys() == {0, 1}  # sorts are ready before any `s`
        settled = len(releases)
        await table.remove()
        await wait_for(pilot, lambda: len(releases) > settled, rounds=100)


async def test_a_small_table_leaves_the_collector_alone() -> None:
    app = BigTable(rows=WARM_ROWS - 1)
    async with app.run_test() as pilot:
        table = app.query_one(VirtualTable)
        await pilot.pause()
        assert not [worker for worker in app.workers if worker.group == "virtual-table-warm"]
        assert not table._settled and table._model._orders == {}
