"""Provides save_screenshot: an SVG of the screen, and a notice of where it went or why not.

Textual's "Screenshot" command saves to the downloads folder in a thread and then says only
"Failed to save screenshot": on a jump host with no `~/Downloads` it always fails, without a
reason. This saves where it can (the downloads folder if it exists, else the current folder)
and names the file, or the reason it could not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from platformdirs import user_downloads_path
from textual.app import App

from batch_tui.ui.sanitize import sanitize_text


def screenshot_folder(path: str | None = None) -> Path:
    """Returns where a screenshot goes: `path`, else the downloads folder if it exists, else
    the current folder."""
    if path:
        return Path(path).expanduser()
    downloads = user_downloads_path()
    return downloads if downloads.is_dir() else Path.cwd()


def screenshot_name(app: App[Any], time_format: str | None = None) -> str:
    """Returns a file name from the app's title and the time (Textual's own naming)."""
    from textual._files import generate_datetime_filename  # no public API for the name

    return generate_datetime_filename(app.title, ".svg", time_format)


def save_screenshot(
    app: App[Any],
    filename: str | None = None,
    path: str | None = None,
    time_format: str | None = None,
) -> Path | None:
    """Saves an SVG of the current screen and tells the user where, or why it could not.

    Written at once, not in a thread: one screen is a few hundred kilobytes at most.

    Args:
        app: The running app.
        filename: The file's name; by default the app's title and the time.
        path: The folder; by default the downloads folder if it exists, else the current one.
        time_format: A `strftime` format for the default name.

    Returns:
        The file written, or None if it could not be.
    """
    target = screenshot_folder(path) / (filename or screenshot_name(app, time_format))
    shown = sanitize_text(str(target))
    try:
        target.write_text(app.export_screenshot(), encoding="utf-8")
    except OSError as error:
        reason = sanitize_text(error.strerror or str(error))
        app.notify(
            f"Could not save the screenshot to {shown}: {reason}",
            severity="error",
            title="Screenshot",
            markup=False,
        )
        return None
    app.notify(f"Screenshot saved to {shown}", title="Screenshot", markup=False)
    return target
