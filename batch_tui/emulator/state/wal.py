"""Provides `wal_damage`: finds committed writes that SQLite would drop from a damaged WAL file.

SQLite reads its write-ahead log (`<db>-wal`) frame by frame and stops at the first frame whose
salt or checksum is wrong, taking it for the torn end of a write that a crash interrupted. For a
crash that is right; for damage it is silent: one byte changed in a frame drops that
transaction and every one after it. A kill only ever leaves the end unfinished: frames of a
transaction without its commit frame, or a frame cut short. Here damage is therefore:

- a commit frame of this WAL's generation (its salts) *after* the frame where SQLite stops: a
  whole transaction written, and acknowledged, after the break;
- the frame where SQLite stops being itself a whole commit frame of this generation: the last
  transaction's commit, written to its end, but changed since.

`Persistence` keeps to what makes those two signs sound: it checkpoints with `TRUNCATE`, so no
stale frames of an earlier generation lie behind the end of the log. Transactions over
`CACHE_KIB` (the large scenario's seed) spill pages early and rewrite checksums as they commit;
a kill in that rewrite looks like damage. It is refused, never dropped, and nothing had been
acknowledged then.

The format is SQLite's (https://sqlite.org/fileformat2.html#walformat): a 32-byte header
(magic, version, page size, checkpoint number, two salts, a checksum of the first 24 bytes),
then frames of a 24-byte header (page number, the database size in pages for a commit frame
else 0, the two salts, a checksum running over every frame so far) and one page.
"""

from __future__ import annotations

import struct
import sys
from array import array
from pathlib import Path
from typing import BinaryIO

WAL_HEADER = 32
FRAME_HEADER = 24
MAGIC = (0x377F0682, 0x377F0683)
"""The header's first word: checksums over little-endian (…82) or big-endian (…83) words."""
VERSION = 3007000
_MASK = 0xFFFFFFFF


def _checksum(data: bytes, big_endian: bool, s0: int, s1: int) -> tuple[int, int]:
    """SQLite's WAL checksum of `data` (a multiple of 8 bytes), continuing from (s0, s1)."""
    words = array("I")
    words.frombytes(data)
    if big_endian != (sys.byteorder == "big"):
        words.byteswap()
    pairs = iter(words)
    for x0 in pairs:
        s0 = (s0 + x0 + s1) & _MASK
        s1 = (s1 + next(pairs) + s0) & _MASK
    return s0, s1


def wal_damage(path: Path) -> str | None:
    """Says what is damaged in a WAL file such that SQLite would drop committed writes.

    Args:
        path: The `-wal` file (it must exist).

    Returns:
        None when SQLite would read every committed transaction in it (or it is empty), else
        what is wrong, for a message.
    """
    with path.open("rb") as wal:
        header = wal.read(WAL_HEADER)
        if not header:
            return None
        if len(header) < WAL_HEADER:
            return f"its header is cut short ({len(header)} of {WAL_HEADER} bytes)"
        magic, version, page_size, _, salt1, salt2, c0, c1 = struct.unpack(">8I", header)
        if magic not in MAGIC or version != VERSION or not 512 <= page_size <= 65536:
            return "its header is not a SQLite WAL header"
        big = magic == MAGIC[1]
        if _checksum(header[:24], big, 0, 0) != (c0, c1):
            # SQLite then ignores every frame: damage unless there are none.
            return "its header's checksum is wrong" if wal.read(1) else None
        return _frames(wal, page_size, big, (salt1, salt2), (c0, c1))


def _frames(
    wal: BinaryIO, page_size: int, big: bool, salts: tuple[int, int], sums: tuple[int, int]
) -> str | None:
    """Walks the frames after the header; see `wal_damage`."""
    size = FRAME_HEADER + page_size
    broken: int | None = None
    index = 0
    while len(frame := wal.read(size)) == size:
        _, commit, salt1, salt2, c0, c1 = struct.unpack(">6I", frame[:FRAME_HEADER])
        ours = (salt1, salt2) == salts
        if broken is None:
            expected = _checksum(frame[:8] + frame[FRAME_HEADER:], big, *sums)
            if ours and expected == (c0, c1):
                sums = expected
                index += 1
                continue
            broken = index
            if ours and commit:
                return (
                    f"frame {index + 1} (at byte {WAL_HEADER + index * size:,}), a commit, "
                    "does not match its checksum"
                )
        elif ours and commit:
            return (
                f"frame {broken + 1} (at byte {WAL_HEADER + broken * size:,}) does not match "
                f"its checksum, and a transaction committed after it (frame {index + 1}) "
                "would be lost"
            )
        index += 1
    return None
