"""Provides the history's file: one per account endpoint, in the user data directory.

- `history_file(endpoint, folder=None)`: the file of an endpoint (its name a hash of it),
  under `paths.data_dir() / "history"` by default.
- `encode(endpoint, dumped)` / `decode(data, endpoint)`: the file's bytes from
  `History.dump()`'s data and back (None when the bytes are not this endpoint's history).
- `save_history(path, endpoint, dumped)`: writes the file atomically, mode 0600
  (`paths.replace_private`); `load_history(path, endpoint)`: reads it back, an empty history
  when there is none or it is unreadable (a history is a nicety: it never stops the app).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from batch_tui import paths
from batch_tui.ui.history import History

FOLDER_NAME: Final = "history"
"""The folder under the user data directory."""

VERSION: Final = 1
"""The file format's version; a file of another one is ignored."""

MAX_FILE_BYTES: Final = 32 * 1024 * 1024
"""A bigger file is not read (the rings hold a few MB at most)."""


def history_file(endpoint: str, folder: Path | None = None) -> Path:
    """The history file of an endpoint."""
    digest = hashlib.sha256(endpoint.encode()).hexdigest()[:32]
    return (folder or paths.data_dir() / FOLDER_NAME) / f"{digest}.json"


def encode(endpoint: str, dumped: Mapping[str, Any]) -> bytes:
    """The file's bytes: JSON, each ring's samples in base64."""
    document = {
        "version": VERSION,
        "endpoint": endpoint,
        "pool_fields": dumped["pool_fields"],
        "job_fields": dumped["job_fields"],
        **{
            kind: {key: base64.b64encode(raw).decode() for key, raw in dumped[kind].items()}
            for kind in ("pools", "jobs")
        },
    }
    return json.dumps(document, separators=(",", ":")).encode()


def decode(data: bytes, endpoint: str) -> History | None:
    """A history from the file's bytes; None if they are not this endpoint's, of this version."""
    try:
        document = json.loads(data)
        if document.get("version") != VERSION or document.get("endpoint") != endpoint:
            return None
        dumped = {
            "pool_fields": document.get("pool_fields", []),
            "job_fields": document.get("job_fields", []),
            **{
                kind: {
                    str(key): base64.b64decode(raw, validate=True)
                    for key, raw in dict(document.get(kind, {})).items()
                }
                for kind in ("pools", "jobs")
            },
        }
    except (ValueError, TypeError, AttributeError):
        return None
    return History.load(dumped)


def save_history(path: Path, endpoint: str, dumped: Mapping[str, Any]) -> None:
    """Writes the history atomically, 0600. Raises OSError when it cannot."""
    paths.replace_private(path, encode(endpoint, dumped))


def load_history(path: Path, endpoint: str) -> History:
    """The history in the file; an empty one if it is missing, too big or unreadable."""
    with contextlib.suppress(OSError):
        if path.stat().st_size <= MAX_FILE_BYTES:
            found = decode(path.read_bytes(), endpoint)
            if found is not None:
                return found
    return History()
