"""Provides clipboard copy through OSC 52, sent both plain and in a DCS passthrough inside tmux.

OSC 52 asks the terminal itself to set the clipboard, so it works over SSH on a jump host with
no display. The text travels base64-encoded, so nothing in it can act as a terminal sequence.

Inside tmux (3.3a checked) neither form works everywhere: tmux forwards the plain form only with
`set-clipboard on` (its default, `external`, drops what applications send), and the DCS
passthrough only with `allow-passthrough on` (off by default since 3.3). So both go out, as many
tools do; with both options on, the outer terminal is simply set twice to the same text.

No terminal says whether it took the text, so `clipboard_caveat` names the setups known to drop
it (tmux with neither option on, GNU screen, the Linux console, Terminal.app) for the toast.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from typing import Any, Final

from textual.app import App

from batch_tui.ui.sanitize import sanitize_text

TMUX_QUERY_SECONDS: Final = 1.0
"""How long asking tmux for an option may take before the answer counts as unknown."""

TmuxOption = Callable[[str], "str | None"]
"""Reads a global tmux option's value (`set-clipboard` -> "external"), None if unknown."""


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


def tmux_option(name: str) -> str | None:
    """Asks the tmux server the app runs under for a global option's value (None: unknown)."""
    tmux = shutil.which("tmux")
    if tmux is None:
        return None
    try:
        result = subprocess.run(
            [tmux, "show-options", "-gv", name],
            capture_output=True,
            text=True,
            timeout=TMUX_QUERY_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def clipboard_caveat(
    environ: Mapping[str, str] | None = None, read_option: TmuxOption = tmux_option
) -> str | None:
    """Says why the terminal may not have taken a copy, or None when nothing is known against it.

    Args:
        environ: The environment; `os.environ` by default.
        read_option: Reads a tmux option (injected in tests); asked only inside tmux.

    Returns:
        One short sentence for the toast, or None.
    """
    env = os.environ if environ is None else environ
    if env.get("TMUX"):
        if read_option("set-clipboard") == "on":
            return None
        if read_option("allow-passthrough") in ("on", "all"):
            return None
        return "tmux may drop it: set -g set-clipboard on"
    if env.get("STY"):
        return "GNU screen may not pass the clipboard (OSC 52) on"
    if env.get("TERM") == "linux":
        return "the Linux console has no clipboard (OSC 52)"
    if env.get("TERM_PROGRAM") == "Apple_Terminal":
        return "Terminal.app ignores the clipboard sequence (OSC 52)"
    return None
