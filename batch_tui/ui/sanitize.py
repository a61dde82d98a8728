"""Provides pure functions that make text from the service harmless for the terminal."""

from __future__ import annotations

import re
from typing import Final

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
        # A UTF-8 character is at most 4 bytes, so this prefix still fills the limit;
        # decoding megabytes only to throw them away would stall the UI.
        head = data[: 4 * limit].decode("utf-8", errors="replace")
        return _clean(head)[:limit] + f" … [{len(data) - 4 * limit:,}+ more bytes]"
    return sanitize_text(data.decode("utf-8", errors="replace"), limit=limit)


def safe_markup(text: str) -> str:
    """Sanitizes text and escapes it for Textual content markup.

    Prefer passing service text as `Content(...)` or `rich.text.Text(...)` literals, which are
    never parsed; use this only to embed service text inside a markup template.

    Args:
        text: Text from the service, e.g. a pool id such as `[red]pool`.

    Returns:
        Markup that renders as the sanitized text, with no tag parsed from it.
    """
    escaped = sanitize_text(text).replace("[", "\\[")
    if escaped.endswith("\\"):
        # A trailing backslash would escape the template's next tag; a zero-width
        # space between them keeps the tag working and shows nothing.
        escaped += "\u200b"
    return escaped
