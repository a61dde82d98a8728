"""Provides DownloadPanel: a download's progress under a file list, in three or four lines.

    Downloading 2 of 5: logs/a.txt                                      esc cancels
    file [████████████▌           ]  52%  12 MiB of 24 MiB  4.1 MiB/s  ETA 3s
    all  [█████                   ]  21%  40 MiB of 190 MiB  4.1 MiB/s  ETA 37s
    attempt 2 of 5 after: connection reset by peer

It reads the downloader's `DownloadProgress` a few times a second (a chunk arrives far more
often than that), so drawing costs the same whatever the link's speed. The bars are shapes
and the numbers words: it reads the same with NO_COLOR.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from textual.content import Content
from textual.widgets import Static

from batch_tui.ui.downloads import DownloadProgress
from batch_tui.ui.formatting import format_bytes, format_duration, progress_bar, truncate
from batch_tui.ui.sanitize import sanitize_text

REDRAW_SECONDS: Final = 0.25
"""How often the panel redraws from the progress."""

CANCEL_HINT: Final = "esc cancels"

_BAR_MIN: Final = 8
_BAR_MAX: Final = 30


def progress_lines(progress: DownloadProgress, width: int) -> list[str]:
    """The panel's lines for a width: the file downloading, its bar, the whole's, a note.

    Args:
        progress: The download's progress.
        width: Cells per line.
    """
    index = min(progress.current_index + 1, progress.files_total)
    current = progress.current
    name = "/".join(current.local) if current is not None else ""
    head = f"Downloading {index} of {progress.files_total}: {sanitize_text(name, limit=400)}"
    room = max(0, width - len(CANCEL_HINT) - 2)
    head = truncate(head, room).ljust(room) + "  " + CANCEL_HINT
    rate = progress.rate()
    known = progress.sizes_known
    file_tail = _tail(progress, progress.current_done, progress.current_total, rate)
    all_total = progress.bytes_total if known else None
    all_tail = _tail(progress, progress.bytes_done, all_total, rate, floor=progress.bytes_total)
    bar_width = max(_BAR_MIN, min(_BAR_MAX, width - 7 - max(len(file_tail), len(all_tail))))
    lines = [
        head,
        _bar_line("file", progress.current_done, progress.current_total, file_tail, bar_width),
        _bar_line("all", progress.bytes_done, all_total, all_tail, bar_width),
    ]
    if progress.note:
        lines.append(truncate(sanitize_text(progress.note, limit=400), width))
    return lines


def _tail(
    progress: DownloadProgress,
    done: int,
    total: int | None,
    rate: float | None,
    *,
    floor: int | None = None,
) -> str:
    """` 52%  12 MiB of 24 MiB  4.1 MiB/s  ETA 3s`; a total not known is "?" (or "≥" the
    lengths known so far) and has no percent or ETA."""
    if total is not None:
        of = format_bytes(total)
        percent = f"{min(100, done * 100 // total) if total else 100:3d}%"
        eta = progress.eta(max(0, total - done))
    else:
        of = f"≥{format_bytes(floor)}" if floor else "?"
        percent, eta = "  ?", None
    speed = f"{format_bytes(round(rate))}/s" if rate is not None else "–/s"
    left = "ETA –" if eta is None else f"ETA {format_duration(timedelta(seconds=round(eta)))}"
    return f" {percent}  {format_bytes(done)} of {of}  {speed}  {left}"


def _bar_line(label: str, done: int, total: int | None, tail: str, bar_width: int) -> str:
    """`file [████    ]` and the tail; a bar of dots while the total is not known."""
    bar = progress_bar(done, total, bar_width) if total else "·" * bar_width
    return f"{label:<4} [{bar}]{tail}"


class DownloadPanel(Static):
    """A download's progress, redrawn a few times a second while it is mounted.

    Args:
        progress: The downloader's progress.
    """

    DEFAULT_CSS = """
    DownloadPanel {
        height: auto;
        border-top: solid $primary;
        padding: 0 1;
    }
    """

    def __init__(self, progress: DownloadProgress, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.progress = progress

    def on_mount(self) -> None:
        self.redraw()
        self.set_interval(REDRAW_SECONDS, self.redraw)

    def redraw(self) -> None:
        """Draws the progress as it is now."""
        width = max(20, self.content_region.width or self.app.size.width - 2)
        self.update(Content("\n".join(progress_lines(self.progress, width))))
