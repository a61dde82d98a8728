"""Provides BatchScreen and ListScreen, the base of every explorer screen.

How to write a screen (this API is stable):

    class JobsScreen(ListScreen):
        REFRESH_KIND = "jobs"                   # `settings.refresh.<kind>` sets the timer
        COLUMNS = (Column("id", "ID"), ...)     # the VirtualTable's columns
        BINDINGS = action_bindings("job")       # the registry's job keys: act('job.terminate')...

        @property
        def crumbs(self) -> tuple[str, ...]:   # after the account name: "demo › jobs"
            return ("jobs",)

        async def load_data(self) -> None:     # fetch and show; raise BatchError freely
            jobs = await self.client.list_jobs(select=...)
            self.table.set_rows(RowData(job.id, (...)) for job in jobs)

        def open_row(self, key: str) -> None:  # enter on a row
            self.batch_app.open(route("job", key))

        def availability(self, action: str) -> bool | None:   # None greys a key out
            ...

        def action_terminate_job(self) -> None:
            self.confirm_action(ACTIONS["job.terminate"], self.targets(), each(self._terminate))

Textual calls `on_mount`, `on_screen_resume` ... of every class in the MRO: a subclass's handler
must not call `super()`. Reads go through `self.cache` (pass `force=self.forced`, so `r` skips the
cache's freshness) and `self.track(cached)` unwraps a `Cached` and notes when it is stale; or
through `self.client` for streaming lists (`iter_*`). After data or the cursor changes, call
`self.refresh_availability()`: it redraws the footer's keys only if one became (un)available.
Never name an attribute `_nodes`, `_context` or `tree`: Textual's DOM uses them.

A screen never imports another screen: it opens a route (`routes.py`), and sees the app as an
`ExplorerApp` (`self.batch_app`: the session, settings, clock, `open`). A screen that lists
tasks overrides `tasks_deleted(job_id, ids)`, which task screens call when they delete some.

BatchScreen gives every screen: the header (account, endpoint, refresh age, STALE/OFFLINE,
PAUSED, READ-ONLY), the breadcrumbs line, an error line, the footer; `self.session`,
`self.client`, `self.cache`, `self.read_only`, `self.now()`; the refresh timer (paused while the
screen is hidden, never overlapping itself); keys `r` refresh now (`screen.refresh`), `p`
pause/resume auto refresh (`screen.pause`), `esc` back (`screen.back`). `compose_body()` yields
the widgets between header and footer. A failed refresh keeps the data on screen, sets `stale`
and `error`; a non-Batch exception in a refresh is shown the same way, never as a traceback.

`confirm_action(spec, targets, perform, context=...)` asks `ConfirmScreen` (naming the targets and
the option), then awaits `perform(targets, option)` in a worker, notifies the summary and
refreshes. `each(call)` (in this module) adapts a per-target coroutine `call(target, option)` to
a `perform`; for one request covering many targets, write the `perform` yourself.

ListScreen adds a `VirtualTable` (`self.table`), `/` filter (regex, `!` inverts; enter applies,
esc clears), `s`/`S` sort (the table's keys), space marks, enter calls `open_row(key)`,
`targets()` (the marked keys, else the cursor row), and a status line under the table.
"""

from __future__ import annotations

from batch_tui.ui.action_runs import MAX_PARALLEL_ACTIONS, Perform, each
from batch_tui.ui.screens.batch_screen import BatchScreen
from batch_tui.ui.screens.list_screen import (
    FILTER_DEBOUNCE,
    FilterBar,
    FilterInput,
    ListScreen,
    ListTable,
)

__all__ = [
    "FILTER_DEBOUNCE",
    "MAX_PARALLEL_ACTIONS",
    "BatchScreen",
    "FilterBar",
    "FilterInput",
    "ListScreen",
    "ListTable",
    "Perform",
    "each",
]
