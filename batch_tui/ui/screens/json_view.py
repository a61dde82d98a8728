"""Provides JsonViewScreen: one entity's JSON as the service returns it, to read, search and save.

`JsonViewScreen(ref)` (the `json` route; `y` on any list row or detail screen) GETs the entity
when it opens, and again on `r`; it does not refresh by itself, so what the reader searches does
not change under them. The text is the service's body re-indented (`BatchClient.get_*_json`),
keys, strings, numbers and literals highlighted (keys bold, so they stand out without colour),
every line sanitized. Keys: `/` search with `n`/`N`, `w` wrap, `g`/`G` top/end, `s` save to a
private (0600) file, `c` copy the id, `r` fetch again, `esc` back (closing the search first).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Input, Static

from batch_tui.ui.entity_refs import EntityRef, fetch_json
from batch_tui.ui.export import file_name_part
from batch_tui.ui.formatting import format_bytes
from batch_tui.ui.handoff import save_text
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.base import BatchScreen
from batch_tui.ui.widgets.json_lines import JsonLines

SNAPSHOT_INTERVAL = 24 * 3600.0
"""Seconds between automatic refreshes: in effect never (`r` fetches again)."""


def save_name(ref: EntityRef) -> str:
    """The file name `s` offers: ``batch-tui-task-job-1-t0.json``."""
    parts = ["batch-tui", ref.kind, *(file_name_part(part) for part in ref.ids)]
    return "-".join(parts) + ".json"


class JsonViewScreen(BatchScreen):
    """Shows the JSON of one pool, node, job, task or job schedule.

    Args:
        ref: The entity.
    """

    CSS_PATH = "json_view.tcss"
    ENTITY_ACTIONS = frozenset({"copy_id"})

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="json.search", tooltip="Find text (regex)"),
        Binding("s", "save", "Save", id="json.save", tooltip="Save the JSON to a local file"),
    ]

    def __init__(self, ref: EntityRef) -> None:
        super().__init__()
        self.ref = ref
        self._pending_search = ""
        """A search typed before the JSON arrived (keys come in bursts): run once it has."""

    @property
    def crumbs(self) -> tuple[str, ...]:
        return (*self.ref.crumbs, "JSON")

    @property
    def viewer(self) -> JsonLines:
        """The JSON's view."""
        return self.query_one(JsonLines)

    @property
    def search_input(self) -> Input:
        """The search field (hidden unless searching)."""
        return self.query_one("#json-search", Input)

    def entity_under_cursor(self) -> EntityRef | None:
        return self.ref

    def refresh_interval(self) -> float:
        return SNAPSHOT_INTERVAL

    def compose_body(self) -> ComposeResult:
        yield Static(Content(sanitize_text(self.ref.description)), id="json-title")
        yield JsonLines(id="json-lines")
        yield Input(placeholder="search: regex", id="json-search", classes="hidden")
        yield Static(id="json-status", markup=False)

    def on_mount(self) -> None:
        # Textual runs every class's on_mount in the MRO: no super() call here.
        viewer = self.viewer
        for name in ("position_text", "notice", "wrap"):
            self.watch(viewer, name, self._show_status)
        viewer.focus()

    async def load_data(self) -> None:
        text = await fetch_json(self.client, self.ref)
        viewer = self.viewer
        viewer.load(text)
        size = format_bytes(len(text.encode("utf-8")))
        fetched = self.now().strftime("%H:%M:%S")
        title = f"{self.ref.description} · {size} · fetched {fetched}"
        self.query_one("#json-title", Static).update(Content(sanitize_text(title)))
        if self._pending_search:
            pattern, self._pending_search = self._pending_search, ""
            viewer.find(pattern)

    def _show_status(self) -> None:
        viewer = self.viewer
        parts = [viewer.position_text, "wrap" if viewer.wrap else "", viewer.notice]
        text = " · ".join(part for part in parts if part)
        self.query_one("#json-status", Static).update(Content(sanitize_text(text)))

    # -- search -------------------------------------------------------------------------

    def action_search(self) -> None:
        """Shows the search field."""
        field = self.search_input
        field.remove_class("hidden")
        field.focus()

    @on(Input.Submitted, "#json-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.search_input.add_class("hidden")
        viewer = self.viewer
        viewer.focus()
        if not event.value:
            return
        if viewer.is_open:
            viewer.find(event.value)
        else:
            self._pending_search = event.value

    def action_back(self) -> None:
        """Closes the search field first, then goes back."""
        if self.search_input.has_focus:
            self.search_input.add_class("hidden")
            self.viewer.focus()
            return
        super().action_back()

    # -- save ---------------------------------------------------------------------------

    def availability(self, action: str) -> bool | None:
        if action == "save":
            return True if self.viewer.is_open else None
        return True

    def action_save(self) -> None:
        """Asks for a local path, then saves the JSON shown there (0600)."""
        viewer = self.viewer
        if not viewer.is_open:
            return
        what = f"the JSON of {self.ref.description}"
        save_text(self, viewer.text + "\n", save_name(self.ref), what)
