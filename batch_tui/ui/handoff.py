"""Provides the flows that hand data on from a screen: copy an id, save a text, export a list.

- `copy_id(screen, ref)`: the id to the terminal's clipboard (OSC 52), and a toast naming it,
  with a caveat where the terminal is known to drop it (`clipboard.clipboard_caveat`).
- `ask_path(screen, title, default, then)`: a path prompt, then a confirmation before
  replacing a file; `then(path, overwrite)` writes.
- `save_text(screen, text, default_name, what)`: that, then the text to a private file.
- `export_table(screen, table, subject)`: a list's rows as filtered and sorted, every one, to CSV
  or JSON (`export.py`), with a toast at the start (for a big list) and at the end.

The writing runs in workers of the screen: a saved text in a thread, an export a thousand rows
at a time on the event loop, so that a 100,000-row export never holds up a key press.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from batch_tui.ui.byte_sources import expand_path
from batch_tui.ui.clipboard import clipboard_caveat, copy_text
from batch_tui.ui.entity_refs import EntityRef
from batch_tui.ui.export import (
    default_export_name,
    export_format,
    export_steps,
    write_private_text,
)
from batch_tui.ui.formatting import format_bytes
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.confirm import ChoiceScreen
from batch_tui.ui.screens.dialogs import PromptScreen
from batch_tui.ui.widgets.table_rows import plain

if TYPE_CHECKING:
    from batch_tui.ui.screens.batch_screen import BatchScreen
    from batch_tui.ui.widgets.virtual_table import VirtualTable

HOME_PREFIX: Final = "~/"
"""Where a file goes unless the user says otherwise (shown unexpanded in the prompt)."""

BIG_EXPORT: Final = 10_000
"""From this many rows, a toast says the export has begun (it takes a second or more)."""

STEP_PAUSE: Final = 0.01
"""Seconds between two steps of an export, as long as a step (`export.STEP_SECONDS`): the
rest of the app gets half the time, whatever the load of the machine, and a 100,000-row
export takes a few seconds. (Not `sleep(0)`: a key passes through several message queues,
`key_order.OrderedKeys`, one hop per turn of the event loop, and a step between every two
hops would make it wait for the export.)
"""

KEEP: Final = "keep"
REPLACE: Final = "replace"


def copy_id(screen: BatchScreen, ref: EntityRef) -> None:
    """Copies an entity's id to the clipboard and says so, and whether it may not have worked."""
    copy_text(screen.app, ref.id)
    shown = sanitize_text(ref.id, limit=200)

    async def tell() -> None:
        # Asking tmux for its options runs a process: not on the key press.
        caveat = await asyncio.to_thread(clipboard_caveat)
        text = f"Copied {ref.noun} id {shown}"
        if caveat is None:
            screen.notify(text, markup=False)
        else:
            screen.notify(f"{text} (OSC 52); {caveat}", severity="warning", markup=False)

    screen.run_worker(tell(), group="handoff-copy", exit_on_error=False)


def ask_path(
    screen: BatchScreen,
    title: str,
    default: str,
    then: Callable[[Path, bool], None],
    *,
    check: Callable[[Path], str | None] | None = None,
) -> None:
    """Asks for a local path, then before replacing a file whether to; calls `then(path,
    overwrite)` unless the user cancelled.

    Args:
        screen: The screen that asks (and is told of problems).
        title: The prompt's title.
        default: The path offered.
        then: Writes the file.
        check: Says what is wrong with a path (a one-line message), or None.
    """

    def answered(text: str | None) -> None:
        if not text or not text.strip():
            return
        path = expand_path(text)
        if path.is_dir():
            path = path / Path(default).name
        problem = check(path) if check is not None else None
        if problem is not None:
            screen.notify(f"Not saved: {sanitize_text(problem)}", severity="error", markup=False)
            return
        if not path.exists():
            then(path, False)
            return

        def replace(choice: str | None) -> None:
            if choice == REPLACE:
                then(path, True)
            else:
                screen.notify("Not saved: the file exists", markup=False)

        # Keep comes first: an enter typed ahead never replaces a file.
        choices = [(KEEP, "Keep the file (save nothing)"), (REPLACE, "Replace the file")]
        question = f"{sanitize_text(str(path))} exists. Replace it?"
        screen.app.push_screen(ChoiceScreen(question, choices), callback=replace)

    prompt = PromptScreen(sanitize_text(title), value=default, placeholder="local path")
    screen.app.push_screen(prompt, callback=answered)


