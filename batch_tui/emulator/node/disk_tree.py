"""Provides `DiskTree`: a node's files on disk, as the file APIs serve them, without following a
symlink at any step.

Every path is walked from the node's root one name at a time, through directory descriptors
opened with `O_NOFOLLOW`, and a file is read from the descriptor that was opened: a task that
swaps a file or folder for a link (a race) reaches nothing outside the tree, and a growing file
is served exactly as far as the size it had when opened. Listing and recursive deletes keep an
explicit stack, so a tree deeper than Python's recursion limit is walked too.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat as statmod
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.node.files import (
    FileEntry,
    OpenFile,
    bad_path,
    file_not_found,
    not_empty,
    read_opened,
    sort_key,
    split_path,
)

_ROOT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
"""Opens a tree's root: a directory the emulator made, so a symlink in its path is trusted."""


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
"""Opens one directory below the root: never through a symlink, never waiting on a FIFO."""


_LEAF_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
"""Opens a path's last name: never through a symlink; O_NONBLOCK so that a FIFO a task made
opens at once (and is then refused) instead of blocking the server until a writer comes."""


_GONE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.ENXIO})
"""Why opening a name fails when it is not a tree's file: missing, a step that is not a
directory, a symlink (O_NOFOLLOW), or a socket."""


class DiskTree:
    """A real directory on disk (the `local` executor's node and task directories).

    Every operation walks from `root` through `subdir` and the request's path one name at a
    time, with `O_NOFOLLOW` directory descriptors (module docstring): a symlink anywhere below
    `root`, swapped in at any moment, is refused rather than followed.

    Args:
        root: The node's directory. It need not exist yet: a tree whose root is missing is
            empty. The emulator made it, so it is opened as it is (symlinks in its own path,
            such as macOS's `/tmp`, are fine).
        subdir: The directory below `root` the tree's paths are relative to (a task's,
            `workitems/<job>/job-1/<task>`). The task may have replaced any part of it, so it
            is walked like the request's path.
    """

    def __init__(self, root: Path, subdir: str = "") -> None:
        self.root = root
        self._base = split_path(subdir)

    def _open_dir(self, parts: tuple[str, ...]) -> int:
        """Returns a descriptor of the directory `parts` below the tree's base (the caller
        closes it). Raises 404 when a step is missing, a symlink or not a directory."""
        with _as_missing():
            fd = os.open(self.root, _ROOT_FLAGS)
        for part in (*self._base, *parts):
            try:
                with _as_missing():
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            finally:
                os.close(fd)
            fd = child
        return fd

    def list(self, recursive: bool) -> list[FileEntry]:
        try:
            top = self._open_dir(())
        except ServiceError:
            return []  # no directory yet (or no longer): nothing in it
        try:
            entries = _walk(top, recursive)
        finally:
            os.close(top)
        return sorted(entries, key=sort_key)

    def stat(self, path: str) -> FileEntry:
        parts = split_path(path)
        name = "/".join(parts)
        if not parts:
            top = self._open_dir(())
            try:
                return _tree_entry(name, os.fstat(top))
            finally:
                os.close(top)
        parent = self._open_dir(parts[:-1])
        try:
            with _as_missing():
                return _tree_entry(name, os.stat(parts[-1], dir_fd=parent, follow_symlinks=False))
        finally:
            os.close(parent)

    def open(self, path: str) -> OpenFile:
        parts = split_path(path)
        if not parts:
            return OpenFile(self.stat(path))
        parent = self._open_dir(parts[:-1])
        try:
            with _as_missing():
                fd = os.open(parts[-1], _LEAF_FLAGS, dir_fd=parent)
        finally:
            os.close(parent)
        try:
            entry = _tree_entry("/".join(parts), os.fstat(fd))
        except BaseException:
            os.close(fd)
            raise
        if entry.is_directory:
            os.close(fd)
            return OpenFile(entry)
        # A file object, so that a file a GET never got to stream is closed when collected.
        handle = io.FileIO(fd, "rb", closefd=True)
        return OpenFile(entry, lambda at, count: os.pread(handle.fileno(), count, at), handle.close)

    def read(self, path: str, start: int, end: int | None) -> Iterator[bytes]:
        return read_opened(self.open(path), start, end)

    def delete(self, path: str, recursive: bool) -> None:
        parts = split_path(path)
        if not parts:
            raise bad_path(path)
        parent = self._open_dir(parts[:-1])
        try:
            with _as_missing():
                found = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
            # unlink and rmdir act on the name itself, in a directory reached without any
            # symlink: whatever a task swaps in meanwhile, nothing outside the tree goes.
            if not (statmod.S_ISDIR(found.st_mode) or statmod.S_ISREG(found.st_mode)):
                raise file_not_found()  # a symlink, FIFO or socket is not part of the tree
            if statmod.S_ISREG(found.st_mode):
                with _as_missing():
                    os.unlink(parts[-1], dir_fd=parent)
            elif recursive:
                _remove_tree(parent, parts[-1])
            else:
                _remove_empty_dir(parent, parts[-1], path)
        finally:
            os.close(parent)


