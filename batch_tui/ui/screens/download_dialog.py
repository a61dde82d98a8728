"""Provides DownloadDialog: what a download will fetch, and the local folder to put it in.

`DownloadDialog(plan, folder, source="task t0 of job job-1")` -> the folder (a `Path`), or
None. It names the count and total size, the first files, the names refused (they would leave
the folder), and asks for the folder, prefilled with `folder`. `enter` downloads, `esc`
cancels. A folder where some of the files exist already is named first ("3 files there will
be replaced"): a second `enter` confirms. Keys typed before the dialog was drawn type into
the folder but never download (`GuardedModal`).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, Static

from batch_tui.ui.byte_sources import expand_path
from batch_tui.ui.download_plan import DownloadPlan
from batch_tui.ui.formatting import format_bytes
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.confirm import GuardedModal

SHOWN_FILES = 5
"""Files named in the dialog; the rest are counted (the dialog fits 80x24)."""


def plan_summary(plan: DownloadPlan) -> str:
    """Says what a plan fetches: "3 files, 1.2 MiB" ("…, 1.2 MiB and 1 of unknown size")."""
    count = len(plan.files)
    text = f"{count} file{'' if count == 1 else 's'}, {format_bytes(plan.total_bytes)}"
    if plan.unknown_sizes:
        text += f" and {plan.unknown_sizes} of unknown size"
    return text


def refused_summary(plan: DownloadPlan) -> str:
    """Says which names are refused and why (the first one's reason), or ""."""
    if not plan.refused:
        return ""
    first = plan.refused[0]
    if len(plan.refused) == 1:
        return f"Not downloaded: {first.remote!r}: {first.reason}"
    return (f"{len(plan.refused)} names are not downloaded; the first, {first.remote!r}: "
            f"{first.reason}")  # fmt: skip


class DownloadDialog(GuardedModal[Path | None]):
    """Asks where to download a plan's files, saying what they are."""

    CSS_PATH = "dialogs.tcss"

    DEFAULT_CSS = """
    DownloadDialog {
        align: center middle;
        background: $background 60%;
    }
    DownloadDialog #download-files {
        height: auto;
        color: $text-muted;
        padding-bottom: 1;
    }
    DownloadDialog #download-refused {
        height: auto;
        padding-bottom: 1;
    }
    DownloadDialog #download-hint {
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Download nothing"),
    ]

    TYPED_AHEAD: ClassVar[frozenset[str]] = frozenset({"backspace"})
    """Keys typed before the dialog was drawn that still go to the folder (with the text);
    `enter`, which would start the download, does not."""

    def holds_back(self, event: events.Key) -> bool:
        return not (event.is_printable or event.key in self.TYPED_AHEAD)

    def __init__(self, plan: DownloadPlan, folder: Path, *, source: str) -> None:
        super().__init__()
        self.plan = plan
        self.folder = folder
        self.source = source
        """Whose files, for the title: "task t0 of job job-1"."""
        self._replacing: Path | None = None
        """The folder the user was told files would be replaced in: `enter` again goes on."""

    def compose(self) -> ComposeResult:
        plan = self.plan
        title = f"Download {plan_summary(plan)} of {self.source}?"
        names = ["/".join(planned.local) for planned in plan.files[:SHOWN_FILES]]
        more = len(plan.files) - SHOWN_FILES
        if more > 0:
            names.append(f"… and {more} more")
        refused = refused_summary(plan)
        with Vertical(id="dialog"):
            yield Label(Content(sanitize_text(title, limit=300)), id="dialog-title")
            text = "\n".join(sanitize_text(name, limit=200) for name in names)
            yield Static(Content(text), id="download-files")
            if refused:
                yield Static(Content(sanitize_text(refused, limit=300)), id="download-refused")
            yield Label("To the folder (created if missing)", classes="dialog-label")
            yield Input(str(self.folder), placeholder="local folder", id="download-folder")
            yield Static("", id="dialog-problem")
            yield Static(Content("enter downloads · esc cancels"), id="download-hint")

    def on_mount(self) -> None:
        self.query_one("#download-folder", Input).focus()

    @on(Input.Changed)
    def _changed(self) -> None:
        self._replacing = None

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.show_problem("A folder is needed")
            return
        folder = expand_path(text)
        if folder.exists() and not folder.is_dir():
            self.show_problem(f"{folder} is a file, not a folder")
            return
        existing = self.plan.existing(folder) if folder.is_dir() else []
        if existing and self._replacing != folder:
            self._replacing = folder
            count = len(existing)
            files = "file is" if count == 1 else "files are"
            self.show_problem(f"{count} of these {files} there already and will be replaced: "
                              "enter again to download")  # fmt: skip
            return
        self.dismiss(folder)

    def action_cancel(self) -> None:
        """Closes; nothing is downloaded."""
        self.dismiss(None)
