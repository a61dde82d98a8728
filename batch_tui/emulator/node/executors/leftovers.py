"""Provides `leftover_pids`: task processes an earlier emulator left running on a data dir.

An emulator killed with SIGKILL cannot end its runs, and their processes go on (each runs in
a process group of its own, out of reach of the terminal's signals). An emulator that takes
back the same data directory finds them by their environment, which names their node's
root under that directory (`AZ_BATCH_NODE_ROOT_DIR`, inherited by whatever they started), and
ends them as a node restart would, before it runs the requeued tasks again.

Linux only (it reads `/proc`); elsewhere nothing is found and the processes go on.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")

MARKER = b"AZ_BATCH_NODE_ROOT_DIR="
"""The variable every task process of the local executor has: its node's root directory."""


def leftover_pids(nodes_root: Path, proc: Path = PROC) -> list[int]:
    """Returns the processes whose node root lies under `nodes_root`.

    Args:
        nodes_root: The local executor's `<data_dir>/nodes`.
        proc: The proc file system (a test may give another).
    """
    prefixes = {
        MARKER + os.fsencode(str(root)) + b"/" for root in (nodes_root, nodes_root.resolve())
    }
    mine = os.getpid()
    found: list[int] = []
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == mine:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or another user's
            continue
        if any(item.startswith(prefix) for item in environ.split(b"\0") for prefix in prefixes):
            found.append(int(entry.name))
    return found
