"""Provides HeapSchedule: when the app freezes what lives on and collects closed screens.

`heap` says how (freeze, collect, release); this says when, from the app's timers:

- at the mount, and again `SETTLE_AFTER` seconds later once the first screens have their
  data, `heap.settle(startup=True)` freezes Textual, the modules and those screens;
- `COLLECT_AFTER` seconds after the screen changed (the first change since the last
  collection), `heap.collect_garbage()` takes the closed screen's garbage while it is a few
  thousand objects, unless the startup settle has not happened yet: all that came since the
  mount is unfrozen until then, and a full pass over it would stall the loop for 100 ms.
"""

from __future__ import annotations

from typing import Any, Final

from textual.app import App
from textual.screen import Screen
from textual.timer import Timer

from batch_tui.ui import heap

SETTLE_AFTER: Final = 2.0
"""Seconds from start to the second `heap.settle`: after the first screen with data (budget
1.5 s)."""

COLLECT_AFTER: Final = 0.3
"""Seconds after a screen change (the first since the last collection) to collect the closed
screens' garbage."""


class HeapSchedule:
    """Runs `heap`'s settles and collections at the right moments of an app's life."""

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._garbage_timer: Timer | None = None
        self._startup_settled = False

    def start(self) -> None:
        """Settles now (call it from the app's mount), and schedules what follows."""
        # What lives for the whole run leaves the collector's full passes: Textual and the
        # modules now (a full pass over them before the first screen is drawn would stall it
        # ~70 ms), the first screens once they have their data.
        heap.settle(startup=True)
        self._app.set_timer(SETTLE_AFTER, self.settle_startup)
        self._app.screen_change_signal.subscribe(self._app, self._screen_changed)

    def settle_startup(self) -> None:
        """Freezes the first screens and their data (`SETTLE_AFTER` seconds after the start)."""
        heap.settle(startup=True)
        self._startup_settled = True

    def _screen_changed(self, screen: Screen[object]) -> None:
        # A screen that closed is garbage now: collect it once the change is drawn, while it
        # is a few thousand objects (see `heap`). Not pushed back by later changes: someone
        # walking through screens must not pile up their garbage for one long pass.
        if self._garbage_timer is None:
            self._garbage_timer = self._app.set_timer(COLLECT_AFTER, self._collect_garbage)

    def _collect_garbage(self) -> None:
        self._garbage_timer = None
        if self._startup_settled:
            heap.collect_garbage()
