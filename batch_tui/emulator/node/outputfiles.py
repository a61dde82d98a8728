"""Provides output files: a task's files uploaded to a container after its process exits.

After the process exits, each `outputFiles` item whose `uploadOptions.uploadCondition` holds
(`tasksuccess`: exit code 0, `taskfailure`: nonzero, `taskcompletion`: always) is uploaded to
its `destination.container`, a local directory (see `storage` for how container URLs map).

`filePattern` follows the spec: relative to the task's working directory (absolute paths work
too), `$VAR`/`${VAR}` expanded from the task's environment, `*`, `?`, `[abc]`, `[!a-c]` and `**`
(any depth) as in `glob`, and names starting with "." only matched by a pattern that says so.
A match outside the node's root directory is ignored. Blob names follow the spec's rule for
`path`: a pattern without wildcards uploads one file as the blob `path` (default: the file's
name); a pattern with wildcards uploads each match under the virtual directory `path`, keeping
its directories below the pattern's last wildcard-free directory (`out/**/*.csv` uploads
`out/a/b.csv` as `<path>/a/b.csv`). A pattern that matches nothing uploads nothing.

As on the service, every upload appends to `fileuploadout.txt` and `fileuploaderr.txt` in the
task directory. A failed upload makes the task fail with `FileUploadMiscError`: category
usererror when the destination is unusable (a URL the emulator cannot map, a bad `path`), and
servererror when writing to it fails. The task keeps its exit code, is not retried, and its
exit conditions' `fileUploadError` applies.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from batch_tui.emulator.node.storage import StorageError, blob_path, container_dir

UPLOAD_LOG = "fileuploadout.txt"
UPLOAD_ERROR_LOG = "fileuploaderr.txt"

FILE_UPLOAD_FAILED = (
    "FileUploadMiscError",
    "Miscellaneous error encountered while uploading one of the output files",
)
"""The failureInfo code and message of a task whose output files could not be uploaded."""

_MAGIC = re.compile(r"[*?[]")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


class UploadError(Exception):
    """An output file that could not be uploaded; `category` says whose fault it was."""

    def __init__(self, category: str, pattern: str, reason: str) -> None:
        super().__init__(reason)
        self.category = category
        self.pattern = pattern
        self.reason = reason

    def failure_info(self) -> dict[str, Any]:
        code, message = FILE_UPLOAD_FAILED
        details = [
            {"name": "FilePattern", "value": self.pattern},
            {"name": "Message", "value": self.reason},
        ]
        return {"category": self.category, "code": code, "message": message, "details": details}


@dataclass(frozen=True)
class Match:
    """A file a pattern matched, and its blob name below the destination `path`."""

    source: Path
    name: str


def wants_upload(item: Mapping[str, Any], exit_code: int) -> bool:
    """Returns whether an output file item uploads after a process exits with `exit_code`."""
    options = item.get("uploadOptions") or {}
    condition = str(options.get("uploadCondition") or "taskcompletion").lower()
    if condition == "tasksuccess":
        return exit_code == 0
    if condition == "taskfailure":
        return exit_code != 0
    return True


def expand(pattern: str, env: Mapping[str, str]) -> str:
    """Expands `$VAR` and `${VAR}` from `env`; unknown variables stay as written."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, match.group(0))

    return _VARIABLE.sub(value, pattern)


def _inside(path: Path, root: Path) -> bool:
    real_root = os.path.realpath(root)
    return os.path.commonpath([real_root, os.path.realpath(path)]) == real_root


def find(pattern: str, wd: Path, node_root: Path) -> list[Match]:
    """Returns the files `pattern` (already expanded) matches, in name order.

    Args:
        pattern: The file pattern; relative to `wd` unless absolute.
        wd: The task's working directory.
        node_root: The node's root directory; matches outside it are ignored.
    """
    parts = pattern.split("/")
    wild = next((i for i, part in enumerate(parts) if _MAGIC.search(part)), None)
    origin = Path("/") if pattern.startswith("/") else wd
    if wild is None:
        path = origin.joinpath(*parts)
        ok = path.is_file() and _inside(path, node_root)
        return [Match(path, path.name)] if ok else []
    base = origin.joinpath(*parts[:wild])
    if not base.is_dir():
        return []
    found = glob.glob("/".join(parts[wild:]), root_dir=base, recursive=True)
    matches = [Match(base / name, name) for name in sorted(found)]
    return [m for m in matches if m.source.is_file() and _inside(m.source, node_root)]


def blob_name(destination_path: str | None, match: Match, wildcard: bool) -> str:
    """Returns the blob a match is uploaded as (see the module docstring)."""
    path = (destination_path or "").strip("/")
    if not wildcard:
        return path or match.source.name
    return f"{path}/{match.name}" if path else match.name


def upload_all(
    files: Sequence[Mapping[str, Any]],
    exit_code: int,
    *,
    wd: Path,
    node_root: Path,
    env: Mapping[str, str],
    containers: Path,
) -> dict[str, Any] | None:
    """Uploads the output files whose condition holds; blocking (run it in a thread).

    Args:
        files: The task's `outputFiles`.
        exit_code: How its process exited.
        wd: Its working directory; the upload logs go in its parent, the task directory.
        node_root: The node's root directory.
        env: The task's environment, for `$VAR` in patterns.
        containers: `<data_dir>/containers`, where loopback containers live.

    Returns:
        None when every upload succeeded, else the failureInfo of the first that failed.
    """
    log = _Log()
    first: UploadError | None = None
    for item in files:
        if not wants_upload(item, exit_code):
            continue
        try:
            _upload(item, wd, node_root, env, containers, log)
        except UploadError as err:
            log.err.append(f"{_now()} {err.pattern}: {err.reason}")
            first = first or err
    log.write(wd.parent)
    return first.failure_info() if first else None


@dataclass
class _Log:
    """The lines one upload round appends to the two upload logs."""

    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def write(self, task_dir: Path) -> None:
        try:
            for name, lines in ((UPLOAD_LOG, self.out), (UPLOAD_ERROR_LOG, self.err)):
                with (task_dir / name).open("a", encoding="utf-8") as handle:
                    handle.writelines(f"{line}\n" for line in lines)
        except OSError:
            pass  # the task directory went away (the task was deleted): nothing to log to


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _upload(
    item: Mapping[str, Any],
    wd: Path,
    node_root: Path,
    env: Mapping[str, str],
    containers: Path,
    log: _Log,
) -> None:
    raw = str(item.get("filePattern") or "")
    pattern = expand(raw, env)
    target = (item.get("destination") or {}).get("container") or {}
    try:
        container = container_dir(str(target.get("containerUrl") or ""), containers)
    except StorageError as err:
        raise UploadError("usererror", raw, str(err)) from None
    wildcard = _MAGIC.search(pattern) is not None
    matches = find(pattern, wd, node_root)
    if not matches:
        log.out.append(f"{_now()} {raw}: no file matches")
    for match in matches:
        _copy(match, blob_name(target.get("path"), match, wildcard), container, raw, log)


def _copy(match: Match, blob: str, container: Path, pattern: str, log: _Log) -> None:
    try:
        destination = blob_path(container, blob)
    except StorageError as err:
        raise UploadError("usererror", pattern, str(err)) from None
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(match.source, destination)
    except OSError as err:
        raise UploadError("servererror", pattern, f"{blob}: {err}") from None
    log.out.append(f"{_now()} uploaded {match.source.name} as {blob} to {container}")
