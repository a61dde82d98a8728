"""Provides FileList: a task's or node's files, browsed one directory at a time.

Usage (a screen owns the loading; the widget never makes a request)::

    yield FileList(TaskFiles(job_id, task_id), id="files")
    ...
    files = await list_files(client, owner)          # recursive listing, in a worker
    self.query_one(FileList).show_files(files, now=self.now())
    ...
    def on_file_list_file_opened(self, event: FileList.FileOpened) -> None:
        self.batch_app.open(route("file", event.ref))

Enter on a directory goes into it, enter on `..` (or backspace) goes up, enter on a file
posts `FileList.FileOpened` with its `FileRef`. Names may use `/` or `\\` (Windows nodes);
the ref keeps the service's own name.

`w` downloads the marked rows, or else the row under the cursor (a folder with everything in
it; on `..` the directory shown), to a local folder: `DownloadDialog` asks where, then a
`DownloadPanel` under the list shows the progress while the list stays usable, and a toast
says how it ended. `esc` on the list cancels it. The download runs in a worker of the app,
not of the screen: leaving the screen does not stop it. (Listing is the screen's; a download
is the list's own, through the session's client.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker

from batch_tui.batch.models.account import NodeFile
from batch_tui.ui.byte_sources import FileOwner, FileRef, TaskFiles
from batch_tui.ui.download_plan import DownloadPlan, default_folder, plan_download
from batch_tui.ui.downloads import Downloader, DownloadResult
from batch_tui.ui.formatting import MISSING, format_bytes, format_time
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.download_dialog import DownloadDialog, refused_summary
from batch_tui.ui.widgets.download_panel import DownloadPanel
from batch_tui.ui.widgets.table_rows import Cell, Column, RowData
from batch_tui.ui.widgets.virtual_table import VirtualTable

if TYPE_CHECKING:
    from batch_tui.ui.app_protocol import ExplorerApp

PARENT_KEY = ".."
"""Row key of the entry that goes up one directory."""

_DIR_PREFIX = "d:"
_FILE_PREFIX = "f:"

FILE_COLUMNS = (
    Column("name", "Name", min_width=10, max_width=80),
    Column("size", "Size", min_width=6, max_width=10, align="right"),
    Column("modified", "Modified", min_width=8, max_width=14),
)


def split_path(name: str) -> tuple[str, ...]:
    """Splits a service file name into its parts (`/` and Windows `\\` both separate)."""
    return tuple(part for part in name.replace("\\", "/").split("/") if part)


class FileList(VirtualTable):
    """The files of a task or node, one directory at a time, with size and modified time.

    Args:
        owner: Whose files these are; `owner.file(name)` makes the refs it posts.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "backspace", "parent", "Up dir", show=False, id="files.parent",
            tooltip="Go to the parent directory",
        ),
        Binding(
            "w", "download", "Download", id="files.download",
            tooltip="Download the marked files, or the file or folder under the cursor",
        ),
        # Only while a download runs (`check_action`): otherwise esc goes back, as anywhere.
        Binding(
            "escape", "cancel_download", "Cancel download", show=False,
            id="files.cancel-download", tooltip="Stop the download; no half file is left",
        ),
    ]  # fmt: skip

    class FileOpened(Message):
        """Posted when the user opens a file (enter on a file row)."""

        def __init__(self, file_list: FileList, ref: FileRef) -> None:
            super().__init__()
            self.file_list = file_list
            self.ref = ref
            """The file to open."""

        @property
        def control(self) -> FileList:
            return self.file_list

    def __init__(
        self,
        owner: FileOwner,
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's widget signature
        classes: str | None = None,
    ) -> None:
        super().__init__(FILE_COLUMNS, name=name, id=id, classes=classes)
        self.owner = owner
        self.directory: tuple[str, ...] = ()
        """The directory shown, as path parts (`()` is the root)."""
        self._files: dict[str, NodeFile] = {}
        self._children: dict[tuple[str, ...], dict[str, NodeFile | None]] = {}
        self._now: datetime | None = None
        self.download: Worker[DownloadResult] | None = None
        """The download under way, or None."""

    @property
    def file_count(self) -> int:
        """Number of files (not directories) known, in every directory."""
        return sum(not f.is_directory for f in self._files.values())

    def show_files(self, files: Sequence[NodeFile], *, now: datetime) -> None:
        """Replaces the listing, staying in the same directory while it still exists.

        Args:
            files: A (preferably recursive) listing from `list_files`.
            now: The current time, for the modified column.
        """
        self._now = now
        self._files = {}
        self._children = {(): {}}
        for node_file in files:
            self._add(node_file)
        while self.directory and self.directory not in self._children:
            self.directory = self.directory[:-1]
        self._show_directory()

    def open_path(self, name: str) -> FileRef | None:
        """Returns the ref of the file with this service name, if it is listed and a file."""
        node_file = self._files.get(name)
        if node_file is None or node_file.is_directory:
            return None
        return self.owner.file(node_file.name)

    def change_directory(self, parts: tuple[str, ...]) -> None:
        """Shows the directory `parts` (path parts from the root); unknown ones are ignored."""
        if parts in self._children:
            self.directory = parts
            self._show_directory()
            self.action_first()

    def action_parent(self) -> None:
        """Goes up one directory."""
        if self.directory:
            left = self.directory[-1]
            self.change_directory(self.directory[:-1])
            self.move_cursor(_DIR_PREFIX + left)

    def action_select(self) -> None:
        key = self.cursor_key
        if key is None:
            return
        if key == PARENT_KEY:
            self.action_parent()
        elif key.startswith(_DIR_PREFIX):
            self.change_directory((*self.directory, key[len(_DIR_PREFIX) :]))
        else:
            self.post_message(self.FileOpened(self, self.owner.file(key[len(_FILE_PREFIX) :])))

    # -- download -----------------------------------------------------------------------

    @property
    def downloading(self) -> bool:
        """Whether a download started here is under way."""
        return self.download is not None and not self.download.is_finished

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_download":
            return self.downloading
        return super().check_action(action, parameters)

    def selected_files(self) -> list[NodeFile]:
        """The files `w` downloads: those of the marked rows, else of the cursor's row (a
        folder's files at every depth; on `..`, the whole directory shown)."""
        keys = [key for key in self.marked_keys if key != PARENT_KEY]
        if not keys:
            cursor = self.cursor_key
            if cursor is None:
                return []
            keys = [_DIR_PREFIX if cursor == PARENT_KEY else cursor]
        chosen: dict[str, NodeFile] = {}
        for key in keys:
            if key.startswith(_FILE_PREFIX):
                node_file = self._files.get(key[len(_FILE_PREFIX) :])
                if node_file is not None:
                    chosen[node_file.name] = node_file
                continue
            name = key[len(_DIR_PREFIX) :]
            folder = (*self.directory, name) if name else self.directory
            for node_file in self._files.values():
                parts = split_path(node_file.name)
                if parts[: len(folder)] == folder and not node_file.is_directory:
                    chosen.setdefault(node_file.name, node_file)
        return list(chosen.values())

    def action_download(self) -> None:
        """Asks where to download the selected files, then downloads them."""
        if self.downloading:
            self.notify("A download is under way here: esc on the list cancels it",
                        severity="warning")  # fmt: skip
            return
        plan = plan_download(self.owner, self.selected_files(), self.directory)
        if not plan.files:
            why = refused_summary(plan) or "the folder holds no files"
            self.notify(f"Nothing to download: {sanitize_text(why)}", severity="warning",
                        markup=False)  # fmt: skip
            return
        dialog = DownloadDialog(plan, default_folder(self.owner), source=self._source())

        def chosen(folder: Path | None) -> None:
            if folder is not None:
                self.start_download(plan, folder)

        self.app.push_screen(dialog, callback=chosen)

    def start_download(self, plan: DownloadPlan, folder: Path) -> None:
        """Downloads `plan` into `folder`, showing the progress under the list."""
        client = cast("ExplorerApp", self.app).require_session().client
        downloader = Downloader(client, plan, folder)
        panel = DownloadPanel(downloader.progress, id="download-panel")
        parent = self.parent
        if isinstance(parent, Widget):
            for old in parent.query(DownloadPanel):
                old.remove()
            parent.mount(panel, after=self)
        # The app's worker, not the screen's: going back from the screen does not cancel it.
        self.download = self.app.run_worker(
            self._run_download(downloader, panel), group="download", exit_on_error=False
        )
        self.clear_marks()

    async def _run_download(self, downloader: Downloader, panel: DownloadPanel) -> DownloadResult:
        app = self.app
        where = sanitize_text(str(downloader.folder))
        try:
            result = await downloader.run()
        except asyncio.CancelledError:
            saved = len(downloader.result.saved)
            app.notify(f"Download cancelled; {saved} of {len(downloader.plan.files)} files "
                       f"were saved in {where}", title="Download", markup=False)  # fmt: skip
            raise
        except OSError as error:
            # The folder could not be made or opened (or the platform has no
            # descriptor-relative file calls): nothing was downloaded.
            reason = sanitize_text(getattr(error, "strerror", None) or str(error))
            app.notify(f"Could not download to {where}: {reason}", title="Download",
                       severity="error", markup=False)  # fmt: skip
            return downloader.result
        finally:
            if panel.is_attached:
                panel.remove()
        app.notify(_outcome(result, downloader.plan), title="Download",
                   severity="error" if result.failed else "information", markup=False)  # fmt: skip
        return result

    def on_unmount(self) -> None:
        if self.downloading:
            # Its worker is the app's: it goes on, and its panel went with this list.
            self.app.notify("The download goes on; a message will say when it is done",
                            title="Download")  # fmt: skip

    def action_cancel_download(self) -> None:
        """Stops the download; the file in progress is removed, those saved stay."""
        if self.download is not None:
            self.download.cancel()

    def _source(self) -> str:
        owner = self.owner
        if isinstance(owner, TaskFiles):
            return f"task {owner.task_id} of job {owner.job_id}"
        return f"node {owner.node_id} of pool {owner.pool_id}"

    def _add(self, node_file: NodeFile) -> None:
        """Indexes one entry under its directory, creating the parent directories it implies."""
        parts = split_path(node_file.name)
        if not parts:
            return
        self._files[node_file.name] = node_file
        for depth in range(len(parts)):
            self._children.setdefault(parts[:depth], {}).setdefault(parts[depth], None)
        self._children[parts[:-1]][parts[-1]] = node_file
        if node_file.is_directory:
            self._children.setdefault(parts, {})

    def _show_directory(self) -> None:
        entries = self._children.get(self.directory, {})
        rows = [self._parent_row()] if self.directory else []
        for name in sorted(entries, key=lambda n: ((*self.directory, n) not in self._children, n)):
            rows.append(self._entry_row(name, entries[name]))
        self.set_rows(rows)

    def _parent_row(self) -> RowData:
        cells = (Text("../", style="bold"), "", "")
        return RowData(PARENT_KEY, cells, sort_values=(None, -1, None))

    def _entry_row(self, name: str, node_file: NodeFile | None) -> RowData:
        properties = node_file.properties if node_file is not None else None
        modified = properties.last_modified if properties is not None else None
        stamp = modified.timestamp() if modified is not None else None
        time_text = format_time(modified, self._now) if self._now is not None else MISSING
        if (*self.directory, name) in self._children:
            cells: tuple[Cell, ...] = (Text(name + "/", style="bold"), "", time_text)
            return RowData(_DIR_PREFIX + name, cells, sort_values=(None, -1, stamp))
        assert node_file is not None  # only directories are implied without an entry
        size = properties.content_length if properties is not None else None
        cells = (name, format_bytes(size), time_text)
        return RowData(_FILE_PREFIX + node_file.name, cells, sort_values=(None, size, stamp))


def _outcome(result: DownloadResult, plan: DownloadPlan) -> str:
    """The toast at the end: what was saved where, and the first failure if any."""
    where = sanitize_text(str(result.folder))
    count = len(plan.files)
    saved = len(result.saved)
    size = format_bytes(result.bytes)
    if not result.failed:
        return f"Downloaded {saved} file{'' if saved == 1 else 's'} ({size}) to {where}"
    first = result.failed[0]
    reason = sanitize_text(f"{first.remote}: {first.reason}", limit=200)
    more = len(result.failed) - 1
    also = f" (and {more} more)" if more else ""
    return f"Downloaded {saved} of {count} files ({size}) to {where}; not saved: {reason}{also}"