@contextlib.contextmanager
def _as_missing() -> Iterator[None]:
    """Turns an OSError that says "no such file in the tree" (`_GONE`) into the 404."""
    try:
        yield
    except OSError as err:
        if err.errno in _GONE:
            raise file_not_found() from None
        raise


def _tree_entry(name: str, st: os.stat_result) -> FileEntry:
    """Returns the entry of a regular file or directory; 404 for anything else (a symlink, a
    FIFO, a socket): those are not part of a tree."""
    is_dir = statmod.S_ISDIR(st.st_mode)
    if not is_dir and not statmod.S_ISREG(st.st_mode):
        raise file_not_found()
    return FileEntry(
        name=name,
        is_directory=is_dir,
        size=0 if is_dir else st.st_size,
        creation_time=datetime.fromtimestamp(st.st_ctime, timezone.utc),
        last_modified=datetime.fromtimestamp(st.st_mtime, timezone.utc),
        mode=f"0o{st.st_mode:o}",
    )


def _scan(fd: int) -> list[tuple[str, os.stat_result]]:
    """Returns the names in the open directory `fd` with their own stats (never a link's
    target's), leaving out what a running task removes meanwhile."""
    found: list[tuple[str, os.stat_result]] = []
    with os.scandir(fd) as children:
        for child in children:
            try:
                found.append((child.name, child.stat(follow_symlinks=False)))
            except OSError:
                continue  # deleted while listing
    return found


def _open_child(fd: int, name: str) -> int | None:
    """Opens directory `name` of the open directory `fd` without following a symlink; None
    when it is gone or is no longer a directory (a task swapped a link in)."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=fd)
    except OSError as err:
        if err.errno in _GONE:
            return None
        raise


_Frame = tuple[int, str, Iterator[str]]
"""A directory a walk is in: its descriptor, its name, and its subdirectories still to visit.
Walks keep a stack of them rather than recurse, so that a task's deep tree cannot exhaust
Python's recursion; they hold one descriptor per level."""


def _walk(top: int, recursive: bool) -> list[FileEntry]:
    """Lists the open directory `top`, and everything below it when `recursive`, never through
    a symlink."""
    out: list[FileEntry] = []
    first = _list_into(out, top, "")
    stack: list[_Frame] = [(top, "", iter(first if recursive else ()))]
    try:
        while stack:
            fd, prefix, pending = stack[-1]
            name = next(pending, None)
            if name is None:
                stack.pop()
                if fd != top:
                    os.close(fd)
            elif (child := _open_child(fd, name)) is not None:
                inner = f"{prefix}{name}/"
                _push(stack, child, inner, partial(_list_into, out, prefix=inner))
    finally:
        for fd, _, _ in stack:
            if fd != top:
                os.close(fd)
    return out


def _push(stack: list[_Frame], fd: int, name: str, visit: Callable[[int], list[str]]) -> None:
    """Puts the open directory `fd` on `stack`, which owns (and closes) it from then on, with
    the subdirectories `visit(fd)` returns still to visit."""
    stack.append((fd, name, iter(())))
    stack[-1] = (fd, name, iter(visit(fd)))


def _list_into(out: list[FileEntry], fd: int, prefix: str) -> list[str]:
    """Adds the files and directories of the open directory `fd` to `out` (their names after
    `prefix`) and returns its subdirectories' names. Symlinks, FIFOs and sockets are left out."""
    subdirs: list[str] = []
    for name, st in _scan(fd):
        try:
            entry = _tree_entry(f"{prefix}{name}", st)
        except ServiceError:
            continue
        out.append(entry)
        if entry.is_directory:
            subdirs.append(name)
    return subdirs


def _remove_empty_dir(parent: int, name: str, path: str) -> None:
    try:
        with _as_missing():
            os.rmdir(name, dir_fd=parent)
    except OSError as err:
        if err.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise not_empty(path) from None
        raise


def _remove_tree(parent: int, name: str) -> None:
    """Removes directory `name` of the open directory `parent` and everything in it, never
    through a symlink: a link inside goes as a link. Keeps a stack of `_Frame`s, as `_walk`."""
    top = _open_child(parent, name)
    if top is None:
        raise file_not_found()
    stack: list[_Frame] = []
    try:
        _push(stack, top, name, _clear)
        while stack:
            fd, own, pending = stack[-1]
            sub = next(pending, None)
            if sub is None:
                os.close(stack.pop()[0])
                os.rmdir(own, dir_fd=stack[-1][0] if stack else parent)
            elif (child := _open_child(fd, sub)) is None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(sub, dir_fd=fd)  # a task swapped a link in: it goes as a link
            else:
                _push(stack, child, sub, _clear)
    finally:
        for fd, _, _ in stack:
            os.close(fd)


def _clear(fd: int) -> list[str]:
    """Unlinks everything but the subdirectories in the open directory `fd`; returns those."""
    subdirs: list[str] = []
    for name, st in _scan(fd):
        if statmod.S_ISDIR(st.st_mode):
            subdirs.append(name)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=fd)
    return subdirs
