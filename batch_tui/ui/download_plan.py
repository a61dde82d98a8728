"""Provides the plan of a download: which of a task's or node's files go where under a folder.

`plan_download(owner, files, base)` gives each file a local path: its service name relative to
`base` (the directory the list shows), split on `/` and `\\`. Names are untrusted: one with a
`.` or `..` part, or too long for a file name, is refused; control characters become `_`; a
leading `/` or a drive letter is only a name part under the folder. Two names that would land
on the same local path, or a file where another needs a folder, are refused too. A plan never
names a path outside its folder (`downloads.Downloader` writes it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from platformdirs import user_downloads_path

from batch_tui.batch.models import NodeFile
from batch_tui.ui.byte_sources import FileOwner, TaskFiles

PART_SUFFIX: Final = ".part"
"""What a file is called while it downloads: `stdout.txt.part`, renamed when complete."""

MAX_NAME_BYTES: Final = 255 - len(PART_SUFFIX)
"""The longest name part accepted: the file systems' 255 bytes, with room for `.part`."""


class UnsafeName(ValueError):
    """A service file name that cannot be written under the download folder; says why."""


def remote_parts(name: str) -> tuple[str, ...]:
    """Splits a service file name into its parts (`/` and Windows `\\` both separate)."""
    return tuple(part for part in name.replace("\\", "/").split("/") if part)


def safe_part(part: str) -> str:
    """Returns one name part as it can be written: control characters (and text that is not
    valid Unicode) become `_`.

    Raises:
        UnsafeName: For `.` and `..`, and for a part too long for a file name.
    """
    if part in (".", ".."):
        raise UnsafeName(f"the name has a {part!r} part")
    # A lone surrogate (JSON allows one) cannot be encoded as a file name either.
    cleaned = "".join("_" if _unwritable(c) else c for c in part)
    if len(cleaned.encode("utf-8")) > MAX_NAME_BYTES:
        raise UnsafeName(f"a part of the name is longer than {MAX_NAME_BYTES} bytes")
    return cleaned


def _unwritable(char: str) -> bool:
    code = ord(char)
    return code < 32 or code == 127 or 0xD800 <= code <= 0xDFFF


def local_parts(name: str, base: Sequence[str] = ()) -> tuple[str, ...]:
    """Returns where a service file goes under the download folder, as path parts.

    Args:
        name: The file's service name (`wd/out/result.txt`, `wd\\out.txt`).
        base: The directory being downloaded from, as parts: the path is relative to it.

    Raises:
        UnsafeName: The name climbs out (`..`), is not under `base`, or cannot be a file name.
    """
    parts = remote_parts(name)
    if tuple(parts[: len(base)]) != tuple(base) or len(parts) <= len(base):
        raise UnsafeName("the file is not in the folder being downloaded")
    return tuple(safe_part(part) for part in parts[len(base) :])


def default_folder(owner: FileOwner, downloads: Path | None = None) -> Path:
    """Returns where a download goes unless the user says otherwise: a folder named after the
    task (`job-1.task-7`) or node (`pool.node`) in the downloads folder if there is one, else
    in the current folder (as `screenshot.screenshot_folder` picks).

    Args:
        owner: Whose files.
        downloads: The downloads folder; by default the user's.
    """
    if downloads is None:
        found = user_downloads_path()
        downloads = found if found.is_dir() else Path.cwd()
    ids = (owner.job_id, owner.task_id) if isinstance(owner, TaskFiles) else (
        owner.pool_id, owner.node_id
    )  # fmt: skip
    return downloads / ".".join(_plain(part) for part in ids)


def _plain(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
    return cleaned.strip(".") or "_"


@dataclass(frozen=True)
class PlannedFile:
    """One file of a download.

    Attributes:
        remote: The service's name for it (what the request names).
        local: Its path under the download folder, as parts.
        size: Its length as listed, or None when the listing did not say.
    """

    remote: str
    local: tuple[str, ...]
    size: int | None


@dataclass(frozen=True)
class Refusal:
    """A file that will not be downloaded, and why."""

    remote: str
    reason: str


@dataclass(frozen=True)
class DownloadPlan:
    """What a download fetches: the owner's files, where each goes, and those refused."""

    owner: FileOwner
    files: tuple[PlannedFile, ...]
    refused: tuple[Refusal, ...] = ()

    @property
    def total_bytes(self) -> int:
        """The listed lengths added up (files without one count 0: see `unknown_sizes`)."""
        return sum(f.size or 0 for f in self.files)

    @property
    def unknown_sizes(self) -> int:
        """How many files the listing gave no length for."""
        return sum(f.size is None for f in self.files)

    def existing(self, folder: Path) -> list[PlannedFile]:
        """The files whose local path exists already under `folder` (a download replaces
        them); a symlink counts as existing, and is replaced, never followed."""
        found = []
        for planned in self.files:
            with contextlib.suppress(OSError):
                folder.joinpath(*planned.local).lstat()
                found.append(planned)
        return found


def plan_download(
    owner: FileOwner, files: Iterable[NodeFile], base: Sequence[str] = ()
) -> DownloadPlan:
    """Plans the download of `files` (directories among them are skipped: their files must be
    listed themselves), relative to the directory `base`.

    Args:
        owner: The task or node the files belong to.
        files: The files, as listed (a recursive listing's, for a whole folder).
        base: The directory whose contents the download folder will hold, as parts.
    """
    planned: list[PlannedFile] = []
    refused: list[Refusal] = []
    taken: dict[tuple[str, ...], str] = {}
    folders: set[tuple[str, ...]] = set()
    for node_file in files:
        if node_file.is_directory:
            continue
        try:
            local = local_parts(node_file.name, base)
        except UnsafeName as error:
            refused.append(Refusal(node_file.name, str(error)))
            continue
        parents = {local[:depth] for depth in range(1, len(local))}
        clash = taken.get(local)
        if clash is not None:
            refused.append(Refusal(node_file.name, f"it would be saved as {clash!r} is"))
            continue
        if local in folders or parents & taken.keys():
            refused.append(Refusal(node_file.name, "a file and a folder would share its name"))
            continue
        taken[local] = node_file.name
        folders |= parents
        properties = node_file.properties
        size = properties.content_length if properties is not None else None
        planned.append(PlannedFile(node_file.name, local, size))
    return DownloadPlan(owner, tuple(planned), tuple(refused))
