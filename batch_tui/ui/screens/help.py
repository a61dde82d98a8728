"""Provides the `?` help screen: every key of the screen it was opened on, from its bindings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from batch_tui.ui.sanitize import sanitize_text

KEY_WIDTH = 12
"""Cells of the key column, its gap included."""

LINE_WIDTH = 72
"""Cells of a help line inside the box (78 wide, less its border and padding)."""


@dataclass(frozen=True)
class KeyHelp:
    """One line of help: a key, what it does, and whether it applies right now."""

    key: str
    description: str
    tooltip: str
    enabled: bool
    where: str
    """"screen", "list" (the focused widget) or "app"."""
    binding_id: str | None = None
    """The id that remaps the key in the config file's `[keymap]` (`nodes.heatmap = "m"`)."""


def _where(node: object, screen: Screen[object]) -> str:
    if isinstance(node, App):
        return "app"
    return "screen" if node is screen else "list"


def collect_keys(screen: Screen[object]) -> list[KeyHelp]:
    """Returns the keys active on a screen (shown or not; read-only keys are gone), screen first."""
    app = screen.app
    rows = [
        KeyHelp(
            key=app.get_key_display(active.binding),
            description=active.binding.description or active.binding.action,
            tooltip=active.tooltip or active.binding.tooltip,
            enabled=active.enabled,
            where=_where(active.node, screen),
            binding_id=active.binding.id,
        )
        for active in screen.active_bindings.values()
        # Our bindings all have ids; the rest are Textual's own (focus cycling, scrolling),
        # but for the command palette.
        if active.binding.id is not None
        or active.binding.action in ("command_palette", "app.command_palette")
    ]
    order = {"screen": 0, "list": 1, "app": 2}
    return sorted(rows, key=lambda row: order[row.where])


def screen_name(screen: Screen[object]) -> str:
    """Names a screen as its breadcrumbs do (`jobs › job-1 › task t0`), else by its class."""
    crumbs: tuple[str, ...] = getattr(screen, "crumbs", ())
    if crumbs:
        return sanitize_text(" › ".join(crumbs))
    return type(screen).__name__.removesuffix("Screen")


class HelpScreen(ModalScreen[None]):
    """Lists every key of a screen; esc, `?` or `q` closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: $background 60%; }
    HelpScreen > VerticalScroll {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    HelpScreen .help-section { text-style: bold; color: $accent; padding-top: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close", tooltip="Close help"),
    ]

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__()
        self.keys = collect_keys(screen)
        self.screen_title = screen_name(screen)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Content.styled(f"Keys: {self.screen_title}", "bold"))
            yield from self._sections(self.keys)
            yield Static(
                Content(
                    "Greyed keys do not apply to the current item. The dim name after a key"
                    ' remaps it in the config file: [keymap] nodes.heatmap = "m".'
                ),
                classes="muted",
            )

    def _sections(self, keys: Sequence[KeyHelp]) -> ComposeResult:
        titles = {"screen": "This screen", "list": "The list", "app": "Everywhere"}
        for where, title in titles.items():
            rows = [row for row in keys if row.where == where]
            if rows:
                yield Static(title, classes="help-section")
                yield Static(Content("\n").join(self._line(row) for row in rows))

    @staticmethod
    def _line(row: KeyHelp) -> Content:
        style = "" if row.enabled else "dim"
        key = Content.styled(f"{sanitize_text(row.key):>{KEY_WIDTH - 2}}  ", "bold $accent")
        text = row.description + (f" — {row.tooltip}" if row.tooltip else "")
        line = key + Content.styled(text, style)
        if row.binding_id:
            # After the text when it fits the box, else under it (not wrapped to the margin).
            fits = KEY_WIDTH + len(text) + 2 + len(row.binding_id) <= LINE_WIDTH
            gap = "  " if fits else "\n" + " " * KEY_WIDTH
            line += Content.styled(f"{gap}{row.binding_id}", "dim")
        return line

    def action_close(self) -> None:
        """Closes help."""
        self.dismiss(None)
