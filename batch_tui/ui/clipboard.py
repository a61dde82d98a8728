"""Provides clipboard copy through OSC 52, sent both plain and in a DCS passthrough inside tmux.

OSC 52 asks the terminal itself to set the clipboard, so it works over SSH on a jump host with
no display. The text travels base64-encoded, so nothing in it can act as a terminal sequence.

Inside tmux (3.3a checked) neither form works everywhere: tmux forwards the plain form only with
`set-clipboard on` (its default, `external`, drops what applications send), and the DCS
passthrough only with `allow-passthrough on` (off by default since 3.3). So both go out, as many
tools do; with both options on, the outer terminal is simply set twice to the same text.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any

from textual.app import App

from batch_tui.ui.sanitize import sanitize_text


def osc52(text: str, *, tmux: bool = False) -> str:
    """Returns the escape sequence that puts `text` on the terminal's clipboard.

    Args:
        text: What to copy.
        tmux: Wrap it for tmux: a DCS passthrough (`ESC P tmux; ... ESC \\`) with every ESC
            inside doubled, so tmux forwards it to the outer terminal.

    Returns:
        The sequence to write to the terminal.
    """
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    sequence = f"\x1b]52;c;{payload}\x07"
    if tmux:
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


def clean_lines(text: str) -> str:
    """Sanitizes each line, so that a pasted command holds no control character."""
    return "\n".join(sanitize_text(line) for line in text.split("\n"))


def copy_text(app: App[Any], text: str, environ: Mapping[str, str] | None = None) -> None:
    """Copies text to the clipboard of the terminal the app runs in (and to `app.clipboard`).

    Args:
        app: The running Textual app.
        text: What to copy; each line is sanitized first.
        environ: The environment (`TMUX` set means also send the tmux passthrough form);
            `os.environ` by default.
    """
    env = os.environ if environ is None else environ
    clean = clean_lines(text)
    if env.get("TMUX") and app._driver is not None:
        # `App.copy_to_clipboard` sends the plain form only, and App has no public way to
        # write other output: the passthrough form, which tmux forwards where it drops the
        # plain one, goes to the driver itself.
        app._driver.write(osc52(clean, tmux=True))
    app.copy_to_clipboard(clean)  # the plain form, and `app.clipboard` for pastes in the app
