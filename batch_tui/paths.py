"""Provides the app's directories: the only caller of platformdirs."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import platformdirs

APP_NAME = "batch-tui"
"""The directory name used under each platform base directory."""

CONFIG_ENV = "BATCH_TUI_CONFIG"
"""Environment variable that points at a config file to use instead of the default one."""


def config_dir() -> Path:
    """Returns the user config directory (not created)."""
    return platformdirs.user_config_path(APP_NAME)


def config_file() -> Path:
    """Returns the config file path, honouring `BATCH_TUI_CONFIG`."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return config_dir() / "config.toml"


def cache_dir() -> Path:
    """Returns the user cache directory (not created)."""
    return platformdirs.user_cache_path(APP_NAME)


def data_dir() -> Path:
    """Returns the user data directory (not created)."""
    return platformdirs.user_data_path(APP_NAME)


def log_dir() -> Path:
    """Returns the user log directory (not created)."""
    return platformdirs.user_log_path(APP_NAME)


def _make_private(fd: int) -> None:
    # Windows has no POSIX modes (and no os.fchmod before Python 3.13): its files are private
    # to the user's profile by their ACLs.
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)


def write_private(path: Path, data: bytes) -> None:
    """Writes `data` to `path` with mode 0600, creating parent directories.

    The file is created with 0600 from the start (not chmod-ed after), so a secret is never
    readable by others, even for a moment.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        _make_private(fd)  # O_CREAT's mode only applies to a new file
        _write_all(fd, data)
    finally:
        os.close(fd)


def replace_private(path: Path, data: bytes) -> None:
    """Replaces `path` atomically with a 0600 file holding `data`, creating parent directories.

    The data goes to a temporary file beside `path` (0600 from the start), which then
    replaces it in one rename: a crash or a second writer leaves the old file or the new
    one, never half of one.

    Raises:
        OSError: The directory or file cannot be written; `path` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            _make_private(fd)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _write_all(fd: int, data: bytes) -> None:
    # os.write may write less than asked (large buffers, signals): loop until all is out.
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
