"""Provides resource files: what a task (or start, preparation, release task) needs on its node.

Before the command runs, each `resourceFiles` item is written under the run's working directory
(`filePath`, with `fileMode`, default 0770 as on Linux nodes). Sources:

- `httpUrl` pointing at a loopback address is fetched over HTTP (no proxy, redirects only to
  loopback, at most `MAX_DOWNLOAD_BYTES` within `DOWNLOAD_TIMEOUT` seconds); a `file://` URL or
  an absolute path is copied from this machine. Any other host is refused: the emulator never
  fetches from the internet.
- `storageContainerUrl` and `autoStorageContainerName` copy every blob of a local container
  (see `storage`) whose name starts with `blobPrefix`, keeping the blob's directories under
  `filePath` (a directory here, the working directory when absent).

A file that cannot be put in place fails the run before it starts, with the service's task
scheduling error codes (Learn, "Batch Status and Error Codes"): `BlobNotFound` and
`BlobAccessDenied` (usererror), `BlobDownloadTimedOut`, `BlobDownloadMiscError`,
`ResourceFileCreateFailed` and `ResourceFileWriteFailed` (servererror), with `FilePath` and a
`Message` detail. The task then completes with that failureInfo and no exit code, its exit
conditions' `preProcessingError` applies, and it is not retried.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from batch_tui.emulator.node.storage import (
    StorageError,
    blob_path,
    container_dir,
    is_loopback,
    list_blobs,
    named_container,
    redact,
)

MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024
"""The most one resource file may hold: a runaway local server must not fill the disk."""

DOWNLOAD_TIMEOUT = 30.0
"""Seconds one download may take in all (the socket timeout alone would let a slow server drip
forever)."""

DEFAULT_FILE_MODE = 0o770
"""The mode of a downloaded file when `fileMode` is not given (spec, Linux nodes)."""

CHUNK = 64 * 1024

ERRORS = {
    "not_found": ("usererror", "BlobNotFound", "One of the specified Azure Blob(s) is not found."),
    "denied": (
        "usererror",
        "BlobAccessDenied",
        "Access for one of the specified Azure Blob(s) is denied.",
    ),
    "timeout": (
        "servererror",
        "BlobDownloadTimedOut",
        "Timeout encountered while downloading one of the specified Azure Blob(s).",
    ),
    "misc": (
        "servererror",
        "BlobDownloadMiscError",
        "Miscellaneous error encountered while downloading one of the specified Azure Blob(s).",
    ),
    "create": (
        "servererror",
        "ResourceFileCreateFailed",
        "Failure encountered creating resource file.",
    ),
    "write": (
        "servererror",
        "ResourceFileWriteFailed",
        "Failure encountered writing resource file.",
    ),
}
"""Kind -> (category, code, message) of the failures above, worded as the service words them."""


class ResourceFileError(Exception):
    """A resource file that could not be put on the node.

    Args:
        kind: A key of `ERRORS`.
        file_path: The item's `filePath` (or its source when it has none).
        reason: What went wrong, for the `Message` detail.
    """

    def __init__(self, kind: str, file_path: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.file_path = file_path
        self.reason = reason

    def failure_info(self) -> dict[str, Any]:
        """Returns the failureInfo the task (or start task) reports."""
        category, code, message = ERRORS[self.kind]
        details = [
            {"name": "FilePath", "value": self.file_path},
            {"name": "Message", "value": self.reason},
        ]
        return {"category": category, "code": code, "message": message, "details": details}


def fetch_all(files: Sequence[dict[str, Any]], wd: Path, containers: Path) -> dict[str, Any] | None:
    """Puts every resource file in place, in order; blocking (run it in a thread).

    Args:
        files: The `resourceFiles` items.
        wd: The run's working directory.
        containers: `<data_dir>/containers`, where local containers live.

    Returns:
        None when all are in place, else the failureInfo of the first that failed.
    """
    for item in files:
        try:
            fetch_one(item, wd, containers)
        except ResourceFileError as err:
            return err.failure_info()
        except OSError as err:
            # A source that vanished or broke mid-copy: the download failed, the run must not.
            return ResourceFileError("misc", _label(item), str(err)).failure_info()
    return None


def fetch_one(item: dict[str, Any], wd: Path, containers: Path) -> None:
    """Puts one resource file (or one container's blobs) in place.

    Raises:
        ResourceFileError: When it cannot.
    """
    label = _label(item)
    mode = _mode(item.get("fileMode"), label)
    if item.get("httpUrl"):
        if not item.get("filePath"):
            raise ResourceFileError("create", label, "filePath is required with httpUrl")
        target = _target(wd, str(item["filePath"]))
        with _open_source(str(item["httpUrl"]), label) as source:
            _write(source, target, mode, label)
        return
    container = _container(item, containers, label)
    directory = str(item.get("filePath") or "").rstrip("/")
    try:
        names = list_blobs(container, str(item.get("blobPrefix") or ""))
    except StorageError as err:
        raise ResourceFileError("not_found", label, str(err)) from None
    for name in names:
        target = _target(wd, f"{directory}/{name}" if directory else name)
        with blob_path(container, name).open("rb") as source:
            _write(source, target, mode, label)


def _label(item: dict[str, Any]) -> str:
    """Names an item in messages: its filePath, else its source without the SAS token."""
    source = item.get("httpUrl") or item.get("storageContainerUrl")
    if item.get("filePath") or not source:
        return str(item.get("filePath") or item.get("autoStorageContainerName") or "")
    return redact(str(source))


def _container(item: dict[str, Any], containers: Path, label: str) -> Path:
    try:
        if item.get("storageContainerUrl"):
            return container_dir(str(item["storageContainerUrl"]), containers)
        if item.get("autoStorageContainerName"):
            return named_container(containers, str(item["autoStorageContainerName"]))
    except StorageError as err:
        raise ResourceFileError("denied", label, str(err)) from None
    raise ResourceFileError(
        "create", label, "give one of httpUrl, storageContainerUrl or autoStorageContainerName"
    )


def _mode(value: Any, label: str) -> int:
    if value is None:
        return DEFAULT_FILE_MODE
    text = str(value).strip().lower().removeprefix("0o")
    try:
        mode = int(text, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        raise ResourceFileError("create", label, f"fileMode {value!r} is not an octal file mode")
    return mode


def _target(root: Path, file_path: str) -> Path:
    """Returns where `file_path` goes under `root`, refusing anything that would leave it."""
    parts = [part for part in file_path.split("/") if part not in ("", ".")]
    if not parts or ".." in parts or file_path.startswith("/"):
        raise ResourceFileError(
            "create", file_path, "filePath must name a file inside the task's working directory"
        )
    target = root.joinpath(*parts)
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(target)]) != real_root:
        # A symlink left by an earlier run must not redirect the download out of the tree.
        raise ResourceFileError("create", file_path, "filePath leaves the working directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ResourceFileError("create", file_path, str(err)) from None
    return target


class _LoopbackRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects only to loopback hosts: a local server must not send us elsewhere."""

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if not is_loopback(urlsplit(newurl).hostname):
            raise urllib.error.HTTPError(newurl, 403, "redirect off this machine", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _LoopbackRedirects())
"""No proxy (a loopback URL must never go through one) and loopback-only redirects."""


def _open_source(url: str, label: str) -> IO[bytes]:
    """Opens a resource file's source for reading."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        if not is_loopback(parts.hostname):
            reason = f"the emulator downloads only from loopback addresses, not {parts.hostname}"
            raise ResourceFileError("denied", label, reason)
        return _open_http(url, label)
    if parts.scheme == "file" or (not parts.scheme and url.startswith("/")):
        return _open_local(Path(unquote(parts.path)), label)
    raise ResourceFileError("denied", label, f"{redact(url)!r} is not an http(s) or file URL")


def _open_http(url: str, label: str) -> IO[bytes]:
    try:
        response: IO[bytes] = _OPENER.open(url, timeout=DOWNLOAD_TIMEOUT)
    except urllib.error.HTTPError as err:
        err.close()
        kind = {404: "not_found", 401: "denied", 403: "denied"}.get(err.code, "misc")
        raise ResourceFileError(kind, label, f"HTTP {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        kind = "timeout" if isinstance(err.reason, TimeoutError) else "misc"
        raise ResourceFileError(kind, label, str(err.reason)) from None
    except TimeoutError as err:
        raise ResourceFileError("timeout", label, str(err)) from None
    return response


def _open_local(path: Path, label: str) -> IO[bytes]:
    try:
        return path.open("rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise ResourceFileError("not_found", label, f"{path} is not a file") from None
    except PermissionError as err:
        raise ResourceFileError("denied", label, str(err)) from None
    except OSError as err:
        raise ResourceFileError("misc", label, str(err)) from None


def _write(source: IO[bytes], target: Path, mode: int, label: str) -> None:
    """Streams `source` into `target` within the size and time bounds, then sets its mode."""
    deadline = time.monotonic() + DOWNLOAD_TIMEOUT
    partial = target.with_name(f".{target.name}.download")
    try:
        with partial.open("wb") as out:
            _copy(source, out, deadline, label)
        partial.chmod(mode)
        partial.replace(target)
    except ResourceFileError:
        partial.unlink(missing_ok=True)
        raise
    except TimeoutError as err:
        partial.unlink(missing_ok=True)
        raise ResourceFileError("timeout", label, str(err) or "the download timed out") from None
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise ResourceFileError("write", label, str(err)) from None


def _copy(source: IO[bytes], out: IO[bytes], deadline: float, label: str) -> None:
    size = 0
    while chunk := source.read(CHUNK):
        size += len(chunk)
        if size > MAX_DOWNLOAD_BYTES:
            reason = f"the file is larger than {MAX_DOWNLOAD_BYTES} bytes"
            raise ResourceFileError("misc", label, reason)
        if time.monotonic() > deadline:
            reason = f"the download took more than {DOWNLOAD_TIMEOUT:g} seconds"
            raise ResourceFileError("timeout", label, reason)
        out.write(chunk)
