"""Provides the writers that hand data on: a list to CSV or JSON, a text to a private file.

Headless (no widget code). A list is written a step of rows at a time (`export_steps`), so that
the app, which runs the steps on its event loop, takes keys between two steps: in a thread, the
writer would hold the interpreter's lock against the event loop and keys would wait for the end.

Every file is private (mode 0600 from its creation: lists and entities name hosts, users and
command lines). A new file is created with O_CREAT|O_EXCL, so nothing that appeared after the
user was asked is overwritten; replacing a file the user confirmed writes a private temporary
file next to it and renames it over the old one, so a failed write never leaves half a file.

CSV injection: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is written with a leading ``'``, so that a spreadsheet opening the file shows it as text instead
of running it as a formula (``=HYPERLINK(...)`` in a task id or a command line). A cell that is
exactly ``-`` (the lists' "none") is left alone: it cannot be a formula. JSON exports are
written as they are.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Final, Literal, TextIO

ExportFormat = Literal["csv", "json"]

FORMULA_LEADS: Final = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's list)."""

STEP_SECONDS: Final = 0.01
"""How long one step of `export_steps` writes: well inside a key press's budget."""

CLOCK_EVERY: Final = 100
"""Rows between two looks at the clock in `export_steps`."""


def guard_cell(text: str) -> str:
    """Returns a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if text.startswith(FORMULA_LEADS) and text != "-":
        return "'" + text
    return text


def export_format(path: Path) -> ExportFormat:
    """The format a path's extension asks for.

    Raises:
        ValueError: The name ends in neither ``.csv`` nor ``.json``.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "json"
    raise ValueError(f"{path.name}: the name must end in .csv or .json")


def file_name_part(text: str) -> str:
    """Makes an id safe in a file name: path separators and odd characters become ``_``."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
    return cleaned.strip(".") or "_"


def default_export_name(what: Sequence[str], now: datetime, extension: str = "csv") -> str:
    """A file name that says what a list was and when: ``batch-tui-tasks-job-1-20261208-0112``.

    Args:
        what: What the list shows, e.g. ``("tasks", job_id)``.
        now: When it is exported.
        extension: ``csv`` or ``json``.
    """
    parts = ["batch-tui", *(file_name_part(part) for part in what)]
    return f"{'-'.join(parts)}-{now.strftime('%Y%m%d-%H%M%S')}.{extension}"


@contextlib.contextmanager
def private_file(path: Path, *, overwrite: bool = False) -> Iterator[TextIO]:
    """Opens a new private (0600) text file for writing; it holds all or nothing.

    Args:
        path: The file.
        overwrite: Replace the file if it exists (the user confirmed); else an existing file
            raises `FileExistsError`.

    Yields:
        The file, UTF-8, newlines as written.
    """
    if overwrite:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        target = Path(temporary)
    else:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        handle, target = os.open(path, flags, 0o600), path
    try:
        with open(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        if overwrite:
            os.replace(target, path)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def write_private_text(path: Path, text: str, *, overwrite: bool = False) -> int:
    """Writes text to a new private file (see `private_file`); returns the bytes written."""
    with private_file(path, overwrite=overwrite) as stream:
        stream.write(text)
    return len(text.encode("utf-8"))


def export_steps(
    path: Path,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    overwrite: bool = False,
    step_seconds: float = STEP_SECONDS,
) -> Iterator[int]:
    """Writes a list's rows to a private CSV or JSON file, as the extension of `path` says, a
    step at a time: it yields the count of rows written after each step of `step_seconds`
    (a multiple of `CLOCK_EVERY` rows), and last the total, once the file is complete. Closing
    it early removes the file.

    CSV: a header line, then one line per row, every cell guarded (`guard_cell`). JSON: an
    array with one object per row, the headers its keys (a repeated header gets `` (2)``).

    Args:
        path: The file (``.csv`` or ``.json``).
        headers: The column headers.
        rows: The cells' texts, row by row, in the order to write them.
        overwrite: Replace an existing file (the user confirmed).
        step_seconds: How long a step lasts, about (by a machine's clock, not a row count:
            a loaded machine writes fewer rows in a step, and keys wait no longer).

    Raises:
        ValueError: The extension names no format (before anything is written).
        OSError: The file could not be written (`FileExistsError` without `overwrite`).
    """
    kind = export_format(path)
    count = 0
    with private_file(path, overwrite=overwrite) as stream:
        write_row = _csv_writer(stream, headers) if kind == "csv" else _json_writer(stream, headers)
        started = time.monotonic()
        for row in rows:
            write_row(row, count)
            count += 1
            if count % CLOCK_EVERY == 0 and time.monotonic() - started >= step_seconds:
                yield count
                started = time.monotonic()
        if kind == "json":
            stream.write("\n]\n" if count else "]\n")
    yield count


def write_export(
    path: Path,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    overwrite: bool = False,
) -> int:
    """Writes a list's rows at once (`export_steps`, all steps); returns how many."""
    return deque(export_steps(path, headers, rows, overwrite=overwrite), maxlen=1)[0]


def _csv_writer(stream: TextIO, headers: Sequence[str]) -> Callable[[Sequence[str], int], None]:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([guard_cell(header) for header in headers])

    def write(row: Sequence[str], index: int) -> None:
        writer.writerow([guard_cell(cell) for cell in row])

    return write


def _json_writer(stream: TextIO, headers: Sequence[str]) -> Callable[[Sequence[str], int], None]:
    keys = _unique(headers)
    stream.write("[")

    def write(row: Sequence[str], index: int) -> None:
        stream.write(",\n  " if index else "\n  ")
        stream.write(json.dumps(dict(zip(keys, row, strict=False)), ensure_ascii=False))

    return write


def _unique(headers: Sequence[str]) -> list[str]:
    """The headers, a repeated one numbered (`Pool`, `Pool (2)`) so no column is lost."""
    seen: dict[str, int] = {}
    keys = []
    for header in headers:
        seen[header] = seen.get(header, 0) + 1
        keys.append(header if seen[header] == 1 else f"{header} ({seen[header]})")
    return keys
