"""Provides QuietFooter: a screen base whose key bar is redrawn only when its keys may change.

The job list, the job detail (100,000 tasks) and the prep/release list use it.
"""

from __future__ import annotations

from typing import ClassVar

from batch_tui.ui.screens.base import BatchScreen
from batch_tui.ui.widgets.key_bar import KeyBar


class QuietFooter(BatchScreen):
    """Refreshes the key bar's bindings only when what it shows may have changed.

    `ListScreen` refreshes the bindings on every cursor move so that keys grey out with the
    row's state; working out every active binding costs more than the table's own redraw of
    a 100,000-row list. Here a refresh goes through only when the focus or an action's
    availability changed, or the key bar is still empty.
    """

    CHECKED_ACTIONS: ClassVar[tuple[str, ...]] = ()
    """Actions besides the mutating ones whose availability depends on the data."""

    def __init__(self) -> None:
        super().__init__()
        self._shown_bindings: tuple[object, ...] | None = None

    def refresh_bindings(self) -> None:
        if not self.is_mounted:
            super().refresh_bindings()
            return
        state = (
            self.focused,
            self.read_only,
            *(self.act_state(params) for name, params in self._screen_actions() if name == "act"),
            *(self.check_action(action, ()) for action in self.CHECKED_ACTIONS),
        )
        bars = self.query(KeyBar)
        if state == self._shown_bindings and bars and bars.first().keys[0]:
            return
        self._shown_bindings = state
        super().refresh_bindings()
