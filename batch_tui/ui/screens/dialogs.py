"""Provides the modal dialogs that ask for text: a prompt, a node user, then its SSH command.

(Confirming an action and choosing among values: `confirm.py`.)

- `PromptScreen(title, value="", placeholder="")` -> the text, or None.
- `AddUserScreen(targets, context="")` -> `NewUser` or None.
- `SshCommandScreen(commands)`: shows `ssh USER@IP -p PORT` lines; `c` copies them (OSC 52).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    Static,
)

from batch_tui.ui.actions import target_lines
from batch_tui.ui.clipboard import copy_text
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.confirm import GuardedModal


class PromptScreen(ModalScreen[str | None]):
    """Asks for one line of text; enter accepts, esc cancels."""

    CSS_PATH = "dialogs.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Close"),
    ]

    def __init__(self, title: str, *, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content(self.title_text), id="dialog-title")
            yield Input(self.value, placeholder=self.placeholder, id="dialog-input")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Closes without an answer."""
        self.dismiss(None)


@dataclass(frozen=True)
class NewUser:
    """A node user to add. `password` is a secret: never logged or shown."""

    name: str
    ssh_public_key: str | None
    password: str | None
    is_admin: bool
    expiry_hours: float

    def __repr__(self) -> str:
        return f"NewUser(name={self.name!r}, is_admin={self.is_admin!r})"


DEFAULT_USER_HOURS = 24.0
"""The service's default expiry for a node user is one day; we ask for the same."""


class AddUserScreen(GuardedModal[NewUser | None]):
    """Asks for a user name and an SSH public key or a password, for the named nodes."""

    CSS_PATH = "dialogs.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Send nothing"),
    ]

    TYPED_AHEAD: ClassVar[frozenset[str]] = frozenset({"tab", "shift+tab", "backspace"})
    """Keys typed before the form was drawn that still go to it (with the text): they fill it
    in; `enter`, which would send it, does not."""

    def holds_back(self, event: events.Key) -> bool:
        return not (event.is_printable or event.key in self.TYPED_AHEAD)

    def __init__(self, targets: Sequence[str], *, context: str = "", marked: bool = False) -> None:
        super().__init__()
        self.targets = list(targets)
        self.context = context
        self.marked = marked
        """The targets are the marked rows: the dialog says so."""

    def compose(self) -> ComposeResult:
        lines = target_lines("node", self.targets, where=self.context, marked=self.marked)
        text = "\n".join(sanitize_text(line, limit=400) for line in lines)
        with Vertical(id="dialog"):
            yield Label(Content("Add user?"), id="dialog-title")
            yield Static(Content(f"Add a user to {text}"), id="dialog-targets")
            yield Label("User name", classes="dialog-label")
            yield Input(placeholder="user name", id="user-name", compact=True)
            yield Label("SSH public key", classes="dialog-label")
            yield Input(
                placeholder="SSH public key (ssh-ed25519 AAAA…)", id="user-key", compact=True
            )
            yield Label("Or a password", classes="dialog-label")
            yield Input(
                placeholder="or a password", password=True, id="user-password", compact=True
            )
            # Its value hides its placeholder: without a label it was a bare "24.0".
            yield Label("Expires in (hours)", classes="dialog-label")
            yield Input(
                str(DEFAULT_USER_HOURS),
                placeholder="expires in hours",
                id="user-hours",
                compact=True,
            )
            yield Checkbox("administrator", id="user-admin")
            yield Static("", id="dialog-problem")
            with Horizontal(id="dialog-buttons"):
                yield Button("Add user", variant="primary", id="dialog-confirm", compact=True)
                yield Button("Cancel", id="dialog-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#user-name").focus()

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _problem(self) -> str | None:
        if not self._value("#user-name"):
            return "a user name is needed"
        if not self._value("#user-key") and not self._value("#user-password"):
            return "an SSH public key or a password is needed"
        try:
            hours = float(self._value("#user-hours") or DEFAULT_USER_HOURS)
        except ValueError:
            return "expiry: a number of hours"
        return None if hours > 0 else "expiry: a number of hours above 0"

    @on(Input.Submitted)
    @on(Button.Pressed, "#dialog-confirm")
    def _confirm(self) -> None:
        problem = self._problem()
        if problem:
            self.query_one("#dialog-problem", Static).update(Content(problem))
            return
        self.dismiss(
            NewUser(
                name=self._value("#user-name"),
                ssh_public_key=self._value("#user-key") or None,
                password=self._value("#user-password") or None,
                is_admin=self.query_one("#user-admin", Checkbox).value,
                expiry_hours=float(self._value("#user-hours") or DEFAULT_USER_HOURS),
            )
        )

    @on(Button.Pressed, "#dialog-cancel")
    def action_cancel(self) -> None:
        """Closes; nothing is sent."""
        self.dismiss(None)


class SshCommandScreen(ModalScreen[None]):
    """Shows the SSH commands for the nodes a user was added to; `c` copies them."""

    CSS_PATH = "dialogs.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy", id="dialog.copy", tooltip="Copy to the clipboard (OSC 52)"),
        Binding("escape,enter", "close", "Close", id="dialog.close", tooltip="Close"),
    ]

    def __init__(self, commands: Sequence[str], *, notes: Sequence[str] = ()) -> None:
        super().__init__()
        self.commands = list(commands)
        self.notes = list(notes)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content("SSH"), id="dialog-title")
            text = "\n".join(sanitize_text(command) for command in self.commands)
            yield Static(Content(text or "no SSH endpoint"), id="ssh-commands")
            for note in self.notes:
                yield Static(Content(sanitize_text(note)), classes="dialog-note")
            yield Static(Content("c copies · esc closes"), classes="dialog-hint")

    def action_copy(self) -> None:
        """Copies the commands to the terminal's clipboard."""
        copy_text(self.app, "\n".join(self.commands))
        self.notify("Copied to the clipboard")

    def action_close(self) -> None:
        """Closes the dialog."""
        self.dismiss(None)
