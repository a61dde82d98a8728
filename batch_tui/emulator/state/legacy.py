"""Provides the reader of the journal format (before SQLite), so a data dir in it is migrated once.

That format kept `snapshot.jsonl` plus `journal-<generation>.jsonl` files of JSON lines:
`put` (an entity's whole saved form), `del` (an entity, or a parent's children) and `commit`,
which ended each batch; the snapshot began with a `snapshot` header naming its generation.
The state was the snapshot plus the journals of its generation and later, replayed in order,
each up to its last `commit` line (what follows is a batch a crash cut off, never
acknowledged).

This reader is stricter than the old one: a journal after the first one without a snapshot
(the snapshot was lost) is refused rather than ignored. What the format cannot show, it cannot
catch: a journal cut at a line boundary looks like a shorter one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import msgspec

from batch_tui.emulator.state.errors import damaged
from batch_tui.emulator.state.files import fsync_dir
from batch_tui.emulator.state.records import Saved, put
from batch_tui.emulator.state.store import Store

FORMAT = 1
NAME = "journal format 1"
"""How `meta.migrated_from` names it."""
SNAPSHOT = "snapshot.jsonl"
MOVED_TO = "journal-format"
"""The subfolder of the state folder the old files are moved into once migrated."""


class Header(msgspec.Struct, tag="snapshot", tag_field="op"):
    gen: int
    format: int = FORMAT


class Put(msgspec.Struct, tag="put", tag_field="op"):
    kind: str
    key: list[str]
    rec: Saved


class Delete(msgspec.Struct, tag="del", tag_field="op"):
    kind: str
    key: list[str]


class Commit(msgspec.Struct, tag="commit", tag_field="op"):
    pass


_DECODER = msgspec.json.Decoder(Header | Put | Delete | Commit)
_COMMIT_LINE = msgspec.json.encode(Commit()) + b"\n"


def journals(state_dir: Path) -> list[tuple[int, Path]]:
    """Returns the journal files, oldest generation first."""
    found = []
    for path in state_dir.glob("journal-*.jsonl"):
        number = path.stem.removeprefix("journal-")
        if number.isdigit():
            found.append((int(number), path))
    return sorted(found)


def files(state_dir: Path) -> list[Path]:
    """Returns the files of the journal format in a state folder (none: not that format)."""
    snapshot = state_dir / SNAPSHOT
    return ([snapshot] if snapshot.exists() else []) + [p for _, p in journals(state_dir)]


def load(store: Store, state_dir: Path) -> bool:
    """Replays a state folder of the journal format into an empty store.

    Returns:
        Whether it held a state (only a first journal without a snapshot does not: that
        emulator was killed before it first served).

    Raises:
        StateError: When a file is damaged or the snapshot is missing.
    """
    snapshot = state_dir / SNAPSHOT
    found = journals(state_dir)
    if not snapshot.exists():
        if any(number > 0 for number, _ in found):
            raise damaged(snapshot, f"is missing, but {found[-1][1].name} needs it", state_dir)
        return False
    entries = _entries(snapshot, state_dir)
    header = entries[0] if entries else None
    if not isinstance(header, Header) or header.format != FORMAT:
        raise damaged(snapshot, "does not begin with a snapshot header of format 1", state_dir)
    _replay(store, entries, snapshot)
    for number, path in found:
        if number >= header.gen:
            _replay(store, _entries(path, state_dir), path)
    return True


def _entries(path: Path, state_dir: Path) -> list[object]:
    content = path.read_bytes()
    end = (b"\n" + content).rfind(b"\n" + _COMMIT_LINE)
    committed = content[: end + len(_COMMIT_LINE)] if end >= 0 else b""
    try:
        return list(_DECODER.decode_lines(committed))
    except msgspec.DecodeError as exc:
        raise damaged(path, f"a committed entry is damaged ({exc})", state_dir) from None


def _replay(store: Store, entries: Iterable[object], path: Path) -> None:
    try:
        for entry in entries:
            if isinstance(entry, Put):
                key = entry.key if len(entry.key) > 1 else ["", *entry.key]
                put(store, (entry.kind, key[0], key[1]), entry.rec)
            elif isinstance(entry, Delete):
                _delete(store, entry.kind, entry.key)
    except (ValueError, IndexError) as exc:
        raise damaged(path, f"an entry is not one this format has ({exc})", path.parent) from None


def _delete(store: Store, kind: str, key: list[str]) -> None:
    if kind == "node":
        store.nodes.get(key[0], {}).pop(key[1], None)
    elif kind == "task":
        store.tasks.get(key[0], {}).pop(key[1], None)
    else:
        tables = dict(store.tables())
        if kind not in tables:
            raise ValueError(f"unknown entity kind {kind!r}")
        tables[kind].pop(key[0], None)


def move_aside(state_dir: Path) -> Path:
    """Moves the migrated files into `MOVED_TO`; returns that folder."""
    target = state_dir / MOVED_TO
    target.mkdir(exist_ok=True)
    for path in files(state_dir):
        os.replace(path, target / path.name)
    fsync_dir(state_dir)
    return target
