"""Provides the errors of the saved state: one stops a start, the other fails a write."""

from __future__ import annotations

from pathlib import Path


class StateError(Exception):
    """The saved state cannot be used: damaged, of another format, or in use elsewhere.

    Its message is one line that names the file, says what is wrong and what to do; the
    command line prints it as it is.
    """


class SaveFailed(Exception):
    """A change could not be written (a full disk, an I/O error); it stays pending, and the
    request that needed it is answered with a 5xx."""


def damaged(path: Path, problem: str, state_dir: Path) -> StateError:
    """Returns the error for a damaged state file, with what the user can do about it.

    Args:
        path: The file that is damaged or missing.
        problem: What is wrong with it, without a trailing period.
        state_dir: The state folder, which the user may move aside to start empty.
    """
    return StateError(
        f"{path}: {one_line(problem)}; nothing was changed: restore the file from a backup, "
        f"or move the folder {state_dir} aside to start with an empty account"
    )


def one_line(text: str) -> str:
    """Returns `text` on one line (SQLite's and msgspec's messages may have several)."""
    return " ".join(text.split())
