"""Provides TermFilterScreen: a ListScreen whose `/` filter takes column terms.

`/exit:137 node:tvm-3 oom` (the language is `batch_tui.ui.filter_terms`): the terms the
service can filter go to it as `$filter` when the user presses enter, the others filter the
table's cells, and the free text is the regex over the whole row it always was. The line under
the filter says why a filter does not apply (and the one in use stays, the text stays in the
input), what enter will ask of the service, or what the service filtered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.widgets import Static

from batch_tui.batch import odata
from batch_tui.ui.filter_terms import (
    FilterColumn,
    FilterError,
    Query,
    cell_tests,
    parse,
    service_filter,
    service_test,
)
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.list_screen import ListScreen


class FilterMessage(Static):
    """The line under a list's filter: why it does not apply, or what the service filtered."""

    DEFAULT_CSS = """
    FilterMessage { height: 1; padding: 0 1; display: none; color: $text-muted; }
    FilterMessage.-shown { display: block; }
    FilterMessage.-error { text-style: bold; color: $text-error; }
    """

    def say(self, text: str, *, error: bool = False) -> None:
        """Shows `text` (user and service text, sanitized here); "" hides the line."""
        self.update(sanitize_text(text))
        self.set_class(bool(text), "-shown")
        self.set_class(error, "-error")


class TermFilterScreen(ListScreen):
    """A ListScreen whose `/` filter takes column terms (`FILTER_COLUMNS`).

    A subclass lists what `service_filter` selects (None: everything), drops what fails
    `service_test` from a delta refresh, and lists again in `service_filter_changed`.
    """

    FILTER_COLUMNS: ClassVar[Sequence[FilterColumn[Any]]] = ()
    """The columns `/` can name."""

    def __init__(self) -> None:
        super().__init__()
        self.filter_query = Query()
        """The filter in use, parsed."""
        self.service_filter: odata.Filter | None = None
        """The `$filter` of its terms that the service filters, or None."""
        self.service_test: Callable[[Any], bool] | None = None
        """The same test on an item in hand (None: every item passes)."""
        self._typed = ""
        """The filter in use as typed."""

    def compose_body(self) -> ComposeResult:
        yield from super().compose_body()
        yield FilterMessage(id="filter-message", markup=False)

    FILTER_HINT: ClassVar[str] = "column:value or a regex"
    """The empty filter's placeholder: an example of the list's terms (a bad column's
    message lists them all)."""

    def on_mount(self) -> None:
        # Textual runs every class's on_mount in the MRO: no super() call here.
        self.filter_input.placeholder = self.FILTER_HINT

    def service_filter_changed(self) -> None:
        """Lists the items again under the new `service_filter`."""

    def filter_text(self) -> str:
        return self._typed

    def apply_filter(self, pattern: str) -> None:
        """Applies the filter at a typing pause: all of it, unless it would ask the
        service for something else (enter does that, not every key)."""
        self._apply(pattern, submitted=not pattern)

    def submit_filter(self, pattern: str) -> None:
        self._apply(pattern, submitted=True)

    def _apply(self, pattern: str, *, submitted: bool) -> None:
        self.stop_filter_timer()
        columns = self.FILTER_COLUMNS
        try:
            query = parse(pattern, columns)
        except FilterError as error:
            self._say(f"not applied: {error}", error=True)
            if submitted:  # enter: stay in the input to mend it
                self.call_later(self.filter_input.focus)
            return
        service = service_filter(query, columns)
        if service != self.service_filter and not submitted:
            self._say(f"enter: ask the service for {service or 'everything'}")
            return
        self._typed = pattern.strip()
        self.filter_query = query
        table = self.active_table()
        table.set_filter(query.text, cell_tests(query, columns, [c.key for c in table.columns]))
        if service != self.service_filter:
            self.service_filter = service
            self.service_test = service_test(query, columns)
            self.service_filter_changed()
        self._say(f"server: {service}" if service is not None else "")
        self.update_status()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.query_one("#filter-message", FilterMessage).say(text, error=error)
