"""Provides a node's agent log: the Batch service logs an emulated node uploads on request.

A real node's Batch agent logs what it does; `uploadbatchservicelogs` copies those files to a
container so that support can read them. An emulated node has no agent process, so the engine
writes its log as the node lives: each state change, the start task's runs and each job task
placed on the node and leaving it. A node that is reimaged or preempted loses its disk, and
with it the lines before.

The log is rotated every hour, one file per hour (`agent-<YYYYMMDD>T<HH>.log`). As the spec
says of the service, an upload copies whole files: every file that holds a line between the
request's `startTime` and `endTime` (default: now), so it may carry more than was asked. The
log lives in memory, bounded to `MAX_LINES` per node; after a restart of the emulator it starts
again from what the node's record says (allocation, boot, current state).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from batch_tui.emulator.base.times import iso, parse_iso, stamp
from batch_tui.emulator.node.storage import StorageError, blob_path, container_dir, redact
from batch_tui.emulator.state.store import NodeRecord

MAX_LINES = 100
"""Lines kept per node, as a real agent rotates its logs away: kept as text (about 130 bytes a
line), so 10,000 busy nodes of the large scenario hold at most about 130 MB of logs."""

STAMP_CHARS = len("2024-10-01T12:00:00.0000000Z")
"""The length of the time that starts every line (`iso`)."""

Namer = Callable[[tuple[str, str]], str]
"""Gives the `job/task` ids of a task from its (job key, task key)."""


@dataclass(frozen=True)
class LogFile:
    """One rotated file of an agent log: its name and content."""

    name: str
    content: bytes


@dataclass
class AgentLog:
    """The lines an emulated node's agent wrote, oldest first, each as the file holds it."""

    lines: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_LINES))

    def write(self, when: datetime, text: str) -> None:
        """Appends a line; lines are kept in time order (the engine's clock only moves on)."""
        self.lines.append(f"{iso(when)} INFO {text}")

    def clear(self) -> None:
        """Forgets every line (the node's disk was wiped)."""
        self.lines.clear()

    def files(self, start: datetime, end: datetime) -> list[LogFile]:
        """Returns, whole, every hourly file that holds a line in `[start, end]`."""
        hours: dict[str, list[str]] = {}
        for line in self.lines:
            hours.setdefault(line[:13], []).append(line)  # 2024-10-01T12: the line's hour
        return [
            LogFile(_file_name(hour), "".join(f"{line}\n" for line in lines).encode("utf-8"))
            for hour, lines in hours.items()
            if any(start <= parse_iso(line[:STAMP_CHARS]) <= end for line in lines)
        ]


def _file_name(hour: str) -> str:
    """`agent-20241001T12.log` for the hour `2024-10-01T12`."""
    return f"agent-{hour[:10].replace('-', '')}T{hour[11:13]}.log"


class AgentLogs:
    """The agent logs of every node, by node id (lower case)."""

    def __init__(self) -> None:
        self._logs: dict[str, AgentLog] = {}
        self._tasks: dict[str, frozenset[tuple[str, str]]] = {}

    def of(self, node: NodeRecord) -> AgentLog:
        """Returns the node's log; one the engine did not see begin (a node of a scenario, or
        of a restarted emulator) starts from what its record says."""
        key = node.id.lower()
        found = self._logs.get(key)
        if found is None:
            found = self._logs[key] = AgentLog()
            for when, text in sorted(_history(node)):
                found.write(when, text)
        return found

    def note(self, node: NodeRecord, when: datetime, text: str) -> None:
        """Writes a line to the node's log."""
        self.of(node).write(when, text)

    def tasks(
        self, node: NodeRecord, when: datetime, keys: frozenset[tuple[str, str]], name: Namer
    ) -> None:
        """Logs the tasks (job key, task key) that came onto the node or left it since the
        last call; `name` gives a task's `job/task` ids for the line."""
        before = self._tasks.get(node.id.lower(), frozenset())
        if keys == before:
            return
        self._tasks[node.id.lower()] = keys
        for key in sorted(keys - before):
            self.note(node, when, f"task {name(key)} assigned to this node")
        for key in sorted(before - keys):
            self.note(node, when, f"task {name(key)} no longer on this node")

    def wiped(self, node: NodeRecord) -> None:
        """Forgets the lines so far: the node's disk, which held them, was wiped."""
        self.of(node).clear()

    def forget(self, node: NodeRecord) -> None:
        """Drops the log of a node that left its pool."""
        self._logs.pop(node.id.lower(), None)
        self._tasks.pop(node.id.lower(), None)


def _history(node: NodeRecord) -> list[tuple[datetime, str]]:
    """The lines a node's record allows to write again: allocation, last boot, current state."""
    data = node.data
    found = [
        (stamp(data.get("allocationTime")), "allocated to the pool"),
        (stamp(data.get("lastBootTime")), "node agent started"),
        (stamp(data.get("stateTransitionTime")), f"state {data.get('state')}"),
    ]
    return [(when, text) for when, text in found if when is not None]


def account_tag(account: str) -> str:
    """Returns the 16 upper-case hex digits the service puts after the account name in an
    upload's virtual directory (`batch3d0a22a3-22EE7920567F9EAB/...` in the recordings): an id
    of the account, stable here because it is derived from the name."""
    return hashlib.sha256(account.encode("utf-8")).hexdigest()[:16].upper()


def virtual_directory(account: str, pool_id: str, node_id: str, request_id: str) -> str:
    """Returns where an upload's files go in the container, as the live service names it:
    `<account>-<tag>/<pool>/<node>/<request-id>` (the request's own `request-id`)."""
    return f"{account}-{account_tag(account)}/{pool_id}/{node_id}/{request_id}"


def upload(
    files: Iterable[LogFile], container_url: str, containers: Path | None, directory: str
) -> None:
    """Writes `files` under `directory` in the container; blocking (run it in a thread).

    Args:
        files: The files to upload.
        container_url: The container (see `storage` for the URLs the emulator maps).
        containers: `<data_dir>/containers`, where loopback containers live; None when the
            emulator has no data directory (then only `file://` containers work).
        directory: The virtual directory the files go under.

    Raises:
        StorageError: When the container URL is not one the emulator writes to.
        OSError: When writing fails.
    """
    container = _container(container_url, containers)
    for item in files:
        target = blob_path(container, f"{directory}/{item.name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.content)


def _container(url: str, containers: Path | None) -> Path:
    if containers is None and urlsplit(url).scheme != "file":
        raise StorageError(
            f"the emulator has no data directory to keep the container {redact(url)!r} in; "
            "use a file:// container"
        )
    return container_dir(url, containers or Path())  # a file:// URL names its own directory
