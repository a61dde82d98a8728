"""Provides the signature of a failed task: what makes two failures "the same one" (pure).

A signature is the exit code, the failure category and code (`executionInfo.failureInfo`) and
the last non-empty line of the task's `stderr.txt`, normalised: the parts that differ from
one run of the same failure to the next (numbers, hex, paths, timestamps, ids) become
placeholders, so that

    error: out of memory while rendering tile 3 (needed 18.2 GiB)
    error: out of memory while rendering tile 7 (needed 17.9 GiB)

are one signature, `error: out of memory while rendering tile <n> (needed <n> GiB)`.

- `last_line(tail)`: the last non-empty line of the bytes read from the end of a file;
- `normalise(line)`: the line with its variable parts replaced;
- `Signature`, `StderrKind`: the key failures are grouped by (`failure_groups`).

Nothing here imports Textual or reads anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

TAIL_BYTES: Final = 4096
"""How much of the end of `stderr.txt` is read: the last line is in it, whatever the size."""

MAX_LINE: Final = 240
"""Characters of a normalised line kept: a line longer than this is a dump, not a message."""

StderrKind = Literal["line", "pending", "missing", "empty", "unreadable"]
"""What is known of a task's stderr: its last line; not read yet; no file (404, the node is
gone); an empty file; or a read the service refused for another reason."""

STDERR_LABELS: Final = {
    "pending": "reading stderr…",
    "missing": "no stderr",
    "empty": "stderr empty",
    "unreadable": "stderr unreadable",
}
"""What a group shows in place of a line, by `StderrKind` (a "line" shows the line)."""

# Order matters: a timestamp holds numbers, a path may hold hex, a UUID is hex with dashes.
_RULES: Final = (
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
        ),
        "<time>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<id>",
    ),
    (re.compile(r"\b0[xX][0-9a-fA-F]+\b"), "<hex>"),
    # A path: two or more segments from a root, a drive or a home (`/mnt/batch/x.txt`,
    # `C:\data\in.csv`, `~/run/cfg`); a lone "/" or "and/or" is left alone.
    (
        re.compile(r"(?:[A-Za-z]:\\|~?/)[^\s'\"`:,;()\[\]{}<>]*[/\\][^\s'\"`:,;()\[\]{}<>]*"),
        "<path>",
    ),
    # A long hex run holding a digit and a letter (an address, a digest): not a word.
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"[-+]?\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?"), "<n>"),
)
"""(pattern, placeholder), applied in turn."""

_SPACES: Final = re.compile(r"\s+")


def last_line(tail: bytes) -> str:
    """Returns the last non-empty line of the end of a file ("" when there is none).

    The bytes are the file's last few KiB: the first line of them may be cut, the last one
    is whole. Invalid UTF-8 (a binary dump, a multi-byte character cut at the start) is
    replaced rather than refused.
    """
    text = tail.decode("utf-8", errors="replace")
    for line in reversed(text.splitlines()):
        if line.strip():
            return line.strip()
    return ""


def normalise(line: str) -> str:
    """Returns `line` with its variable parts as placeholders: `<time>`, `<id>`, `<hex>`,
    `<path>` and `<n>`; runs of white space become one space."""
    text = _SPACES.sub(" ", line.strip())
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    return text[:MAX_LINE]


@dataclass(frozen=True, slots=True)
class Signature:
    """What a failure is: equal signatures are one group.

    Attributes:
        exit_code: The task's exit code; None when it never ran a process.
        category: `failureInfo.category` ("usererror", "servererror"), "" if none.
        code: `failureInfo.code` ("FailureExitCode", "TaskEnded"), "" if none.
        stderr: What is known of its stderr (`StderrKind`).
        line: The normalised last line of stderr when `stderr` is "line", else "".
    """

    exit_code: int | None
    category: str
    code: str
    stderr: StderrKind = "pending"
    line: str = ""

    @property
    def text(self) -> str:
        """The stderr part as a group shows it: the line, or what stands in for it."""
        return self.line if self.stderr == "line" else STDERR_LABELS[self.stderr]

    @property
    def key(self) -> str:
        """A stable string for the signature (a table row's key)."""
        code = "-" if self.exit_code is None else str(self.exit_code)
        return f"{code}|{self.category}|{self.code}|{self.stderr}|{self.line}"

    def with_stderr(self, kind: StderrKind, line: str = "") -> Signature:
        """The same failure with its stderr known."""
        return Signature(self.exit_code, self.category, self.code, kind, line)


def stderr_signature(tail: bytes) -> tuple[StderrKind, str]:
    """Returns (kind, normalised line) for the end of a `stderr.txt`."""
    line = last_line(tail)
    return ("line", normalise(line)) if line else ("empty", "")
