"""Provides KeyBar: the line of keys at the bottom of a screen, drawn as one line of text."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, NamedTuple

from rich.cells import cell_len
from textual import events
from textual.content import Content
from textual.style import Style
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen


SEPARATOR = "▏"
"""Between the keys and the command palette's key."""

GENERIC_PREFIXES = ("table.", "screen.", "list.", "app.")
"""Binding id prefixes of the keys every screen has (Open, Mark, Sort, Back, Refresh,
Pause ...): when the bar is short of room, the screen's own keys go first."""

HELP_ID = "app.help"
"""The `?` key's binding id: it lists the keys the bar has no room for, so it always shows."""


class ShownKey(NamedTuple):
    """One key on the bar."""

    key: str
    """The key to simulate when clicked."""
    display: str
    """The key as shown ("^p", "enter")."""
    description: str
    enabled: bool
    """False when the action is unavailable now (shown dimmed; a click rings the bell)."""
    reserved: bool = False
    """Shown whatever the room (the `?` key)."""


class KeyBar(Widget):
    """The active screen's keys, as Textual's Footer shows them, at a fraction of the cost.

    The Footer mounts a widget per key and rebuilds them all whenever the bindings change,
    which is every focus change (the filter opening, a dialog closing): 20-60 ms on a screen
    with twenty keys, much of a key press's 50 ms budget. This bar redraws one line, and
    only when the keys it shows changed. A click on a key presses it.
    """

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-bar--key {
            /* Not $footer-key-foreground ($accent): orange comes out red in 16 colours. */
            color: $text-accent;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-bar--disabled { text-style: dim; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-bar--key",
        "key-bar--description",
        "key-bar--disabled",
    }

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's signature
        super().__init__(id=id)
        self.keys: tuple[tuple[ShownKey, ...], ShownKey | None] = ((), None)
        """The keys shown, in order, and the command palette's (shown on the right)."""
        self._spans: list[tuple[int, int, ShownKey]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        keys = self._active_keys()
        if keys != self.keys:
            self.keys = keys
            self.refresh()

    def on_resize(self) -> None:
        self.refresh()  # the command palette's key stays on the right

    def _active_keys(self) -> tuple[tuple[ShownKey, ...], ShownKey | None]:
        """The shown bindings, one per action (the first), the screen's own first, then
        `?`, then the generic ones; and the command palette's."""
        app = self.app
        active = self.screen.active_bindings
        by_action: dict[str, tuple[int, ShownKey]] = {}
        for key, (_node, binding, enabled, _tooltip) in active.items():
            if binding.show and key != app.COMMAND_PALETTE_BINDING:
                rank = _rank(binding.id)
                display = app.get_key_display(binding)
                shown = ShownKey(key, display, binding.description, enabled, rank == 1)
                by_action.setdefault(binding.action, (rank, shown))
        ranked = sorted(by_action.values(), key=lambda pair: pair[0])
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = ShownKey(
                binding.key, app.get_key_display(binding), binding.description, enabled
            )
        return tuple(shown for _rank, shown in ranked), palette

    def render(self) -> Content:
        styles = (
            self.get_visual_style("key-bar--key"),
            self.get_visual_style("key-bar--description"),
        )
        dim = self.get_visual_style("key-bar--disabled")
        keys, palette = self.keys
        pieces: list[tuple[str, Style]] = []
        self._spans = []
        offset = 0

        def add(shown: ShownKey) -> None:
            nonlocal offset
            key_style, text_style = styles if shown.enabled else (s + dim for s in styles)
            key_text, description = _texts(shown)
            pieces.extend([(key_text, key_style), (description, text_style)])
            width = cell_len(key_text) + cell_len(description)
            self._spans.append((offset, offset + width, shown))
            offset += width

        right = 0 if palette is None else _width(palette) + len(SEPARATOR)
        reserve = sum(_width(shown) for shown in keys if shown.reserved)
        for shown in keys:
            if shown.reserved:
                reserve -= _width(shown)
            if offset + _width(shown) > self.size.width - right - reserve:
                continue  # left out, as in Textual's footer; a shorter key may still fit
            add(shown)
        if palette is not None:  # on the right, as in Textual's footer
            room = self.size.width - offset - right
            pieces.append((" " * max(0, room) + SEPARATOR, styles[1]))
            offset += max(0, room) + len(SEPARATOR)
            add(palette)
        return Content.assemble(*pieces)

    def on_click(self, event: events.Click) -> None:
        for start, stop, shown in self._spans:
            if start <= event.x < stop:
                if shown.enabled:
                    self.app.simulate_key(shown.key)
                else:
                    self.app.bell()
                return


def _rank(binding_id: str | None) -> int:
    """0 for the screen's own keys, 1 for `?`, 2 for the keys every screen has."""
    if binding_id == HELP_ID:
        return 1
    return 2 if binding_id is not None and binding_id.startswith(GENERIC_PREFIXES) else 0


def _texts(shown: ShownKey) -> tuple[str, str]:
    return f" {shown.display} ", f"{shown.description} "


def _width(shown: ShownKey) -> int:
    return sum(map(cell_len, _texts(shown)))
