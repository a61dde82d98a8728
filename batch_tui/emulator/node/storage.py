"""Provides the emulator's stand-in for Azure Blob Storage: container URLs as local directories.

Output files are uploaded to, and resource files with `storageContainerUrl` or
`autoStorageContainerName` are downloaded from, a container. The emulator never sends task data
off the machine, so a container is a local directory:

- `file:///abs/dir` is the directory `/abs/dir` itself;
- an `http://` or `https://` URL whose host is a loopback address (`127.0.0.1`, `::1`,
  `localhost`) is `<data_dir>/containers/<name>`, where `<name>` is the last segment of the URL
  path and the query (a SAS token) is ignored. Azurite-style URLs work as they are:
  `http://127.0.0.1:10000/devstoreaccount1/results?sv=...` is `<data_dir>/containers/results`;
- an auto-storage container name `<name>` is `<data_dir>/containers/<name>` too.

Any other URL is refused (`StorageError`). A blob `a/b.txt` is the file `a/b.txt` under the
container's directory; blob names never leave it.
"""

from __future__ import annotations

import re
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import unquote, urlsplit

CONTAINERS_DIR = "containers"
"""The directory under the data dir that holds the containers of loopback URLs."""

_CONTAINER_NAME = re.compile(r"^[A-Za-z0-9$][A-Za-z0-9_.$-]{0,62}$")
"""Container names as Storage accepts them (lower case there; kept lenient for tests), plus
`$root` and `$web`; never `.` or `..`, which the first character rules out."""


class StorageError(Exception):
    """A container URL or blob name the emulator cannot map to a local directory."""


def is_loopback(host: str | None) -> bool:
    """Returns whether `host` (an address or a name) is this machine."""
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def redact(url: str) -> str:
    """Returns `url` without its query and user info: a SAS token is a secret, and messages
    and logs name the URL."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else parts.path


def named_container(containers: Path, name: str) -> Path:
    """Returns the directory of the container `name` under `containers`.

    Raises:
        StorageError: When `name` is not a container name.
    """
    if not _CONTAINER_NAME.fullmatch(name):  # `$` alone would let "name\n" through
        raise StorageError(f"{name!r} is not a valid container name")
    return containers / name


def container_dir(url: str, containers: Path) -> Path:
    """Returns the local directory that stands for the container at `url`.

    Args:
        url: A container URL (see the module docstring for the accepted forms).
        containers: `<data_dir>/containers`, where loopback containers live.

    Raises:
        StorageError: When the URL is neither a `file://` URL nor a loopback http(s) URL.
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
        if parts.netloc not in ("", "localhost") or not path.is_absolute():
            raise StorageError(f"{redact(url)!r} is not an absolute file:// URL")
        return path
    if parts.scheme in ("http", "https"):
        if not is_loopback(parts.hostname):
            raise StorageError(
                "the emulator uses only file:// and loopback http(s) containers, "
                f"not {redact(url)!r}"
            )
        segments = [s for s in unquote(parts.path).split("/") if s]
        if not segments:
            raise StorageError(f"{redact(url)!r} names no container")
        return named_container(containers, segments[-1])
    raise StorageError(f"{redact(url)!r} is not a container URL")


def blob_path(container: Path, blob: str) -> Path:
    """Returns where the blob `blob` lives in a container directory.

    Raises:
        StorageError: When the name is empty or would leave the container (`..`, absolute).
    """
    parts = [part for part in blob.replace("\\", "/").split("/") if part not in ("", ".")]
    if not parts or ".." in parts or blob.startswith("/"):
        raise StorageError(f"{blob!r} is not a valid blob name")
    return container.joinpath(*parts)


def list_blobs(container: Path, prefix: str = "") -> list[str]:
    """Returns the names of the blobs in a container directory that start with `prefix`.

    Raises:
        StorageError: When the container does not exist.
    """
    if not container.is_dir():
        raise StorageError(f"the container {container.name!r} does not exist")
    names = (p.relative_to(container).as_posix() for p in container.rglob("*") if p.is_file())
    return sorted(name for name in names if name.startswith(prefix))
