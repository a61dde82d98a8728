"""Provides node file trees: what every tree shares (entries, open files, paths, errors) and the
virtual trees of `simulated`; the real directories of `local` are in `disk_tree`.

The file APIs address files by a path relative to a node's root (`startup/stdout.txt`) or to a
task's directory (`wd/out.txt`). Every tree here refuses a path that would leave its root
(`..`, absolute paths, backslash tricks), so a request can never touch a file outside the
node's tree.

On disk, a task is a real process that may rename, relink and append to its files while a client
reads them. So a `DiskTree` (`disk_tree`) never resolves a path and then opens it (a task could
swap a symlink in between): it walks from the node root one name at a time through directory
file descriptors, and never follows a symlink at any step. Symlinks are not part of a tree at
all: a listing leaves them out, and a read, properties or delete through one gets 404, wherever
it points (the service's nodes hold a task's files as real files). A read takes its size and its
bytes from the same open file, so a file that grows meanwhile is served whole, up to the size
announced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableSet
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from batch_tui.emulator.base.errors import ServiceError

CHUNK_SIZE = 64 * 1024
"""Bytes per chunk of a file read: small enough to stream, big enough to be cheap."""

NODE_DIRS = ("applications", "fsmounts", "shared", "startup", "volatile", "workitems")
"""The top-level directories of a Linux Batch node's root (recordings, node file list)."""

STARTUP_DIR = "startup"
"""Where the start task runs (`AZ_BATCH_NODE_STARTUP_DIR`)."""

FILE_MODE = "0o100644"
"""The `fileMode` of a regular file the task user wrote, as the service reports it."""

DIR_MODE = "0o40755"


def task_dir(job_id: str, task_id: str) -> str:
    """Returns a task's directory relative to the node root (`workitems/<job>/job-1/<task>`)."""
    return f"workitems/{job_id}/job-1/{task_id}"


@dataclass(frozen=True)
class FileEntry:
    """One file or directory of a tree, as the file APIs describe it."""

    name: str
    """The path relative to the tree root, "/"-separated (Linux node), e.g. "wd/out.txt"."""
    is_directory: bool
    size: int
    """The length in bytes; 0 for directories."""
    creation_time: datetime
    last_modified: datetime
    mode: str | None
    """The octal mode string the service reports as `fileMode` on Linux nodes."""


class OpenFile:
    """A file opened once, as a GET serves it: its entry, taken from that open file, and its
    bytes up to the size the entry announces.

    A task may append to the file (its `stdout.txt`) while it is served: reading from the same
    open file, never past `entry.size`, serves exactly the bytes the response announced. Use it
    as a context manager, or let `read` close it after its last chunk.

    Args:
        entry: The file (or directory) as it was when opened.
        read_at: Returns up to `count` bytes at `offset` (`read_at(offset, count)`); None for a
            directory.
        close: Releases what the open file holds.
    """

    def __init__(
        self,
        entry: FileEntry,
        read_at: Callable[[int, int], bytes] | None = None,
        close: Callable[[], None] | None = None,
    ) -> None:
        self.entry = entry
        self._read_at = read_at
        self._close = close

    def read(self, start: int, end: int | None) -> Iterator[bytes]:
        """Returns bytes `start..end` (inclusive; `None` reads to the end) in chunks, never past
        `entry.size`, and closes the file after the last chunk.

        Raises ServiceError 400 for a directory and 416 when `start` is at or past the end of a
        non-empty file (`byte_span`).
        """
        if self.entry.is_directory or self._read_at is None:
            raise not_a_file(self.entry.name)
        begin, stop = byte_span(self.entry.size, start, end)
        return self._chunks(self._read_at, begin, stop)

    def _chunks(self, read_at: Callable[[int, int], bytes], at: int, stop: int) -> Iterator[bytes]:
        try:
            while at < stop:
                chunk = read_at(at, min(CHUNK_SIZE, stop - at))
                if not chunk:
                    break  # the task truncated the file: the body ends short, visibly
                at += len(chunk)
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        """Releases the open file; closing again does nothing."""
        close, self._close = self._close, None
        if close is not None:
            close()

    def __enter__(self) -> OpenFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class FileTree(Protocol):
    """A node's files (or a task's, rooted at its directory) as the file APIs see them."""

    def list(self, recursive: bool) -> list[FileEntry]:
        """Returns the entries at the top level, or all of them when `recursive`."""
        ...

    def stat(self, path: str) -> FileEntry:
        """Returns one entry. Raises ServiceError 404 FileNotFound when it does not exist."""
        ...

    def open(self, path: str) -> OpenFile:
        """Opens a file (or names a directory) once, for a GET. Raises 404 when it is missing."""
        ...

    def read(self, path: str, start: int, end: int | None) -> Iterator[bytes]:
        """Returns bytes `start..end` (inclusive; `None` reads to the end) in chunks: `open`,
        then `OpenFile.read`. Raises 404, 400 for a directory, 416 (`byte_span`)."""
        ...

    def delete(self, path: str, recursive: bool) -> None:
        """Deletes a file, or a directory (409 if it is not empty and not `recursive`)."""
        ...


def read_opened(opened: OpenFile, start: int, end: int | None) -> Iterator[bytes]:
    """Returns `opened.read(start, end)`, closing `opened` if that raises (`FileTree.read`)."""
    try:
        return opened.read(start, end)
    except BaseException:
        opened.close()
        raise


def file_not_found() -> ServiceError:
    """Returns the 404 the service gives for a missing file."""
    return ServiceError(404, "FileNotFound", "The specified file does not exist.")


