"""Tests the pure formatting of times, sizes, states and bars."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from rich.cells import cell_len

from batch_tui.ui.formatting import (
    format_age,
    format_bytes,
    format_duration,
    format_time,
    node_state_glyph,
    progress_bar,
    state_style,
    truncate,
)

NOW = datetime(2024, 10, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=45.9), "45s"),
        (timedelta(minutes=3, seconds=12), "3m12s"),
        (timedelta(minutes=3), "3m"),
        (timedelta(hours=2, minutes=5, seconds=59), "2h5m"),
        (timedelta(days=4, hours=3), "4d3h"),
        (timedelta(days=400, hours=3), "400d"),
        (timedelta(seconds=-3), "-3s"),
        (None, "-"),
    ],
)
def test_format_duration(duration: timedelta | None, expected: str) -> None:
    assert format_duration(duration) == expected


def test_dotnet_max_timespan_is_unlimited() -> None:
    # P10675199DT2H48M5.4775807S, the service's "no limit" (e.g. maxWallClockTime).
    dotnet_max = timedelta(days=10675199, hours=2, minutes=48, seconds=5, microseconds=477580)
    assert format_duration(dotnet_max) == "unlimited"
    assert format_duration(timedelta(days=10675198)) != "unlimited"


def test_format_age() -> None:
    assert format_age(NOW - timedelta(minutes=3, seconds=12), NOW) == "3m12s"
    assert format_age(NOW + timedelta(seconds=5), NOW) == "0s"  # clock skew
    assert format_age(None, NOW) == "-"


def test_format_age_across_time_zones() -> None:
    plus_two = timezone(timedelta(hours=2))
    moment = datetime(2024, 10, 1, 13, 0, 0, tzinfo=plus_two)  # 11:00 UTC
    assert format_age(moment, NOW) == "1h"
    assert format_age(datetime(2024, 10, 1, 11, 30), NOW) == "30m"  # naive means now's zone


def test_format_time_depends_on_distance_from_now() -> None:
    assert format_time(NOW - timedelta(hours=1, seconds=3), NOW) == "10:59:57"
    assert format_time(datetime(2024, 3, 4, 14, 3, tzinfo=timezone.utc), NOW) == "Mar 04 14:03"
    assert format_time(datetime(2023, 3, 4, 14, 3, tzinfo=timezone.utc), NOW) == "2023-03-04"
    assert format_time(None, NOW) == "-"


def test_format_time_shows_now_zone() -> None:
    local_now = NOW.astimezone(timezone(timedelta(hours=-5)))
    assert format_time(NOW - timedelta(minutes=1), local_now) == "06:59:00"


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (10 * 1024 * 1024, "10 MiB"),
        (int(1.2 * 1024**3), "1.2 GiB"),
        (5 * 10**9, "4.7 GiB"),
        (3 * 1024**5, "3.0 PiB"),
        (None, "-"),
    ],
)
def test_format_bytes(size: int | None, expected: str) -> None:
    assert format_bytes(size) == expected


def test_failures_are_red_in_every_kind() -> None:
    assert state_style("node", "starttaskfailed") == "ansi_red"
    assert state_style("node", "Unusable") == "ansi_red"
    assert state_style("task", "completed", failed=True) == "ansi_red"
    assert state_style("job", "active", failed=True) == "ansi_red"


def test_states_have_distinct_ansi_styles() -> None:
    assert state_style("node", "running") == "ansi_green"
    assert state_style("node", "idle") != state_style("node", "running")
    assert state_style("task", "completed") == "ansi_bright_black"
    assert state_style("pool", "resizing") == "ansi_yellow"


def test_unknown_states_and_kinds_get_a_neutral_style() -> None:
    assert state_style("node", "someday-new-state") == "ansi_white"
    assert state_style("galaxy", "running") == "ansi_white"
    assert state_style("task", None) == "ansi_white"


def test_node_glyphs_tell_states_apart_without_colour() -> None:
    assert node_state_glyph("running") != node_state_glyph("idle")
    assert node_state_glyph("starttaskfailed") == "✖"
    assert node_state_glyph("rebooting") == "◐"


@pytest.mark.parametrize(
    ("done", "total", "expected"),
    [
        (0, 10, "          "),
        (10, 10, "██████████"),
        (5, 10, "█████     "),
        (1, 16, "▋         "),
        (20, 10, "██████████"),
        (3, 0, "          "),
    ],
)
def test_progress_bar(done: int, total: int, expected: str) -> None:
    assert progress_bar(done, total, 10) == expected
    assert len(progress_bar(done, total, 10)) == 10


def test_truncate_counts_cells() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("exactly10!", 10) == "exactly10!"
    assert truncate("a long pool name", 8) == "a long…"
    assert cell_len(truncate("日本語のプール", 6)) <= 6
    assert truncate("anything", 0) == ""
