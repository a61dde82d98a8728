"""Tests that text from the service cannot drive the terminal."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from textual.content import Content

from batch_tui.ui.sanitize import MAX_LINE_CHARS, safe_markup, sanitize_bytes, sanitize_text

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


@given(HOSTILE_TEXT)
def test_safe_markup_renders_the_sanitized_text_literally(text: str) -> None:
    content = Content.from_markup(f"[b]{safe_markup(text)}[/b]")
    assert content.plain.removesuffix("\u200b") == sanitize_text(text)


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


def test_safe_markup_escapes_every_tag_and_variable() -> None:
    for text in ["[red]pool", "[$error]x", "[@click=app.quit]q[/]", "a\\[b]", "end\\"]:
        content = Content.from_markup(f"{safe_markup(text)}[b]tail[/b]")
        assert content.plain.replace("\u200b", "") == text + "tail"
        assert [span.style for span in content.spans] == ["b"]
