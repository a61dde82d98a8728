"""Tests failure signatures: the last line of a stderr tail and its normalisation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from batch_tui.ui.failure_signatures import (
    MAX_LINE,
    Signature,
    last_line,
    normalise,
    stderr_signature,
)


def test_runs_of_one_failure_with_other_numbers_are_one_line() -> None:
    three = normalise("error: out of memory while rendering tile 3 (needed 18.2 GiB)")
    seven = normalise("error: out of memory while rendering tile 7 (needed 17.9 GiB)")
    assert three == seven == "error: out of memory while rendering tile <n> (needed <n> GiB)"


def test_paths_hex_timestamps_and_ids_become_placeholders() -> None:
    assert normalise("FileNotFoundError: No such file: '/mnt/batch/shared/in/part-00017.csv'") == (
        "FileNotFoundError: No such file: '<path>'"
    )
    assert normalise("Segmentation fault at 0x7ffd5e2a1b30") == "Segmentation fault at <hex>"
    assert normalise("2024-05-01T12:03:04.123Z FATAL license") == "<time> FATAL license"
    assert normalise("at 12:03:04 timed out") == "at <time> timed out"
    assert normalise("job 6f1c2b9e-1234-4abc-9def-0123456789ab gone") == "job <id> gone"
    assert normalise(r"C:\data\in.csv missing") == "<path> missing"
    assert normalise("commit 3f2a9c1d4e5b failed") == "commit <hex> failed"


def test_words_and_single_slashes_stay() -> None:
    assert normalise("Killed") == "Killed"
    assert normalise("read and/or write   failed") == "read and/or write failed"
    assert normalise("pass 3/8") == "pass <n>/<n>"


def test_different_failures_stay_apart() -> None:
    assert normalise("error: out of memory") != normalise("error: out of disk")


def test_last_line_skips_blank_lines_and_cut_bytes() -> None:
    assert last_line(b"first\nsecond\n\n  \n") == "second"
    assert last_line(b"\xe2\x82only a cut start\nthe end\r\n") == "the end"
    assert last_line(b"") == "" and last_line(b"\n \n") == ""
    assert stderr_signature(b"\n") == ("empty", "")
    assert stderr_signature(b"x 12\n") == ("line", "x <n>")


def test_a_signature_knows_its_stderr_and_text() -> None:
    pending = Signature(137, "usererror", "FailureExitCode")
    assert pending.text == "reading stderr…"
    read = pending.with_stderr("line", "Killed")
    assert read.text == "Killed" and read.key != pending.key
    assert pending.with_stderr("missing").text == "no stderr"


@given(st.text(max_size=400))
def test_normalising_is_idempotent_and_bounded(line: str) -> None:
    once = normalise(line)
    assert len(once) <= MAX_LINE
    assert normalise(once) == once or len(once) == MAX_LINE


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_numbers_never_split_a_signature(first: int, second: int) -> None:
    assert normalise(f"tile {first} needed {first}.5 GiB") == normalise(
        f"tile {second} needed {second}.5 GiB"
    )


@given(st.binary(max_size=600))
def test_any_tail_gives_one_line_without_line_breaks(tail: bytes) -> None:
    line = last_line(tail)
    assert "\n" not in line and "\r" not in line
    assert line == line.strip()
