"""Typing as people and links do: `burst` hands the app several keys in one read.

`pilot.press` waits for the app to go idle after every key, which no terminal does. A paste,
or an SSH link that delivers several keys in one read, queues them all before the app has
handled the first: `burst` does the same, through the driver as the terminal's parser would.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.pilot import Pilot


def key_event(key: str) -> events.Key:
    """The Key event a terminal's parser makes for a key name ("b", "enter", "ctrl+p", "/")."""
    if len(key) == 1:
        return events.Key(key if key.isalnum() else _character_to_key(key), key)
    char: str | None
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = None
    return events.Key(key, char)


def keys_of(text: str) -> list[str]:
    """The keys that type `text` (each character one key)."""
    return list(text)


def burst(pilot: Pilot[Any], keys: Iterable[str]) -> None:
    """Queues every key at once, as one read from the terminal delivers them."""
    driver = pilot.app._driver
    assert driver is not None
    for key in keys:
        event = key_event(key)
        event.set_sender(pilot.app)
        driver.send_message(event)


def paste(pilot: Pilot[Any], text: str) -> None:
    """A bracketed paste of `text`, as one Paste event."""
    driver = pilot.app._driver
    assert driver is not None
    event = events.Paste(text)
    event.set_sender(pilot.app)
    driver.send_message(event)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], rounds: int = 400) -> None:
    """Waits (bounded, no fixed sleep) until `condition()` holds."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause()
    raise AssertionError("the app did not reach the expected state")
