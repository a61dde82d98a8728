"""Provides SortPicker: the `>` dialog of a VirtualTable that sorts by a column in one key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, NamedTuple

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from batch_tui.ui.sanitize import sanitize_text

PICK_KEYS = "123456789abcdefhilmnoprtuvwxyz"
"""The key of each sortable column in the picker, in column order: digits first (a list
rarely has more than nine), then letters, leaving out the picker's own keys (`j`, `k`
move, `q` cancels) and `g`, `s`, which mean something else in the list behind it."""

UNSORTED_KEY = "0"
"""Picks the original order."""


class SortOrder(NamedTuple):
    """A sort the user picked."""

    column: str | None
    """The column's key, or None for the original order."""
    reverse: bool


class SortPicker(ModalScreen[SortOrder | None]):
    """Lists the sortable columns, each with a key; the key (or enter) sorts by it, the
    column sorted by now reverses, esc leaves the sort alone.

    Args:
        columns: (key, label) of each sortable column, in column order.
        current: The column sorted by now, or None.
        reverse: Whether the current sort is descending.
    """

    DEFAULT_CSS = """
    SortPicker { align: center middle; background: $background 60%; }
    SortPicker > Vertical {
        width: 36; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    SortPicker OptionList, SortPicker OptionList:focus {
        height: auto; max-height: 18; border: none; padding: 0;
    }
    SortPicker .sort-picker--hint { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss_picker", "Cancel", id="sort-picker.cancel",
                tooltip="Keep the sort"),
        Binding("j", "move(1)", "Down", show=False, id="sort-picker.down", tooltip="Next column"),
        Binding("k", "move(-1)", "Up", show=False, id="sort-picker.up", tooltip="Previous column"),
    ]  # fmt: skip

    def __init__(
        self, columns: Sequence[tuple[str, str]], *, current: str | None, reverse: bool
    ) -> None:
        super().__init__()
        self.columns = list(columns)[: len(PICK_KEYS)]
        self.current = current
        self.reverse = reverse

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled("Sort by", "bold"))
            yield OptionList(*self._options())
            yield Static("same column again: reverse", classes="sort-picker--hint")

    def _options(self) -> list[Option]:
        options = []
        for index, (key, label) in enumerate(self.columns):
            arrow = (" ▼" if self.reverse else " ▲") if key == self.current else ""
            text = f"{PICK_KEYS[index]}  {sanitize_text(label)}{arrow}"
            options.append(Option(text, id=key))
        options.append(Option(f"{UNSORTED_KEY}  original order", id=""))
        return options

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        keys = [key for key, _ in self.columns]
        option_list.highlighted = keys.index(self.current) if self.current in keys else 0

    def on_key(self, event: events.Key) -> None:
        character = event.character
        if character == UNSORTED_KEY:
            self._pick("")
        elif character and character in PICK_KEYS[: len(self.columns)]:
            self._pick(self.columns[PICK_KEYS.index(character)][0])
        else:
            return
        event.stop()
        event.prevent_default()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._pick(event.option.id or "")

    def _pick(self, key: str) -> None:
        if not key:
            self.dismiss(SortOrder(None, False))
        else:
            self.dismiss(SortOrder(key, key == self.current and not self.reverse))

    def action_move(self, delta: int) -> None:
        """Moves the highlight (vim `j`/`k`)."""
        option_list = self.query_one(OptionList)
        if delta > 0:
            option_list.action_cursor_down()
        else:
            option_list.action_cursor_up()

    def action_dismiss_picker(self) -> None:
        """Closes the picker; the sort stays."""
        self.dismiss(None)
