"""Provides the `:` command line: an input with completion, shown over the bottom of the screen."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from batch_tui.ui.commands import SPECS, complete

if TYPE_CHECKING:
    from batch_tui.ui.app_protocol import ExplorerApp

HINT = "  ".join(":" + " ".join((spec.name, *spec.args)) for spec in SPECS)
"""Every command, shown under the input."""


class CommandSuggester(Suggester):
    """Suggests the completion of a command line (command names, then pool and job ids)."""

    def __init__(self, known_ids: Callable[[str], Sequence[str]]) -> None:
        # Ids are case sensitive and change as screens load, so no casefold and no cache.
        super().__init__(use_cache=False, case_sensitive=True)
        self._known_ids = known_ids

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self._known_ids)


class CommandLine(Input):
    """The input of the command line; tab accepts the suggestion."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "accept_suggestion", "Complete", id="command.complete", show=False,
                tooltip="Accept the completion"),
    ]  # fmt: skip

    def action_accept_suggestion(self) -> None:
        """Takes the suggested completion, if there is one."""
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)


class CommandLineScreen(ModalScreen[str | None]):
    """A one-line prompt at the bottom; dismisses with the typed line, or None on esc."""

    DEFAULT_CSS = """
    CommandLineScreen {
        align: left bottom;
        background: $background 30%;
    }
    CommandLineScreen > #command-box {
        height: auto;
        width: 100%;
        background: $panel;
        border-top: solid $accent;
    }
    CommandLineScreen #command-hint { color: $text-muted; padding: 0 1; }
    CommandLineScreen CommandLine, CommandLineScreen CommandLine:focus {
        border: none;
        height: 1;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "cancel", "Cancel", id="command.cancel", tooltip="Close the command line"
        ),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="command-box"):
            yield Static(HINT, id="command-hint", markup=False)
            yield CommandLine(
                placeholder=":command (tab completes)",
                suggester=CommandSuggester(self.known_ids),
                id="command-input",
            )

    def known_ids(self, kind: str) -> Sequence[str]:
        """The ids of a kind the open account's screens have seen (none on the account
        screen), for completion."""
        session = cast("ExplorerApp", self.app).session
        return session.known_ids(kind) if session is not None else ()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        """Closes without running anything."""
        self.dismiss(None)
