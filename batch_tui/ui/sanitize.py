"""Provides pure functions that make text from the service harmless for the terminal.

`sanitize_text` / `sanitize_bytes` for one line, `sanitize_content` for styled Content built
from service text, and `SafeLineStream` to turn a whole file into the lines the viewer shows,
in bounded memory.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Final

from textual.content import Content, Span

MAX_LINE_CHARS: Final = 10_000
"""Most characters one rendered line keeps.

A log line can be megabytes long (a progress bar redrawn with `\\r` and no newline, a
base64 blob). Rendering or wrapping all of it would stall the UI, and nobody reads past
a screenful or two of one line, so the rest is replaced by a marker saying how much was cut.
"""

TAB_SIZE: Final = 8
"""Tab stops every 8 cells, as terminals and `less` do."""

_CSI: Final = re.compile(r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]")
"""A complete CSI sequence (SGR colours, cursor moves, erase ...), 7-bit or 8-bit form.

These are dropped silently: coloured output is common in task logs, and showing every
`ESC[31m` would drown the text. Any other escape keeps a visible trace (see `_picture`).
"""

_UNSAFE: Final = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
    "\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
"""Characters that must not reach the terminal as they are.

C0 controls but tab (tab is expanded), DEL, C1 controls (8-bit CSI, OSC, DCS, ST ...),
bidirectional marks, overrides and isolates (the "Trojan Source" characters), line and
paragraph separators (they break line layout) and lone surrogates (not encodable).
"""

_BIDI_AND_SEPARATORS: Final = frozenset(
    "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _picture(char: str) -> str:
    """Returns the visible stand-in for one unsafe character.

    C0 controls and DEL become their Unicode "control pictures" (ESC shows as `␛`, so an
    OSC 52 clipboard write shows up as `␛]52;c;...␇` instead of running). A C1 control shows
    as `␛` plus its 7-bit equivalent (U+009B as `␛[`). Bidi characters show as `<U+202E>`.
    """
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if code <= 0x9F:
        return "\u241b" + chr(code - 0x40)
    if char in _BIDI_AND_SEPARATORS:
        return f"<U+{code:04X}>"
    return "\ufffd"


_PICTURES: Final = {chr(code): _picture(chr(code)) for code in (*range(0x20), *range(0x7F, 0xA0))}


def _replace(match: re.Match[str]) -> str:
    char = match.group()
    return _PICTURES.get(char) or _picture(char)


def _clean(text: str) -> str:
    """Sanitizes text of any length (no cap)."""
    if "\x1b" in text or "\x9b" in text:
        text = _CSI.sub("", text)
    if _UNSAFE.search(text) is not None:
        text = _UNSAFE.sub(_replace, text)
    if "\t" in text:
        text = text.expandtabs(TAB_SIZE)
    return text


def sanitize_text(text: str, *, limit: int | None = MAX_LINE_CHARS) -> str:
    """Makes text from the service safe to show in a terminal.

    Drops CSI sequences and replaces every other control character, bidi override and
    lone surrogate with a visible placeholder; expands tabs. The result holds no C0 or C1
    control character, no DEL and no ESC.

    Args:
        text: A line of text (newlines in it are shown as `␊`).
        limit: Most characters kept; longer text is cut and ends with a marker saying how
            many characters were cut. `None` keeps everything.

    Returns:
        The safe text.
    """
    if limit is None:
        return _clean(text)
    if len(text) > limit:
        return _clean(text[:limit])[:limit] + _cut_marker(len(text) - limit)
    cleaned = _clean(text)
    if len(cleaned) <= limit:
        return cleaned
    # Tab expansion and placeholders can push a short line over the limit.
    return cleaned[:limit] + _cut_marker(len(cleaned) - limit)


def _cut_marker(count: int) -> str:
    return f" … [{count:,} more chars]"


def sanitize_bytes(data: bytes, *, limit: int | None = MAX_LINE_CHARS) -> str:
    """Decodes bytes as UTF-8 (invalid bytes become U+FFFD) and sanitizes the text.

    Args:
        data: Raw bytes, e.g. one line of a task's `stdout.txt`.
        limit: Most characters kept, as for `sanitize_text`.

    Returns:
        The safe text.
    """
    if limit is not None and len(data) > 4 * limit:
        return _cut_bytes(data[: 4 * limit], len(data), limit)
    return sanitize_text(data.decode("utf-8", errors="replace"), limit=limit)


def _cut_bytes(head: bytes, length: int, limit: int) -> str:
    """Shows the first `4 * limit` bytes (`head`) of a line of `length` bytes.

    A UTF-8 character is at most 4 bytes, so the head still fills the limit; decoding
    megabytes only to throw them away would stall the UI.
    """
    text = _clean(head.decode("utf-8", errors="replace"))[:limit]
    return text + f" … [{length - len(head):,}+ more bytes]"


def sanitize_content(content: Content, *, limit: int | None = MAX_LINE_CHARS) -> Content:
    """Sanitizes styled Content built from service text, keeping its styles.

    Each run of text between style boundaries is sanitized on its own and the spans are
    moved to the new offsets. An escape sequence split by a boundary is not recognised as
    one, so it shows as pictures instead of being dropped: still harmless.

    Args:
        content: Content whose text may hold service text, e.g. a styled task state.
        limit: Most characters kept, as for `sanitize_text`.

    Returns:
        The same Content if it was already safe, else a sanitized copy.
    """
    plain = content.plain
    cut = 0
    if limit is not None and len(plain) > limit:
        cut, content = len(plain) - limit, content[:limit]
        plain = content.plain
    if _clean(plain) != plain:
        content = _clean_runs(content)
    if limit is not None and len(content.plain) > limit:
        # Tab expansion and placeholders can push short text over the limit.
        cut += len(content.plain) - limit
        content = content[:limit]
    return content + _cut_marker(cut) if cut else content


def _clean_runs(content: Content) -> Content:
    plain = content.plain
    edges = {0, len(plain)}
    for span in content.spans:
        edges.update((min(span.start, len(plain)), min(span.end, len(plain))))
    moved = {0: 0}
    pieces = []
    for start, end in pairwise(sorted(edges)):
        pieces.append(_clean(plain[start:end]))
        moved[end] = moved[start] + len(pieces[-1])
    spans = [
        Span(moved[min(span.start, len(plain))], moved[min(span.end, len(plain))], span.style)
        for span in content.spans
    ]
    return Content("".join(pieces), [span for span in spans if span.end > span.start])


_LINE_END: Final = re.compile(rb"\r\n|\r|\n")
"""Where a line ends, as for the viewer (`bytes.splitlines`): LF, CRLF or a lone CR."""


class SafeLineStream:
    """Turns a file's bytes, fed in chunks, into the safe lines the viewer shows.

    Lines are split and sanitized exactly as `sanitize_bytes` does for the viewer, but
    memory stays bounded: of a line longer than the limit only its first `4 * limit` bytes
    are held, however many gigabytes it runs on.

    Args:
        limit: Most characters per line, as for `sanitize_bytes`.
    """

    def __init__(self, limit: int = MAX_LINE_CHARS) -> None:
        self._limit = limit
        self._head = bytearray()
        self._length = 0
        self._after_cr = False

    def feed(self, data: bytes) -> list[str]:
        """Takes the next chunk; returns the lines it completed."""
        start = 1 if self._after_cr and data.startswith(b"\n") else 0
        if data:
            self._after_cr = False
        lines = []
        for end in _LINE_END.finditer(data, start):
            self._add(data, start, end.start())
            lines.append(self._take())
            start = end.end()
            # A CR that ends the chunk may be the first half of a CRLF split between chunks.
            self._after_cr = start == len(data) and end.group() == b"\r"
        self._add(data, start, len(data))
        return lines

    def close(self) -> list[str]:
        """Ends the stream; returns the last line if it had no line end."""
        return [self._take()] if self._length else []

    def _add(self, data: bytes, start: int, end: int) -> None:
        """Counts `data[start:end]` into the current line, keeping only the line's head."""
        room = 4 * self._limit - len(self._head)
        if room > 0:
            self._head += data[start : min(end, start + room)]
        self._length += end - start

    def _take(self) -> str:
        head, length = bytes(self._head), self._length
        self._head.clear()
        self._length = 0
        if length > 4 * self._limit:
            return _cut_bytes(head, length, self._limit)
        return sanitize_bytes(head, limit=self._limit)
