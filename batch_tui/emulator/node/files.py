"""Provides node file trees: real directories for `local`, virtual ones for `simulated`.

The file APIs address files by a path relative to a node's root (`startup/stdout.txt`) or to a
task's directory (`wd/out.txt`). Every tree here refuses a path that would leave its root
(`..`, absolute paths, backslash tricks, symlinks pointing out), so a request can never touch a
file outside the node's tree.
"""

from __future__ import annotations

import os
import shutil
import stat as statmod
from collections.abc import Callable, Iterator, Mapping, MutableSet
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
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


class FileTree(Protocol):
    """A node's files (or a task's, rooted at its directory) as the file APIs see them."""

    def list(self, recursive: bool) -> list[FileEntry]:
        """Returns the entries at the top level, or all of them when `recursive`."""
        ...

    def stat(self, path: str) -> FileEntry:
        """Returns one entry. Raises ServiceError 404 FileNotFound when it does not exist."""
        ...

    def read(self, path: str, start: int, end: int | None) -> Iterator[bytes]:
        """Returns bytes `start..end` (inclusive; `None` reads to the end) in chunks.

        Raises ServiceError 416 when `start` is at or past the end of a non-empty file.
        """
        ...

    def delete(self, path: str, recursive: bool) -> None:
        """Deletes a file, or a directory (409 if it is not empty and not `recursive`)."""
        ...


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
        raise _bad_path(path)
    parts = tuple(part for part in normal.split("/") if part not in ("", "."))
    if ".." in parts:
        raise _bad_path(path)
    return parts


def _bad_path(path: str) -> ServiceError:
    return ServiceError(
        400,
        "InvalidUri",
        "The requested URI does not represent any resource on the server.",
        {"FilePath": path},
    )


def _check_range(size: int, start: int, end: int | None) -> tuple[int, int]:
    """Returns the half-open byte span to read, or raises the service's 416."""
    if start < 0 or (size > 0 and start >= size) or (end is not None and end < start):
        raise ServiceError(
            416,
            "InvalidRange",
            "The range specified is invalid for the current size of the resource.",
        )
    stop = size if end is None else min(end + 1, size)
    return start, max(stop, start)


def _not_a_file(path: str) -> ServiceError:
    return ServiceError(
        400, "InvalidInput", "One of the request inputs is not valid.", {"FilePath": path}
    )


def _not_empty(path: str) -> ServiceError:
    return ServiceError(
        409,
        "DirectoryNotEmpty",
        "The specified directory is not empty; delete it with recursive=true.",
        {"FilePath": path},
    )


def _sort_key(entry: FileEntry) -> tuple[int, str]:
    # The service lists breadth first: every top-level name, then their children (recordings).
    return entry.name.count("/"), entry.name


class DiskTree:
    """A real directory on disk (the `local` executor's node and task directories).

    Args:
        root: The directory the tree's paths are relative to. It need not exist yet: a tree
            whose root is missing is empty.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _real_root(self) -> Path:
        return Path(os.path.realpath(self.root))

    def _resolve(self, path: str) -> Path:
        """Returns the real path of `path`, or 404 when it is missing or resolves outside."""
        parts = split_path(path)
        candidate = self.root.joinpath(*parts)
        real = Path(os.path.realpath(candidate))
        root = self._real_root()
        if real != root and root not in real.parents:
            raise file_not_found()
        if not real.exists():
            raise file_not_found()
        return real

    def list(self, recursive: bool) -> list[FileEntry]:
        root = self._real_root()
        if not root.is_dir():
            return []
        entries: list[FileEntry] = []
        _walk(root, root, "", recursive, entries)
        return sorted(entries, key=_sort_key)

    def stat(self, path: str) -> FileEntry:
        real = self._resolve(path)
        return _disk_entry("/".join(split_path(path)), real)

    def read(self, path: str, start: int, end: int | None) -> Iterator[bytes]:
        real = self._resolve(path)
        if real.is_dir():
            raise _not_a_file(path)
        begin, stop = _check_range(real.stat().st_size, start, end)
        return _read_file(real, begin, stop)

    def delete(self, path: str, recursive: bool) -> None:
        parts = split_path(path)
        if not parts:
            raise _bad_path(path)
        real = self._resolve(path)
        link = self.root.joinpath(*parts)
        if link.is_symlink():
            link.unlink()  # removes the link, never what it points at
        elif real.is_dir():
            if any(real.iterdir()) and not recursive:
                raise _not_empty(path)
            shutil.rmtree(real)
        else:
            real.unlink()


def _disk_entry(name: str, real: Path) -> FileEntry:
    st = real.stat()
    is_dir = statmod.S_ISDIR(st.st_mode)
    return FileEntry(
        name=name,
        is_directory=is_dir,
        size=0 if is_dir else st.st_size,
        creation_time=datetime.fromtimestamp(st.st_ctime, timezone.utc),
        last_modified=datetime.fromtimestamp(st.st_mtime, timezone.utc),
        mode=f"0o{st.st_mode:o}",
    )


def _walk(root: Path, directory: Path, prefix: str, recursive: bool, out: list[FileEntry]) -> None:
    try:
        children = list(os.scandir(directory))
    except OSError:
        return
    for child in children:
        real = Path(os.path.realpath(child.path))
        if real != root and root not in real.parents:
            continue  # a symlink out of the tree is not part of it
        name = f"{prefix}{child.name}"
        try:
            entry = _disk_entry(name, real)
        except OSError:
            continue  # vanished while listing: a running task deleted it
        out.append(entry)
        if recursive and entry.is_directory and not child.is_symlink():
            _walk(root, real, f"{name}/", recursive, out)


def _read_file(path: Path, start: int, stop: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        remaining = stop - start
        while remaining > 0:
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break  # the file shrank while we read it
            remaining -= len(chunk)
            yield chunk


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
        return sorted(chosen, key=_sort_key)

    def stat(self, path: str) -> FileEntry:
        rel = "/".join(split_path(path))
        entry = self._visible().get(rel)
        if entry is None:
            raise file_not_found()
        return entry

    def read(self, path: str, start: int, end: int | None) -> Iterator[bytes]:
        rel = "/".join(split_path(path))
        full = self._full(rel)
        vfile = self._files.get(full)
        if vfile is None or self._is_deleted(full):
            if rel in self._visible():
                raise _not_a_file(path)
            raise file_not_found()
        content = vfile.content()
        begin, stop = _check_range(len(content), start, end)
        spans = range(begin, stop, CHUNK_SIZE)
        return iter([content[i : min(i + CHUNK_SIZE, stop)] for i in spans])

    def delete(self, path: str, recursive: bool) -> None:
        rel = "/".join(split_path(path))
        if not rel:
            raise _bad_path(path)
        entry = self.stat(rel)
        if entry.is_directory and not recursive:
            inside = f"{rel}/"
            if any(name.startswith(inside) for name in self._visible()):
                raise _not_empty(path)
        self._deleted.add(self._full(rel))