def split_path(path: str) -> tuple[str, ...]:
    """Returns the parts of a request path, refusing anything that could leave the root.

    Backslashes count as separators (a Windows-style client may send them), empty and `.`
    parts are dropped, and a `..` part, a leading separator, a drive letter or a NUL byte is
    refused with 400 rather than resolved: no path may point outside the tree.
    """
    normal = path.replace("\\", "/")
    if "\x00" in normal or normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        raise bad_path(path)
    parts = tuple(part for part in normal.split("/") if part not in ("", "."))
    if ".." in parts:
        raise bad_path(path)
    return parts


def bad_path(path: str) -> ServiceError:
    return ServiceError(
        400,
        "InvalidUri",
        "The requested URI does not represent any resource on the server.",
        {"FilePath": path},
    )


def byte_span(size: int, start: int, end: int | None) -> tuple[int, int]:
    """Returns the half-open span of bytes `start..end` (inclusive; `None` reads to the end) of
    a file of `size` bytes, or raises the service's 416 when `start` is at or past the end of a
    non-empty file."""
    if start < 0 or (size > 0 and start >= size) or (end is not None and end < start):
        raise ServiceError(
            416,
            "InvalidRange",
            "The range specified is invalid for the current size of the resource.",
        )
    stop = size if end is None else min(end + 1, size)
    return start, max(stop, start)


def not_a_file(path: str) -> ServiceError:
    return ServiceError(
        400, "InvalidInput", "One of the request inputs is not valid.", {"FilePath": path}
    )


def not_empty(path: str) -> ServiceError:
    return ServiceError(
        409,
        "DirectoryNotEmpty",
        "The specified directory is not empty; delete it with recursive=true.",
        {"FilePath": path},
    )


def sort_key(entry: FileEntry) -> tuple[int, str]:
    # The service lists breadth first: every top-level name, then their children (recordings).
    return entry.name.count("/"), entry.name


@dataclass(frozen=True)
class VirtualFile:
    """A file of a virtual tree: its content is produced on read, so it costs no disk."""

    created: datetime
    modified: datetime
    content: Callable[[], bytes]
    mode: str = FILE_MODE


class VirtualTree:
    """A tree whose files are generated (the `simulated` executor's node directories).

    Args:
        files: Path (relative to the node root) -> file. Parent directories are implied.
        dirs: Directories that exist even when empty, e.g. `shared` or a task's `wd`.
        created: The time directories report (the node's allocation time).
        deleted: Paths deleted through the API; shared with the owner so deletions persist.
        prefix: The directory, relative to the node root, this view is rooted at.
    """

    def __init__(
        self,
        files: Mapping[str, VirtualFile],
        dirs: set[str],
        created: datetime,
        deleted: MutableSet[str],
        prefix: str = "",
    ) -> None:
        self._files = files
        self._dirs = dirs
        self._created = created
        self._deleted = deleted
        self._prefix = "/".join(split_path(prefix))

    def _full(self, rel: str) -> str:
        return f"{self._prefix}/{rel}" if self._prefix and rel else self._prefix or rel

    def _is_deleted(self, full: str) -> bool:
        parts = full.split("/")
        return any("/".join(parts[:i]) in self._deleted for i in range(1, len(parts) + 1))

    def _all_dirs(self) -> set[str]:
        out: set[str] = set()
        for path in (*self._dirs, *self._files):
            parts = path.split("/")
            top = len(parts) if path in self._dirs else len(parts) - 1
            out.update("/".join(parts[:i]) for i in range(1, top + 1))
        return out

    def _visible(self) -> dict[str, FileEntry]:
        """Returns every live entry under the prefix, keyed by its path relative to it."""
        base = f"{self._prefix}/" if self._prefix else ""
        out: dict[str, FileEntry] = {}
        for full in self._all_dirs():
            if full.startswith(base) and not self._is_deleted(full):
                rel = full[len(base) :]
                out[rel] = FileEntry(rel, True, 0, self._created, self._created, DIR_MODE)
        for full, vfile in self._files.items():
            if full.startswith(base) and not self._is_deleted(full):
                rel = full[len(base) :]
                size = len(vfile.content())
                out[rel] = FileEntry(rel, False, size, vfile.created, vfile.modified, vfile.mode)
        return out

    def list(self, recursive: bool) -> list[FileEntry]:
        if self._prefix and self._prefix not in self._all_dirs():
            return []
        entries = self._visible().values()
        chosen = [e for e in entries if recursive or "/" not in e.name]
        return sorted(chosen, key=sort_key)

    def stat(self, path: str) -> FileEntry:
        rel = "/".join(split_path(path))
        entry = self._visible().get(rel)
        if entry is None:
            raise file_not_found()
        return entry

    def open(self, path: str) -> OpenFile:
        rel = "/".join(split_path(path))
        full = self._full(rel)
        vfile = self._files.get(full)
        if vfile is None or self._is_deleted(full):
            return OpenFile(self.stat(rel))  # a directory, or 404
        # One call: the size announced and the bytes served are of the same content.
        content = vfile.content()
        entry = FileEntry(rel, False, len(content), vfile.created, vfile.modified, vfile.mode)
        return OpenFile(entry, lambda at, count: content[at : at + count])

    def read(self, path: str, start: int, end: int | None) -> Iterator[bytes]:
        return read_opened(self.open(path), start, end)

    def delete(self, path: str, recursive: bool) -> None:
        rel = "/".join(split_path(path))
        if not rel:
            raise bad_path(path)
        entry = self.stat(rel)
        if entry.is_directory and not recursive:
            inside = f"{rel}/"
            if any(name.startswith(inside) for name in self._visible()):
                raise not_empty(path)
        self._deleted.add(self._full(rel))
