"""Proves read-only mode: every key on every screen, every dialog confirmed, no mutation sent."""

from __future__ import annotations

import string
from typing import Any

import pytest
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from batch_tui.ui.actions import ACTIONS
from batch_tui.ui.screens.help import HelpScreen
from batch_tui.ui.screens.node_detail import NodeDetailScreen
from batch_tui.ui.screens.overview import OverviewScreen
from batch_tui.ui.screens.screen_actions import parse_action
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from batch_tui.ui.widgets.key_bar import KeyBar
from tests.hardening.account_screens import ScreenBuilder, screens, seed_schedule
from tests.ui.jobs_fixtures import wait_for
from tests.ui.support import pilot_settle, screen_text

QUIT_KEYS = frozenset({"q", "ctrl+q", "ctrl+c"})
"""Keys that end the app; pressing them would end the proof, not test it."""

EXTRA_KEYS = (
    *string.ascii_lowercase,
    *string.ascii_uppercase,
    *string.digits,
    "ctrl+d",
    "ctrl+r",
    "ctrl+x",
    "ctrl+k",
    "ctrl+t",
    "enter",
    "space",
    "delete",
    "tab",
    "slash",
    "colon",
    "question_mark",
    "escape",
)
"""Keys pressed on every screen on top of its bindings."""

MUTATING_IDS = frozenset(ACTIONS)
"""Binding ids of every mutating action (node, job and task actions)."""


def keys_of(screen: Screen[Any]) -> list[str]:
    """The keys bound on a screen (its own, its widgets', the app's), plus the extra keys."""
    bound = {key for key in screen.active_bindings if key not in QUIT_KEYS}
    return sorted(bound) + [key for key in EXTRA_KEYS if key not in bound | QUIT_KEYS]


async def show(app: Any, pilot: Any, build: ScreenBuilder) -> Screen[Any]:
    """Shows a fresh screen above the overview and waits until it has loaded."""
    screen = build()
    app.show(screen)
    if isinstance(screen, OverviewScreen):
        screen = app.screen
    await wait_for(pilot, lambda: app.screen is screen and screen.is_mounted)
    await pilot_settle(pilot)
    return screen


async def answer_dialogs(app: Any, pilot: Any, home: Screen[Any]) -> None:
    """Confirms whatever dialog a key opened (yes, then enter), then closes what is left."""
    for keys in (("y",), ("enter",), ("escape",), ("escape",)):
        if not isinstance(app.screen, (ModalScreen, HelpScreen)) or app.screen is home:
            return
        await pilot.press(*keys)
        await pilot.pause()


async def back_to(app: Any, pilot: Any, home: Screen[Any], build: ScreenBuilder) -> Screen[Any]:
    """Returns to `home` by popping what a key opened over it; rebuilds it if it was left."""
    if app.screen is home:
        return home
    if home in app.screen_stack:
        while app.screen is not home:
            app.pop_screen()
        await pilot.pause()
        return home
    return await show(app, pilot, build)


def footer_text(app: Any) -> str:
    """The footer's text, as rendered."""
    footer = app.screen.query_one(KeyBar)
    lines = screen_text(app).splitlines()
    return "\n".join(lines[footer.region.y : footer.region.bottom])


async def test_every_key_on_every_screen_sends_no_mutation(
    make_app, seed_pool, seed_job, settle, emulator, recorder, worker_errors, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # a confirmed "save" writes here, not into the repo
    monkeypatch.setenv("PAGER", "true")
    nodes = await seed_pool("pool-a", 2)
    seed_job("job-1", "pool-a", ["echo one", "echo two; exit 3"])
    seed_schedule(emulator, "pool-a")
    await settle(lambda: emulator.store.tasks["job-1"]["t1"].data["state"] == "completed")
    app = make_app(read_only=True)
    pressed = 0
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot_settle(pilot)
        recorder.clear()
        for name, build in screens("pool-a", nodes[0], "job-1", "t1").items():
            home = await show(app, pilot, build)
            mutating = [
                binding
                for cls in type(home).__mro__
                for binding in cls.__dict__.get("BINDINGS", ())
                if isinstance(binding, Binding) and binding.id in MUTATING_IDS
            ]
            footer = footer_text(app)
            for binding in mutating:
                assert home.check_action(*parse_action(binding.action)) is False, binding.id
                assert binding.description not in footer, (name, binding.description)
            for key in keys_of(home):
                home = await back_to(app, pilot, home, build)
                await pilot.press(key)
                await answer_dialogs(app, pilot, home)
                pressed += 1
                assert app.is_running, f"{name}: {key} ended the app"
            await pilot_settle(pilot)
            assert recorder.mutations() == [], name
        assert pressed > 11 * 60
    assert not worker_errors.errors
    assert app.return_code in (None, 0)
    assert recorder.requests, "the proof made no request at all"


@pytest.mark.parametrize("read_only", [True, False])
async def test_footer_shows_mutating_keys_only_when_writable(
    make_app, seed_pool, seed_job, settle, emulator, read_only
):
    nodes = await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo one"])
    await settle(lambda: emulator.store.tasks["job-1"]["t0"].data["state"] == "completed")
    app = make_app(read_only=read_only)
    async with app.run_test(size=(200, 30)) as pilot:
        await show(app, pilot, lambda: NodeDetailScreen("pool-a", nodes[0]))
        assert ("Reboot" in footer_text(app)) is not read_only
        await show(app, pilot, lambda: TaskDetailScreen("job-1", "t0"))
        assert ("Delete" in footer_text(app)) is not read_only
