"""Tests that text from the service cannot drive the terminal."""

from __future__ import annotations

import re
import tracemalloc

from hypothesis import given
from hypothesis import strategies as st
from textual.content import Content

from batch_tui.ui.commands import complete
from batch_tui.ui.detail_fields import section, value_content
from batch_tui.ui.sanitize import (
    MAX_LINE_CHARS,
    SafeLineStream,
    sanitize_bytes,
    sanitize_content,
    sanitize_text,
)

FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
"""Nothing that a terminal interprets, and no bidi overrides or unencodable surrogates."""

DANGEROUS = st.sampled_from(
    [
        "\x1b",
        "\x1b[",
        "\x1b]52;c;",
        "\x07",
        "\x1b\\",
        "\x1bP",
        "\x1b_",
        "\x1b^",
        "\x1bX",
        "\x9b",
        "\x9d",
        "\x90",
        "\x9c",
        "\x00",
        "\x7f",
        "\r",
        "\n",
        "\t",
        "\u202e",
        "\u2066",
        "\ud800",
        "31m",
        "[b]",
        "\\",
    ]
)
HOSTILE_TEXT = st.lists(st.one_of(DANGEROUS, st.text(max_size=5)), max_size=30).map("".join)


@given(HOSTILE_TEXT)
def test_no_control_character_survives(text: str) -> None:
    assert FORBIDDEN.search(sanitize_text(text)) is None


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)))
def test_any_unicode_text_is_safe(text: str) -> None:
    assert FORBIDDEN.search(sanitize_text(text)) is None


@given(st.binary())
def test_any_bytes_are_safe(data: bytes) -> None:
    assert FORBIDDEN.search(sanitize_bytes(data)) is None


@given(HOSTILE_TEXT)
def test_sanitizing_twice_changes_nothing(text: str) -> None:
    once = sanitize_text(text)
    assert sanitize_text(once) == once


def test_colour_sequences_are_dropped() -> None:
    assert sanitize_text("\x1b[1;31mFAILED\x1b[0m exit 1") == "FAILED exit 1"
    assert sanitize_text("\x9b2Jclear") == "clear"


def test_osc52_clipboard_write_is_shown_not_run() -> None:
    shown = sanitize_text("\x1b]52;c;ZXZpbA==\x07done")
    assert shown == "␛]52;c;ZXZpbA==␇done"


def test_string_sequences_keep_a_visible_trace() -> None:
    assert sanitize_text("\x1bPq#0;2;0;0;0\x1b\\") == "␛Pq#0;2;0;0;0␛\\"
    assert sanitize_text("\x1b_app\x1b\\") == "␛_app␛\\"
    assert sanitize_text("\x9dtitle\x9c") == "␛]title␛\\"


def test_controls_become_pictures_and_tabs_expand() -> None:
    assert sanitize_text("a\x00b\x7fc\rd\ne") == "a␀b␡c␍d␊e"
    assert sanitize_text("ab\tc") == "ab      c"


def test_bidi_overrides_are_visible() -> None:
    assert sanitize_text("invoice\u202efdp.exe") == "invoice<U+202E>fdp.exe"
    assert sanitize_text("\u2066x\u2069") == "<U+2066>x<U+2069>"


def test_lone_surrogates_become_replacement_characters() -> None:
    assert sanitize_text("a\ud83db") == "a\ufffdb"


def test_long_lines_are_cut_with_a_marker() -> None:
    text = "x" * (MAX_LINE_CHARS * 300)
    shown = sanitize_text(text)
    assert shown.startswith("x" * MAX_LINE_CHARS)
    assert shown.endswith(f"[{len(text) - MAX_LINE_CHARS:,} more chars]")
    assert len(shown) < MAX_LINE_CHARS + 40


def test_tab_expansion_cannot_exceed_the_limit() -> None:
    shown = sanitize_text("\t" * 100, limit=50)
    assert shown.startswith(" " * 50) and "more chars" in shown


def test_limit_none_keeps_everything() -> None:
    assert sanitize_text("y" * 20_000, limit=None) == "y" * 20_000


def test_invalid_utf8_is_replaced() -> None:
    assert sanitize_bytes(b"ok \xff\xfe end") == "ok \ufffd\ufffd end"


def test_huge_byte_lines_decode_only_a_prefix() -> None:
    shown = sanitize_bytes(b"z" * 5_000_000)
    assert shown.startswith("z" * MAX_LINE_CHARS)
    assert "more bytes" in shown
    assert len(shown) < MAX_LINE_CHARS + 40


BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
"""Every character that reorders text in a terminal ("Trojan Source")."""


def test_every_bidi_control_is_shown_as_its_code_point() -> None:
    for char in BIDI_CONTROLS:
        assert sanitize_text(f"a{char}b") == f"a<U+{ord(char):04X}>b"
        assert sanitize_bytes(f"a{char}b".encode()) == f"a<U+{ord(char):04X}>b"


def test_sanitize_content_keeps_styles_around_the_neutralised_text() -> None:
    # (Content itself drops BEL, so an OSC here ends with ST.)
    content = Content.assemble(("ok ", "bold"), ("\x1b]52;c;eA==\x1b\\\u202ex", "red"), " end")
    shown = sanitize_content(content)
    assert shown.plain == "ok ␛]52;c;eA==␛\\<U+202E>x end"
    assert [(s.start, s.end, s.style) for s in shown.spans] == [(0, 3, "bold"), (3, 25, "red")]


def test_sanitize_content_returns_clean_content_unchanged_and_cuts_long_content() -> None:
    clean = Content.styled("running", "green")
    assert sanitize_content(clean) is clean
    shown = sanitize_content(Content.styled("x" * 50, "red"), limit=10)
    assert shown.plain == "x" * 10 + " … [40 more chars]"


@given(HOSTILE_TEXT, HOSTILE_TEXT)
def test_sanitize_content_leaves_nothing_a_terminal_runs(left: str, right: str) -> None:
    content = Content.assemble((left, "bold"), right)
    assert FORBIDDEN.search(sanitize_content(content).plain) is None


def test_detail_labels_from_the_service_are_sanitized() -> None:
    # Task environment variable names are labels.
    block = section("Environment", [("\x1b]52;c;eA==\x07NAME", "value")])
    assert all(FORBIDDEN.search(line) is None for line in block.plain.split("\n"))
    assert "␛]52;c;eA==␇NAME" in block.plain


def test_detail_content_values_are_sanitized_and_keep_their_style() -> None:
    # Screens style service text (a state, a result) before handing it over as Content.
    state = Content.styled("running\x1b]0;owned\x1b\\", "green") + Content(" since 14:03")
    block = section("Task", [("State", state)])
    assert all(FORBIDDEN.search(line) is None for line in block.plain.split("\n"))
    assert "running␛]0;owned␛\\ since 14:03" in block.plain
    assert "green" in [span.style for span in block.spans]
    assert value_content(state).plain == "running␛]0;owned␛\\ since 14:03"


@given(st.binary(), st.lists(st.integers(min_value=0, max_value=64), max_size=20))
def test_line_stream_shows_what_the_viewer_shows(data: bytes, cuts: list[int]) -> None:
    stream = SafeLineStream(limit=8)
    lines: list[str] = []
    start = 0
    for size in [*cuts, len(data)]:
        lines += stream.feed(data[start : start + size])
        start += size
    lines += stream.close()
    expected = [sanitize_bytes(part.rstrip(b"\r\n"), limit=8) for part in data.splitlines(True)]
    assert lines == expected


def test_line_stream_splits_crlf_across_chunks_once() -> None:
    stream = SafeLineStream()
    assert stream.feed(b"a\r") == ["a"]
    assert stream.feed(b"\nb\x1b]52;c;eA==\x07\n") == ["b␛]52;c;eA==␇"]
    assert stream.close() == []


def test_line_stream_memory_stays_bounded_on_a_huge_line() -> None:
    chunk = b"z" * (1024 * 1024)
    stream = SafeLineStream()
    tracemalloc.start()
    try:
        for _ in range(64):  # one 64 MiB line, no newline
            assert stream.feed(chunk) == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024, peak
    [line] = stream.close()
    assert line.startswith("z" * MAX_LINE_CHARS) and "more bytes]" in line


def test_completion_never_offers_an_id_it_cannot_show_as_typed() -> None:
    hostile = "evil\x1b]52;c;eA==\x07"

    def known(kind: str) -> list[str]:
        return [hostile, "evil-pool"]

    assert complete("nodes e", known) == "nodes evil-pool"
    assert complete("nodes e", lambda kind: [hostile]) is None
    assert complete("nodes e", lambda kind: ["e\u202ex"]) is None
