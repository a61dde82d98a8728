"""Tests the workarounds for Textual bugs: each must remove the bug it names."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Label

from batch_tui.ui import textual_fixes


class Cards(Screen[None]):
    def compose(self) -> ComposeResult:
        for index in range(40):
            yield Label(f"card {index}", classes="card")


class CardsApp(App[None]):
    CSS = ".card { background: $panel; }"  # a background: rendering asks get_inner_outer


def test_the_app_applies_the_fixes_when_built_and_importing_it_patches_nothing() -> None:
    code = (
        "from textual._styles_cache import StylesCache\n"
        "from textual.widgets import OptionList\n"
        "def patched(): return StylesCache.__dict__['get_inner_outer'], OptionList._move_page\n"
        "textual = patched()\n"
        "import batch_tui.ui.app\n"
        "from batch_tui.config import Settings\n"
        "imported = patched()\n"
        "batch_tui.ui.app.BatchApp(Settings(), targets=[])\n"
        "built = patched()\n"
        "print(imported == textual, built[0] is not textual[0], built[1] is not textual[1])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True"]


async def test_closed_screens_leave_no_styles_caches_behind() -> None:
    textual_fixes.apply()  # as BatchApp does; a second call changes nothing
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
