"""Provides `settings_problem`: the config file's UI settings checked against the app.

The config layer checks types and ranges but cannot know Textual's themes or the app's
binding ids (it never imports the UI). A wrong theme name or a `[keymap]` id that no key has
would otherwise be ignored without a word; this says which, so batch-tui can stop with it.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode

from batch_tui.config import Settings
from batch_tui.ui.app import BatchApp

UI_PACKAGES = ("batch_tui.ui.screens", "batch_tui.ui.widgets")
"""Where every screen and widget with key bindings lives (the app's own are on `BatchApp`)."""


def binding_ids() -> set[str]:
    """Returns the id of every key binding of the app, its screens and its widgets.

    Imports every screen module (the app imports most of them only when first shown), so
    it runs only when the config file remaps keys.
    """
    classes: list[type] = [BatchApp]
    for name in UI_PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{name}.{info.name}")
            classes.extend(v for v in vars(module).values() if _is_dom_class(v))
    return {
        binding.id
        for cls in classes
        for owner in cls.__mro__
        for binding in owner.__dict__.get("BINDINGS", ())
        if isinstance(binding, Binding) and binding.id
    }


def _is_dom_class(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, DOMNode)


def settings_problem(settings: Settings, themes: set[str], file: Path) -> str | None:
    """Says what in the UI settings of `file` names nothing the app has, or None.

    Args:
        settings: The loaded settings.
        themes: The names of the themes the app knows (`App.available_themes`).
        file: The config file, for the message.
    """
    if settings.ui.theme not in themes:
        known = ", ".join(sorted(themes))
        return f"{file}: [ui] theme {settings.ui.theme!r} is not a theme; one of: {known}"
    if settings.keymap:
        unknown = sorted(set(settings.keymap) - binding_ids())
        if unknown:
            names = ", ".join(repr(name) for name in unknown)
            return (
                f"{file}: [keymap] {names}: no key has this id (? on a screen shows each key's id)"
            )
    return None
