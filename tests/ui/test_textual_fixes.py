"""Tests the workarounds for Textual bugs: each must remove the bug it names."""

from __future__ import annotations

import gc
import weakref

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Label

import batch_tui.ui.app  # noqa: F401 - importing the app applies the fixes, as in real runs
from batch_tui.ui import textual_fixes


class Cards(Screen[None]):
    def compose(self) -> ComposeResult:
        for index in range(40):
            yield Label(f"card {index}", classes="card")


class CardsApp(App[None]):
    CSS = ".card { background: $panel; }"  # a background: rendering asks get_inner_outer


async def test_closed_screens_leave_no_styles_caches_behind() -> None:
    textual_fixes.apply()  # a second call changes nothing
    app = CardsApp()
    caches: list[weakref.ref[object]] = []
    async with app.run_test() as pilot:
        for _ in range(3):
            screen = Cards()
            await app.push_screen(screen)
            await pilot.pause()
            caches += [weakref.ref(label._styles_cache) for label in screen.query(Label)]
            app.pop_screen()
            await pilot.pause()
            del screen
        gc.collect()
        alive = sum(ref() is not None for ref in caches)
    # Textualize/textual#6665: lru_cache on the instance method kept every one of them.
    assert len(caches) == 120
    assert alive == 0
