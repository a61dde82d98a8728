"""Provides the dialogs that answer an action: confirm it, or choose among a few values.

- `ConfirmScreen(spec, targets, context="", typed=None, heading=None)` -> `Confirmation(option)`
  or None (cancel). Names the action, every target (one per line, up to 8) and the option; keys
  `y` confirm, `n`/`esc` cancel, `1`-`4` pick an option. With `typed`, the id or the count must
  be typed and `enter` confirms. `enter` alone never confirms: it starts on Cancel.
- `ChoiceScreen(title, choices)` -> the chosen value, or None: number keys or `enter`.

Both are `Guarded`: a key read before the dialog was drawn never answers it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from textual import on
from textual._time import get_time
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from batch_tui.ui.actions import ActionSpec, target_lines
from batch_tui.ui.key_order import Guarded
from batch_tui.ui.sanitize import sanitize_text

ResultT = TypeVar("ResultT")


class GuardedModal(Guarded, ModalScreen[ResultT]):
    """A modal dialog that keys read before it was drawn never answer (`Guarded`).

    It takes keys once it has been drawn; those dropped before are named on its
    `#dialog-problem` line.
    """

    def __init__(self) -> None:
        super().__init__()
        self.opened_at = float("inf")
        self._dropped: list[str] = []

    def on_mount(self) -> None:
        # Textual runs every class's on_mount: subclasses focus their widget in theirs.
        self.call_after_refresh(self._arm)

    def _arm(self) -> None:
        self.opened_at = get_time()

    def dropped_keys(self, keys: list[str]) -> None:
        self._dropped.extend(keys)
        count = len(self._dropped)
        shown = ("… " if count > 8 else "") + " ".join(self._dropped[-8:])
        noun = "key" if count == 1 else "keys"
        self.show_problem(f"Ignored {count} {noun} typed before this dialog opened: {shown}")

    def show_problem(self, text: str) -> None:
        """Shows a one-line problem in the dialog (what was ignored, what is missing)."""
        with contextlib.suppress(NoMatches):
            self.query_one("#dialog-problem", Static).update(Content(sanitize_text(text)))


@dataclass(frozen=True)
class Confirmation:
    """The user confirmed; `option` is the chosen option (None for actions without one)."""

    option: str | None


class ConfirmScreen(GuardedModal[Confirmation | None]):
    """Asks to confirm an action on named targets, with its option.

    Keys read before the dialog was on screen never answer it (`Guarded`): they are dropped,
    and the dialog says which. With `typed` set (deleting a job, acting on many nodes) a `y`
    is not enough: the id or the count must be typed into the dialog's input.
    """

    CSS_PATH = "dialogs.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Confirm", id="dialog.confirm", tooltip="Send the request"),
        Binding("n,escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Send nothing"),
        *(
            Binding(str(index + 1), f"pick({index})", show=False, id=f"dialog.option-{index + 1}",
                    tooltip=f"Choose option {index + 1}")
            for index in range(4)
        ),
    ]  # fmt: skip

    def __init__(
        self,
        spec: ActionSpec,
        targets: Sequence[str],
        *,
        context: str = "",
        typed: str | None = None,
        heading: str | None = None,
        marked: bool = False,
    ) -> None:
        super().__init__()
        self.heading = heading
        """What the dialog asks, when the targets' count says less ("Reboot all 17
        starttaskfailed nodes of gpu-pool"); None: the action and the targets."""
        self.spec = spec
        self.targets = list(targets)
        self.context = context
        self.marked = marked
        """The targets are the marked rows: the dialog says so."""
        self.typed = typed
        """What must be typed to confirm (an id or a count), or None: `y` confirms."""
        self.option = spec.default_option

    def compose(self) -> ComposeResult:
        spec = self.spec
        with Vertical(id="dialog", classes="destructive" if spec.destructive else ""):
            yield Label(Content(f"{spec.label}?"), id="dialog-title")
            lines = target_lines(spec.kind, self.targets, where=self.context, marked=self.marked)
            if self.heading is not None:
                lines[0] = f"{self.heading}:"
            else:
                lines[0] = f"{spec.label} {lines[0]}"
            text = "\n".join(sanitize_text(line, limit=400) for line in lines)
            yield Static(Content(text), id="dialog-targets")
            if spec.options:
                yield Label(Content(f"{spec.option_name}:"), id="dialog-option-name")
                with RadioSet(id="dialog-options"):
                    for index, option in enumerate(spec.options):
                        text = f"{index + 1} {option}: {spec.option_help(option)}"
                        yield RadioButton(Content(text), value=option == self.option)
                yield Static(self._chosen_text(), id="dialog-chosen")
            if self.typed is not None:
                what = sanitize_text(self.typed, limit=200)
                yield Label(Content(f"Type {what} to confirm, then enter:"), id="dialog-typed-hint")
                yield Input(placeholder=what, id="dialog-typed", compact=True)
            yield Static("", id="dialog-problem")
            with Horizontal(id="dialog-buttons"):
                yield Button(
                    f"{spec.label} (y)" if self.typed is None else spec.label,
                    variant="error" if spec.destructive else "primary",
                    id="dialog-confirm",
                    compact=True,
                )
                yield Button("Cancel (esc)" if self.typed else "Cancel (n)", id="dialog-cancel",
                             compact=True)  # fmt: skip

    def on_mount(self) -> None:
        if self.typed is not None:
            focus = "#dialog-typed"
        else:
            focus = "#dialog-options" if self.spec.options else "#dialog-cancel"
        self.query_one(focus).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm" and self.typed is not None:
            return False  # `y` may be part of what is typed; enter or the button confirm
        return True

    def _chosen_text(self) -> Content:
        return Content.assemble("Option: ", (self.option or "", "bold"))

    def _choose(self, option: str) -> None:
        self.option = option
        self.query_one("#dialog-chosen", Static).update(self._chosen_text())

    @on(RadioSet.Changed)
    def _option_changed(self, event: RadioSet.Changed) -> None:
        self._choose(self.spec.options[event.index])

    def action_pick(self, index: int) -> None:
        """Chooses an option by number."""
        if index < len(self.spec.options):
            buttons = list(self.query(RadioButton))
            buttons[index].value = True
            self._choose(self.spec.options[index])

    @on(Input.Submitted, "#dialog-typed")
    @on(Button.Pressed, "#dialog-confirm")
    def action_confirm(self) -> None:
        """Confirms with the chosen option (once what must be typed was typed)."""
        if self.typed is not None:
            entered = self.query_one("#dialog-typed", Input).value.strip()
            if entered != self.typed:
                self.show_problem(f"Type {self.typed} exactly to confirm, or esc to cancel")
                return
        self.dismiss(Confirmation(self.option))

    @on(Button.Pressed, "#dialog-cancel")
    def action_cancel(self) -> None:
        """Cancels; nothing is sent."""
        self.dismiss(None)


