"""A screen under another one stops redrawing its header's refresh age.

Textual carries a background screen's dirty regions to the screen on top, so a header that
ticks below would have the top screen painted whole every second, with nothing on it changed
(`bench/session.py` measures the idle CPU this cost with 100,000 tasks on screen).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

from batch_tui.ui.screens.overview import OverviewScreen
from batch_tui.ui.screens.pools import PoolsScreen
from batch_tui.ui.widgets.header import AppHeader
from tests.ui.support import pilot_settle

if TYPE_CHECKING:
    from textual.pilot import Pilot

WAIT = 10.0
"""Seconds (bounded) to wait for the header on top to show a new time."""


async def _shows(pilot: Pilot[Any], header: AppHeader, moment: datetime) -> None:
    while header.status.now != moment:
        await pilot.pause(0.05)


async def test_the_screen_below_stops_ticking_and_catches_up_on_return(make_app, seed_pool, clock):
    await seed_pool("pool-a", 1)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_settle(pilot)
        overview = app.screen
        assert isinstance(overview, OverviewScreen)
        app.show(PoolsScreen())
        await pilot_settle(pilot)
        below = overview.query_one(AppHeader)
        before = below.status
        on_top = app.screen.query_one(AppHeader)
        for _ in range(2):  # two ticks of the header on top, each with a new time to show
            clock.advance(5)
            await asyncio.wait_for(_shows(pilot, on_top, clock.now()), WAIT)
        assert below.status is before, "the header below was redrawn"
        await pilot.press("escape")
        await pilot_settle(pilot)
        assert app.screen is overview
        assert below.status.now == clock.now(), "back on top, its age is current at once"
        clock.advance(5)
        await asyncio.wait_for(_shows(pilot, below, clock.now()), WAIT)
