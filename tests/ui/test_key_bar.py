"""Tests KeyBar: the screen's keys on one line, redrawn only when they change, clickable."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input

from batch_tui.ui.widgets.key_bar import SEPARATOR, KeyBar


class Keys(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh_now", "Refresh"),
        Binding("x", "delete", "Delete"),
        Binding("q", "quit", "Quit", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.refreshed = 0
        self.allow_delete = False

    def compose(self) -> ComposeResult:
        yield Input(id="field")
        yield KeyBar()

    def action_refresh_now(self) -> None:
        self.refreshed += 1

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "delete":
            return self.allow_delete or None  # None: shown, dimmed
        return True


def bar_line(app: Keys) -> str:
    bar = app.query_one(KeyBar)
    return "".join(segment.text for segment in bar.render_line(0))


async def test_shows_keys_with_the_palette_on_the_right_and_dims_unavailable_ones() -> None:
    app = Keys()
    async with app.run_test(size=(60, 10)) as pilot:
        app.set_focus(None)
        await pilot.pause()
        bar = app.query_one(KeyBar)
        keys, palette = bar.keys
        assert [(key.key, key.description, key.enabled) for key in keys] == [
            ("r", "Refresh", True),
            ("x", "Delete", False),
        ]
        line = bar_line(app)
        assert line.startswith(" r Refresh  x Delete ")
        assert palette is not None and line.rstrip().endswith(f"{SEPARATOR} ^p palette")
        assert len(line) == 60


async def test_redraws_only_when_the_keys_change() -> None:
    app = Keys()
    async with app.run_test(size=(60, 10)) as pilot:
        app.set_focus(None)
        await pilot.pause()
        bar = app.query_one(KeyBar)
        shown = bar.keys
        app.refresh_bindings()
        await pilot.pause()
        assert bar.keys is shown  # same keys: not even replaced
        app.allow_delete = True
        app.refresh_bindings()
        await pilot.pause()
        assert bar.keys[0][1].enabled


async def test_a_click_presses_the_key_and_narrow_bars_drop_keys() -> None:
    app = Keys()
    async with app.run_test(size=(60, 10)) as pilot:
        app.set_focus(None)
        await pilot.pause()
        await pilot.click(KeyBar, offset=(3, 0))
        await pilot.pause()
        assert app.refreshed == 1
        await pilot.resize_terminal(28, 10)
        await pilot.pause()
        line = bar_line(app)
        assert "Refresh" in line and "Delete" not in line and "palette" in line