class ChoiceScreen(GuardedModal[str | None]):
    """Asks to choose one of a few values: a number key, or the arrows and enter.

    Dismisses with the chosen value, or None on esc. Keys read before it was drawn are
    dropped (`Guarded`): a choice that leads to an action is never made by a stray key.
    """

    CSS_PATH = "dialogs.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Choose nothing"),
        *(
            Binding(str(index + 1), f"choose({index})", show=False, id=f"dialog.choice-{index + 1}",
                    tooltip=f"Choose {index + 1}")
            for index in range(9)
        ),
    ]  # fmt: skip

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], *, note: str = "") -> None:
        """
        Args:
            title: The question.
            choices: (value, label) pairs; the first nine get a number key.
            note: A line under the choices.
        """
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Content(sanitize_text(self.title_text, limit=400)), id="dialog-title")
            options = [
                Option(
                    Content(sanitize_text(f"{index + 1} {label}" if index < 9 else f"  {label}")),
                    id=str(index),
                )
                for index, (_value, label) in enumerate(self.choices)
            ]
            yield OptionList(*options, id="dialog-choices", compact=True)
            if self.note:
                yield Static(Content(sanitize_text(self.note)), classes="dialog-note")
            yield Static("", id="dialog-problem")
            yield Static(Content("number or enter chooses · esc cancels"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#dialog-choices").focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose(event.option_index)

    def action_choose(self, index: int) -> None:
        """Chooses the value at `index`."""
        if 0 <= index < len(self.choices):
            self.dismiss(self.choices[index][0])

    def action_cancel(self) -> None:
        """Chooses nothing."""
        self.dismiss(None)
