"""Tests that big lists leave the garbage collector's full passes, and come back when they go."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from batch_tui.ui import heap
from batch_tui.ui.heap_schedule import COLLECT_AFTER
from batch_tui.ui.widgets.table_model import TableModel
from batch_tui.ui.widgets.table_rows import Column, RowData
from batch_tui.ui.widgets.virtual_table import WARM_ROWS, VirtualTable
from tests.polling import until
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


def test_the_first_settle_freezes_without_a_full_collection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    releases: list[int] = []
    monkeypatch.setattr(heap, "release", lambda: releases.append(1))
    assert gc.get_freeze_count() == 0
    heap.settle()  # at start-up: a full pass would stall the loop for little gain
    assert gc.get_freeze_count() > 0 and releases == []


def test_the_startup_settle_freezes_the_first_screens_without_a_full_collection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    releases: list[int] = []
    monkeypatch.setattr(heap, "release", lambda: releases.append(1))
    heap.settle(startup=True)  # the mount
    first_screens = [[index] for index in range(gc.get_freeze_count())]  # grown past GROWTH
    heap.settle(startup=True)  # the first screens have their data
    assert releases == []
    later = [[index] for index in range(2 * gc.get_freeze_count())]
    heap.settle()  # a big list settles later on: the growth now means a full collection
    assert releases == [1]
    del first_screens, later


def test_collect_garbage_takes_cycles_unless_a_big_list_is_unfrozen() -> None:
    heap.settle()
    cycles = [Cycle() for _ in range(100)]
    refs = [weakref.ref(cycle) for cycle in cycles]
    del cycles
    assert heap.collect_garbage() is True
    assert all(ref() is None for ref in refs)
    loading = [Cycle() for _ in range(heap.MAX_UNFROZEN_BLOCKS)]  # rows not yet frozen
    assert heap.collect_garbage() is False  # a pass over them would stall the loop
    heap.settle()
    assert heap.collect_garbage() is True
    del loading


class Closable(Screen[None]):
    def compose(self) -> ComposeResult:
        for index in range(50):
            yield Static(f"line {index} of a screen that closes")


@pytest.fixture
def full_collections() -> Iterator[list[int]]:
    """What each full collection freed, with the collector's own schedule off: only
    explicit collections run, so the test sees the app's."""
    freed: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            freed.append(info["collected"])

    gc.disable()
    gc.callbacks.append(note)
    yield freed
    gc.callbacks.remove(note)
    gc.enable()


async def test_a_closed_screen_is_collected_soon_after(make_app, full_collections) -> None:
    app = make_app(open_account=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        app.heap_schedule.settle_startup()  # as SETTLE_AFTER after the start
        await app.push_screen(Closable())
        await pilot.pause()
        full_collections.clear()
        app.pop_screen()
        # Widgets and their render caches refer to each other: only a collection frees a
        # closed screen, and the app runs one shortly after the screen changed.
        await wait_for(pilot, lambda: bool(full_collections), rounds=200)
        assert full_collections[0] > 500


async def test_no_full_collection_before_the_startup_settle(make_app, full_collections) -> None:
    """What came since the mount is unfrozen until the settle at SETTLE_AFTER: a full pass
    over the first screens and their data would stall the loop, so none runs before it."""
    app = make_app(open_account=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        full_collections.clear()
        await app.push_screen(Closable())
        await pilot.pause()
        app.pop_screen()
        await pilot.pause(2 * COLLECT_AFTER)
        assert not full_collections
        app.heap_schedule.settle_startup()
        await app.push_screen(Closable())
        await pilot.pause()
        app.pop_screen()
        await wait_for(pilot, lambda: bool(full_collections), rounds=200)


async def test_walking_through_screens_does_not_put_the_collection_off(
    make_app, full_collections
) -> None:
    app = make_app(open_account=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        app.heap_schedule.settle_startup()
        full_collections.clear()
        # A screen change every tenth of a second, for twice the collection's delay: a
        # delay that restarted at each change would never run.
        for _ in range(round(2 * COLLECT_AFTER / 0.1)):
            await app.push_screen(Closable())
            await pilot.pause(0.05)
            app.pop_screen()
            await pilot.pause(0.05)
        assert full_collections


async def test_drop_later_frees_a_chunk_per_step_of_the_loop() -> None:
    rows = {f"row-{i}": (i, str(i)) for i in range(3 * heap.DROP_CHUNK + 1)}
    keys = [f"k{i}" for i in range(heap.DROP_CHUNK + 1)]
    heap.drop_later(rows, keys, None, {})
    assert len(rows) == 3 * heap.DROP_CHUNK + 1  # nothing freed on the call itself
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert 0 < len(rows) < 3 * heap.DROP_CHUNK + 1  # a chunk at a time
    await until(lambda: not rows and not keys)


def test_drop_later_without_a_running_loop_leaves_them_to_go_at_once() -> None:
    rows = {"a": 1}
    heap.drop_later(rows)
    assert rows == {"a": 1}  # untouched: freed when the caller lets go


async def test_a_table_replacing_its_rows_frees_the_old_ones_later() -> None:
    model = TableModel(1)
    model.set_rows(RowData(f"k{i}", (str(i),)) for i in range(2 * heap.DROP_CHUNK))
    old = model.rows
    model.set_rows([])
    assert len(old) == 2 * heap.DROP_CHUNK and model.rows == {}
    await until(lambda: not old)
