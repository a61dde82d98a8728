"""Provides FileViewerScreen: one task or node file, tailed, followed, searched, saved, paged.

`FileViewerScreen(ref, *, follow=False)` opens the file at its tail through range reads (a
5 GB file costs the same as a small one). Keys: `f` follow, `w` wrap, `/` search with `n`/`N`,
`g`/`G` top/end (the `LogView`'s), `s` save to a local file, `v` hand the shown text to
`$PAGER`, `r` refresh now, `p` pause auto refresh, `esc` back. Following polls every
`settings.refresh.files` seconds, and the header's size and time follow each poll. Saving and
paging stream the file in bounded range reads.

A file that does not exist yet (the stdout of a task that has not started) shows why, the
task's state, and is checked again on every refresh; when it appears, the viewer opens it
following.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import ClassVar, TextIO

from textual import on
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Static

from batch_tui.batch.errors import BatchError, NotFound
from batch_tui.batch.models.account import FileInfo
from batch_tui.batch.models.constants import TaskState
from batch_tui.ui.byte_sources import (
    COPY_CHUNK_BYTES,
    FileRef,
    RemoteFileSource,
    TaskFileRef,
    copy_to_file,
    default_save_name,
    expand_path,
)
from batch_tui.ui.formatting import format_bytes, format_time
from batch_tui.ui.key_order import OrderedKeys
from batch_tui.ui.sanitize import SafeLineStream, sanitize_text
from batch_tui.ui.screens.base import BatchScreen
from batch_tui.ui.screens.confirm import GuardedModal
from batch_tui.ui.screens.dialogs import PromptScreen
from batch_tui.ui.widgets.log_view import LogView

DEFAULT_PAGER = "less"
"""Used when `$PAGER` is not set: present on every Unix-like jump host."""


def missing_text(path: str, state: str | None) -> str:
    """Says why a task's file is not there, from the task's state (None: no such task).

    Args:
        path: The file's path in the task's directory.
        state: The task's state.

    Returns:
        One line for the viewer.
    """
    if state is None:
        return f"{path}: the task does not exist"
    if state in (TaskState.ACTIVE, TaskState.PREPARING):
        return f"{path}: not started yet (the task is {state})"
    if state == TaskState.RUNNING:
        return f"{path}: not written yet (the task is running)"
    return f"{path}: no such file (the task is {state})"


def _remove_download(folder: Path) -> None:
    """Removes a pager download and its private folder."""
    for child in folder.iterdir():
        child.unlink(missing_ok=True)
    folder.rmdir()


class OverwriteScreen(GuardedModal[bool]):
    """Asks whether to replace an existing local file; `y` replaces, `n`/`esc` keeps it.

    A `y` typed ahead of it (`s`, a path, enter, `y` in one burst) never replaces the file.
    """

    CSS_PATH = ["dialogs.tcss", "file_viewer.tcss"]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Replace", id="dialog.confirm", tooltip="Replace the file"),
        Binding("n,escape", "answer(False)", "Keep", id="dialog.cancel", tooltip="Keep the file"),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="destructive"):
            yield Label(Content("Replace the file?"), id="dialog-title")
            yield Static(Content(f"{sanitize_text(str(self.path))} exists."), id="dialog-targets")
            yield Static("", id="dialog-problem")
            with Horizontal(id="dialog-buttons"):
                yield Button("Replace (y)", variant="error", id="dialog-confirm")
                yield Button("Keep (n)", id="dialog-cancel")

    def on_mount(self) -> None:
        self.query_one("#dialog-cancel").focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "dialog-confirm")

    def action_answer(self, replace: bool) -> None:
        """Closes the dialog with the answer."""
        self.dismiss(replace)


class FileViewerScreen(BatchScreen):
    """Shows one file of a task or node, whatever its size.

    Args:
        ref: The file.
        follow: Start in follow mode (for the output of a running task).
    """

    CSS_PATH = "file_viewer.tcss"
    REFRESH_KIND = "files"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="file.search", tooltip="Find text (regex)"),
        Binding("s", "save", "Save", id="file.save", tooltip="Save the file to a local path"),
        Binding("v", "pager", "Pager", id="file.pager", tooltip="Open the file in $PAGER"),
    ]

    def __init__(self, ref: FileRef, *, follow: bool = False) -> None:
        super().__init__()
        self.ref = ref
        self.source: RemoteFileSource | None = None
        self._follow = follow
        self._checked = False
        self._missing: str | None = None
        """Why the file is not there (shown instead of the view), or None."""

    @property
    def crumbs(self) -> tuple[str, ...]:
        return self.ref.crumbs

    @property
    def viewer(self) -> LogView:
        """The file's view."""
        return self.query_one(LogView)

    def compose_body(self) -> ComposeResult:
        self.source = RemoteFileSource(self.client, self.ref, on_properties=self._show_properties)
        yield Static(id="file-title", markup=False)
        yield Static(id="file-missing", classes="hidden", markup=False)
        yield self._new_view(follow=self._follow)
        yield Input(placeholder="search: regex", id="file-search", classes="hidden")
        yield Static(id="file-status", markup=False)

    def _new_view(self, *, follow: bool) -> LogView:
        assert self.source is not None
        interval = float(self.batch_app.settings.refresh.files)
        return LogView(self.source, follow=follow, poll_interval=interval, id="file-log")

    def on_mount(self) -> None:
        # Textual runs every class's on_mount in the MRO: no super() call here.
        self.query_one("#file-title", Static).update(Content(sanitize_text(self.ref.path)))
        self._watch_view()

    def _watch_view(self) -> None:
        for name in ("position_text", "notice", "wrap"):
            self.watch(self.viewer, name, self._show_status)
        self.viewer.focus()

    def _show_status(self) -> None:
        log = self.viewer
        parts = [log.position_text, "wrap" if log.wrap else "", log.notice]
        text = self._missing or " · ".join(part for part in parts if part)
        self.query_one("#file-status", Static).update(Content(sanitize_text(text)))

    def _show_properties(self, info: FileInfo) -> None:
        """Shows the file's size and time in the header (after every HEAD, polls too)."""
        if not self.is_mounted:
            return  # a poll answered after the screen closed
        modified = format_time(info.last_modified, self.now())
        title = f"{self.ref.path} · {format_bytes(info.content_length)} · modified {modified}"
        self.query_one("#file-title", Static).update(Content(sanitize_text(title)))

    async def load_data(self) -> None:
        """Checks the file (exists, not a directory) until it has; later ticks poll for new
        bytes."""
        if not self._checked:
            await self._check_file()
        elif not self.viewer.following:
            self.viewer.poll()

    async def _check_file(self) -> None:
        assert self.source is not None
        try:
            info = await self.source.properties()
        except NotFound:
            await self._show_missing()
            return
        if info.is_directory:
            raise BatchError(f"{self.ref.path} is a directory")
        self._checked = True
        if self._missing is not None:
            await self._open_appeared_file()

    async def _show_missing(self) -> None:
        """Says why the file is not there, in place of the view, until it appears."""
        error: NotFound | None = None
        try:
            self._missing = await self._missing_reason()
        except NotFound as gone:  # the task or its job: an error too, a typo rarely heals
            self._missing, error = missing_text(self.ref.path, None), gone
        note = self.query_one("#file-missing", Static)
        note.update(Content(f"{sanitize_text(self._missing)}\n\nIt opens here when it appears."))
        note.remove_class("hidden")
        self.viewer.add_class("hidden")
        self._show_status()
        if error is not None:
            raise error

    async def _missing_reason(self) -> str:
        ref = self.ref
        if not isinstance(ref, TaskFileRef):
            return f"{ref.path}: no such file on the node (yet)"
        cached = await self.cache.get_task(ref.job_id, ref.task_id, force=self.forced)
        return missing_text(ref.path, self.track(cached).state)

    async def _open_appeared_file(self) -> None:
        """Replaces the view that found no file with a new one, following the new file."""
        self._missing = None
        self.query_one("#file-missing", Static).add_class("hidden")
        await self.viewer.remove()
        await self.mount(self._new_view(follow=True), before="#file-search")
        self._watch_view()

    @on(LogView.LoadFailed)
    def _load_failed(self, event: LogView.LoadFailed) -> None:
        event.stop()
        if isinstance(event.error, NotFound):
            # Not there (yet, or any more): the check says why and waits for the file.
            self._checked = False
            self.refresh_data()
            return
        self.show_error(event.error)

    # -- search -------------------------------------------------------------------------

    @property
    def search_input(self) -> Input:
        """The search field (hidden unless searching)."""
        return self.query_one("#file-search", Input)

    def action_search(self) -> None:
        """Shows the search field."""
        field = self.search_input
        field.remove_class("hidden")
        field.focus()

    @on(Input.Submitted, "#file-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.search_input.add_class("hidden")
        self.viewer.focus()
        if event.value:
            self.viewer.find(event.value)

    def action_back(self) -> None:
        """Closes the search field first, then goes back."""
        if self.search_input.has_focus:
            self.search_input.add_class("hidden")
            self.viewer.focus()
            return
        super().action_back()

    # -- save ---------------------------------------------------------------------------

    def action_save(self) -> None:
        """Asks for a local path, then saves the file there (asking before replacing)."""
        default = str(Path.cwd() / default_save_name(self.ref))
        prompt = PromptScreen("Save the file to", value=default, placeholder="local path")
        self.app.push_screen(prompt, callback=self._save_to)

    def _save_to(self, text: str | None) -> None:
        if not text or not text.strip():
            return
        path = expand_path(text)
        if path.is_dir():
            path = path / default_save_name(self.ref)
        if not path.exists():
            self._start_save(path, overwrite=False)
            return

        def answered(replace: bool | None) -> None:
            if replace:
                self._start_save(path, overwrite=True)
            else:
                self.notify("Not saved: the file exists")

        self.app.push_screen(OverwriteScreen(path), callback=answered)

    def _start_save(self, path: Path, *, overwrite: bool) -> None:
        self.run_worker(self.save_file(path, overwrite=overwrite), group="file-save")

    async def save_file(self, path: Path, *, overwrite: bool = False) -> None:
        """Streams the file to `path` in range reads and reports the result.

        Args:
            path: The local file.
            overwrite: Replace an existing file (the user confirmed).
        """
        assert self.source is not None
        self.notify(f"Saving to {sanitize_text(str(path))} …", markup=False)
        try:
            written = await copy_to_file(self.source, path, overwrite=overwrite)
        except (BatchError, OSError) as error:
            self.notify(f"Save failed: {sanitize_text(str(error))}", severity="error", markup=False)
            return
        text = f"Saved {format_bytes(written)} to {sanitize_text(str(path))}"
        self.notify(text, markup=False)

    # -- pager --------------------------------------------------------------------------

    def action_pager(self) -> None:
        """Downloads the file to a temporary file and opens it in `$PAGER`."""
        # Keys typed from now until the pager returns are meant for the pager (`v` then `q`
        # in one burst quit batch-tui while the file downloaded): from the key itself on,
        # not from when the worker starts.
        if isinstance(self.app, OrderedKeys):
            self.app.swallow_keys("the pager was starting")
        self.run_worker(self.open_in_pager(), group="file-pager", exclusive=True)

    async def open_in_pager(self) -> None:
        """Streams the file's shown text to a temporary file, suspends the app and runs the
        pager on it.

        The pager gets the lines as the viewer shows them, escapes neutralised: it writes to
        the real terminal, and `PAGER=cat` or `less -r` would run an OSC 52 or a title
        change in the file. Saving (`s`) keeps the raw bytes: that is the user's file.
        """
        assert self.source is not None
        folder = Path(tempfile.mkdtemp(prefix="batch-tui-"))
        path = folder / default_save_name(self.ref)
        keys = self.app if isinstance(self.app, OrderedKeys) else None
        try:
            self.notify("Downloading for the pager …")
            await _write_shown_text(self.source, path)
            self._run_pager(path)
        except (BatchError, OSError) as error:
            self.notify(f"Pager: {sanitize_text(str(error))}", severity="error", markup=False)
        finally:
            if keys is not None:
                keys.stop_swallowing()
            _remove_download(folder)

    def _run_pager(self, path: Path) -> None:
        # Synchronous on purpose: the pager owns the terminal until it exits, and nothing of
        # the app may draw meanwhile (Textual's own suspend example does the same).
        command = [*shlex.split(os.environ.get("PAGER") or DEFAULT_PAGER), str(path)]
        try:
            with self.app.suspend():
                result = subprocess.run(command, check=False)
        except SuspendNotSupported:
            self.notify("This terminal cannot hand over to a pager", severity="error")
            return
        if result.returncode != 0:
            self.notify(f"The pager exited with {result.returncode}", severity="warning")


async def _write_shown_text(source: RemoteFileSource, path: Path) -> None:
    """Streams a file to `path` as the viewer's safe lines, one bounded range read at a time.

    Memory stays a chunk and one line's head (see `SafeLineStream`), whatever the file's size.
    """
    total = await source.size()
    lines = SafeLineStream()
    with path.open("w", encoding="utf-8") as handle:
        done = 0
        while done < total:
            data = await source.read(done, min(done + COPY_CHUNK_BYTES, total) - 1)
            if not data:
                break  # the file shrank: page what was there
            # Sanitizing 4 MiB of short lines takes long enough to stall the UI.
            await asyncio.to_thread(_write_lines, handle, lines, data)
            done += len(data)
        handle.writelines(line + "\n" for line in lines.close())


def _write_lines(handle: TextIO, lines: SafeLineStream, data: bytes) -> None:
    """Sanitizes a chunk and writes the lines it completed."""
    handle.writelines(line + "\n" for line in lines.feed(data))