def save_text(screen: BatchScreen, text: str, default_name: str, what: str) -> None:
    """Asks for a path and saves a text there, in a private (0600) file.

    Args:
        screen: The screen that saves.
        text: What to write.
        default_name: The file name offered, in the home directory.
        what: What it is, for the prompt ("the JSON of task t0 of job job-1").
    """

    def write(path: Path, overwrite: bool) -> None:
        # The app's worker, not the screen's: leaving the screen does not stop the save.
        screen.app.run_worker(_write_text(screen, path, text, overwrite), group="handoff-save")

    ask_path(screen, f"Save {what} to", HOME_PREFIX + default_name, write)


async def _write_text(screen: BatchScreen, path: Path, text: str, overwrite: bool) -> None:
    try:
        size = await asyncio.to_thread(write_private_text, path, text, overwrite=overwrite)
    except OSError as error:
        screen.notify(f"Save failed: {sanitize_text(str(error))}", severity="error", markup=False)
        return
    shown = sanitize_text(str(path))
    screen.notify(f"Saved {format_bytes(size)} to {shown}", markup=False)


def export_table(screen: BatchScreen, table: VirtualTable, subject: Sequence[str]) -> None:
    """Asks for a path, then writes every row of the table as filtered and sorted, with its
    headers, to CSV or JSON (the extension says which).

    Args:
        screen: The list's screen.
        table: The table to export.
        subject: What the list is, for the default name (``("tasks", job_id)``).
    """
    name = default_export_name(subject, screen.now())
    count = table.row_count
    noun = "row" if count == 1 else "rows"
    title = f"Export {count:,} {noun} (as filtered and sorted) to .csv or .json"

    def check(path: Path) -> str | None:
        try:
            export_format(path)
        except ValueError as error:
            return str(error)
        return None

    def write(path: Path, overwrite: bool) -> None:
        # The rows in the order shown now, once the user said where: a refresh while the
        # prompt was open changed what the list shows, and that is what is exported. Only the
        # keys are copied here (a millisecond for 100,000); the rows are read as they are
        # written.
        headers = [column.label for column in table.columns]
        keys = list(table.visible_keys)
        job = _write_rows(screen, path, headers, _texts(table, keys), len(keys), overwrite)
        # The app's worker, not the screen's: leaving the list does not stop the export.
        screen.app.run_worker(job, group="handoff-export", exit_on_error=False)

    ask_path(screen, title, HOME_PREFIX + name, write, check=check)


async def _write_rows(
    screen: BatchScreen,
    path: Path,
    headers: list[str],
    rows: Iterator[tuple[str, ...]],
    total: int,
    overwrite: bool,
) -> None:
    shown = sanitize_text(str(path))
    if total >= BIG_EXPORT:
        screen.notify(f"Exporting {total:,} rows to {shown} …", markup=False)
    count = 0
    try:
        for count in export_steps(path, headers, rows, overwrite=overwrite):  # noqa: B007
            await asyncio.sleep(STEP_PAUSE)
    except (OSError, ValueError) as error:
        text = f"Export failed: {sanitize_text(str(error))}"
        screen.notify(text, severity="error", markup=False)
        return
    screen.notify(f"Exported {count:,} {'row' if count == 1 else 'rows'} to {shown}", markup=False)


def _texts(table: VirtualTable, keys: list[str]) -> Iterator[tuple[str, ...]]:
    """The cell texts of the rows with these keys, read as they are written: a row removed
    meanwhile is left out, one updated meanwhile is written as updated."""
    for key in keys:
        row = table.get_row(key)
        if row is not None:
            yield tuple(plain(cell) for cell in row.cells)
