"""Tests the small fixes of issue 12 item 14: copy in tmux, help's title, a task not found."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from textual.app import App

from batch_tui.ui.clipboard import copy_text
from batch_tui.ui.screens.help import HelpScreen
from batch_tui.ui.screens.task_detail import TaskDetailScreen
from tests.ui.jobs_fixtures import open_screen, shows
from tests.ui.support import pilot_settle

PLAIN = f"\x1b]52;c;{base64.b64encode(b'ssh u@h').decode()}\x07"


class Copier(App[None]):
    """An app whose terminal output is recorded (the headless driver writes nowhere)."""


@contextlib.asynccontextmanager
async def terminal_of(app: App[None]) -> AsyncIterator[list[str]]:
    """Runs `app` headless and yields what it writes to its terminal from then on."""
    async with app.run_test():
        driver = app._driver
        assert driver is not None
        out: list[str] = []
        driver.write = out.append  # type: ignore[method-assign]
        yield out


async def test_copy_inside_tmux_sends_the_plain_form_too() -> None:
    # tmux 3.3 drops the DCS passthrough unless `allow-passthrough on`, and forwards the
    # plain form with `set-clipboard on`: one of the two must reach the outer terminal.
    app = Copier()
    async with terminal_of(app) as out:
        copy_text(app, "ssh u@h", environ={"TMUX": "/tmp/tmux-0/default,1,0"})
        assert len(out) == 2
        assert out[0].startswith("\x1bPtmux;\x1b\x1b]52;c;") and out[0].endswith("\x1b\\")
        assert out[1] == PLAIN
        assert app.clipboard == "ssh u@h"


async def test_copy_outside_tmux_sends_only_the_plain_form() -> None:
    app = Copier()
    async with terminal_of(app) as out:
        copy_text(app, "ssh u@h", environ={})
        assert out == [PLAIN]
        assert app.clipboard == "ssh u@h"


async def test_copy_sanitizes_what_it_copies() -> None:
    app = Copier()
    async with terminal_of(app) as out:
        copy_text(app, "ssh \x1b[31mu@h\x07", environ={"TMUX": "/tmp/tmux-0/default"})
        inner = out[0].split(";", 3)[3].split("\x07")[0]
        assert base64.b64decode(inner).decode() == "ssh u@h␇"
        assert app.clipboard == "ssh u@h␇"


async def test_help_is_titled_with_the_screens_name(make_app: Any, seed_pool: Any, seed_job: Any):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo hi"])
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot_settle(pilot)
        await open_screen(pilot, "task job-1 t0", TaskDetailScreen)
        await pilot.press("question_mark")
        await pilot_settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await shows(pilot, "Keys: jobs › job-1 › task t0")
        assert app.screen.screen_title == "jobs › job-1 › task t0"


async def test_task_not_found_says_so(make_app: Any, seed_pool: Any, seed_job: Any):
    await seed_pool("pool-a", 1)
    seed_job("job-1", "pool-a", ["echo hi"])
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot_settle(pilot)
        screen = await open_screen(pilot, "task job-1 typo", TaskDetailScreen)
        await shows(pilot, "Task typo not found in job job-1")
        assert "loading…" not in str(screen.query_one("#task-summary").render())
        await open_screen(pilot, "task nojob typo", TaskDetailScreen)
        await shows(pilot, "Job nojob not found")
