"""Provides pure formatting of times, sizes, states and bars for the UI (no Textual)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final, Literal

from rich.cells import cell_len, set_cell_size

UNLIMITED: Final = timedelta(days=10675199)
"""Durations at least this long mean "unlimited".

The service sends .NET `TimeSpan.MaxValue` (`P10675199DT2H48M5.4775807S`) for "no limit",
e.g. the default `constraints.maxWallClockTime`; anything within a day of it is that value
after rounding.
"""

MISSING: Final = "-"
"""Shown for a value the service did not send."""

_BYTE_UNITS: Final = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")

FAILED: Final = "ansi_red"
"""Style of every failure, whatever the entity."""

Colors = Literal["full", "16", "none"]
"""What the terminal shows: 256 or more colours, the 16 ANSI colours, or none (`NO_COLOR`)."""

NO_COLOR_FAILED: Final = "bold reverse"
"""A failure with `NO_COLOR`: reversed and bold, the most visible thing on screen (as in
lazygit and k9s), where grey levels would make red the darkest text of all."""

SIXTEEN_COLOR_STYLES: Final[Mapping[str, str]] = {
    FAILED: "$error",
    "ansi_yellow": "ansi_bright_yellow",
}
"""Replacements on a 16-colour terminal. Textual turns ANSI names into its own palette's RGB
and the terminal then shows the nearest of its 16: red would come out magenta, and yellow
(a state in transition) red. The theme's error colour comes out red."""

_DEFAULT_STYLE: Final = "ansi_white"
"""Style of a state we do not know (Azure adds states over time)."""

STATE_STYLES: Final[Mapping[str, Mapping[str, str]]] = {
    "node": {
        "running": "ansi_green",
        "idle": "ansi_cyan",
        "creating": "ansi_yellow",
        "starting": "ansi_yellow",
        "waitingforstarttask": "ansi_yellow",
        "rebooting": "ansi_yellow",
        "reimaging": "ansi_yellow",
        "upgradingos": "ansi_yellow",
        "leavingpool": "ansi_yellow",
        "deallocating": "ansi_yellow",
        "offline": "ansi_bright_black",
        "deallocated": "ansi_bright_black",
        "preempted": "ansi_magenta",
        "starttaskfailed": FAILED,
        "unusable": FAILED,
        "unknown": FAILED,
    },
    "task": {
        "active": "ansi_cyan",
        "preparing": "ansi_yellow",
        "running": "ansi_green",
        "completed": "ansi_bright_black",
    },
    "job": {
        "active": "ansi_green",
        "enabling": "ansi_yellow",
        "disabling": "ansi_yellow",
        "disabled": "ansi_bright_black",
        "terminating": "ansi_magenta",
        "deleting": "ansi_magenta",
        "completed": "ansi_bright_black",
    },
    "pool": {
        "active": "ansi_green",
        "deleting": "ansi_magenta",
        "steady": "ansi_green",
        "resizing": "ansi_yellow",
        "stopping": "ansi_yellow",
    },
    "schedule": {
        "active": "ansi_green",
        "disabled": "ansi_bright_black",
        "terminating": "ansi_magenta",
        "deleting": "ansi_magenta",
        "completed": "ansi_bright_black",
    },
    "scheduling": {"enabled": "ansi_green", "disabled": "ansi_yellow"},
}
"""Style per entity kind and lower-case state.

Only the 16 ANSI colours (Textual's `ansi_*` names): they follow the terminal's own
palette, so they stay readable on light and dark themes and on 16-colour terminals.
Green means working, cyan ready, yellow in transition, grey done or away, red failed.
"""

NODE_STATE_GLYPHS: Final[Mapping[str, str]] = {
    "running": "●",
    "idle": "○",
    "offline": "◌",
    "deallocated": "◌",
    "preempted": "◇",
    "starttaskfailed": "✖",
    "unusable": "✖",
    "unknown": "?",
}
"""Glyph per node state, so that states differ without colour too; transitions use `◐`."""

NODE_STATE_ORDER: Final = (
    "running",
    "idle",
    "creating",
    "starting",
    "waitingforstarttask",
    "rebooting",
    "reimaging",
    "upgradingos",
    "leavingpool",
    "deallocating",
    "offline",
    "deallocated",
    "preempted",
    "starttaskfailed",
    "unusable",
    "unknown",
)
"""Order of node states in legends: busy, ready, in transition, away, failed."""


def state_style(kind: str, state: str | None, *, failed: bool = False) -> str:
    """Returns the style (a Textual colour name) for an entity's state.

    Args:
        kind: "node", "task", "job", "pool" (state or allocation state), "schedule" or
            "scheduling" (a node's scheduling state).
        state: The state as the service sends it; case does not matter.
        failed: The entity failed although its state does not say so (a completed task
            with a failureInfo or a non-zero exit code): always the failure style.

    Returns:
        A style such as "ansi_red" for `Content`, `Text` styles and CSS.
    """
    if failed:
        return FAILED
    if state is None:
        return _DEFAULT_STYLE
    return STATE_STYLES.get(kind, {}).get(state.lower(), _DEFAULT_STYLE)


@lru_cache(maxsize=256)
def terminal_style(style: str, colors: Colors) -> str:
    """Returns the style to draw with on this terminal, for a style of this module.

    Args:
        style: A style string such as "ansi_red" or "bold ansi_green".
        colors: What the terminal shows. With "none" (`NO_COLOR`), colours and dim go
            (grey levels would hide what they meant) and failures turn bold and reversed;
            with "16", red and yellow are replaced by colours that stay red and yellow.

    Returns:
        The style, unchanged for "full".
    """
    if colors == "full":
        return style
    tokens = style.split()
    if colors == "16":
        return " ".join(SIXTEEN_COLOR_STYLES.get(token, token) for token in tokens)
    kept = [token for token in tokens if not token.startswith("ansi_") and token != "dim"]
    if FAILED in tokens:
        kept.append(NO_COLOR_FAILED)
    return " ".join(kept)


def node_state_glyph(state: str) -> str:
    """Returns the one-cell glyph that stands for a node state in the heatmap."""
    return NODE_STATE_GLYPHS.get(state.lower(), "◐")


def _two_units(seconds: int) -> str:
    """Formats whole seconds as the two largest units, k9s style: 3m12s, 2h5m, 4d3h."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    first, second = parts[0], parts[1] if len(parts) > 1 else (0, "")
    if days >= 100 or second[0] == 0:
        return f"{first[0]}{first[1]}"
    return f"{first[0]}{first[1]}{second[0]}{second[1]}"


def format_duration(duration: timedelta | None) -> str:
    """Formats a duration: "45s", "3m12s", "2h5m", "4d3h", "unlimited".

    Args:
        duration: The duration, or `None` when the service sent none.

    Returns:
        The text; durations under a second show as "0s", negative ones as "-3s".
    """
    if duration is None:
        return MISSING
    if duration >= UNLIMITED:
        return "unlimited"
    seconds = int(duration.total_seconds())
    if seconds < 0:
        return "-" + _two_units(-seconds)
    return _two_units(seconds)


def _aligned(moment: datetime, now: datetime) -> datetime:
    """Returns `moment` in `now`'s time zone, so that naive and aware values compare."""
    if (moment.tzinfo is None) == (now.tzinfo is None):
        return moment.astimezone(now.tzinfo) if now.tzinfo is not None else moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=now.tzinfo)
    return moment.astimezone(now.tzinfo).replace(tzinfo=None)


def format_age(moment: datetime | None, now: datetime) -> str:
    """Formats how long ago something happened: "45s", "3m12s", "4d3h".

    Args:
        moment: When it happened, or `None`.
        now: The current time (passed in, so that output is deterministic).

    Returns:
        The age; a moment in the future (clock skew) shows as "0s".
    """
    if moment is None:
        return MISSING
    age = now - _aligned(moment, now)
    return format_duration(max(age, timedelta(0)))


def format_time(moment: datetime | None, now: datetime) -> str:
    """Formats a point in time compactly, relative to `now`'s day and year.

    Args:
        moment: The time, or `None`.
        now: The current time; `moment` is shown in its time zone.

    Returns:
        "14:03:27" today, "Mar 04 14:03" this year, "2023-03-04" before.
    """
    if moment is None:
        return MISSING
    local = _aligned(moment, now)
    if local.date() == now.date():
        return local.strftime("%H:%M:%S")
    if local.year == now.year:
        return local.strftime("%b %d %H:%M")
    return local.strftime("%Y-%m-%d")


def format_bytes(size: int | None) -> str:
    """Formats a byte count with binary units: "512 B", "1.5 KiB", "1.2 GiB".

    Args:
        size: Number of bytes, or `None`.

    Returns:
        The text, with one decimal below 10 units and none above.
    """
    if size is None:
        return MISSING
    value = float(size)
    for unit in _BYTE_UNITS:
        if abs(value) < 1024 or unit == _BYTE_UNITS[-1]:
            break
        value /= 1024
    if unit == "B":
        return f"{size} B"
    if abs(value) < 9.95:
        return f"{value:.1f} {unit}"
    return f"{value:.0f} {unit}"


_PARTIAL_BLOCKS: Final = " ▏▎▍▌▋▊▉"


def progress_bar(done: int, total: int, width: int) -> str:
    """Draws a bar of exactly `width` cells, with eighth-cell precision.

    Args:
        done: Completed units (clamped to 0..total).
        total: All units; 0 draws an empty bar.
        width: Cells of the bar.

    Returns:
        Full blocks, one partial block, then spaces.
    """
    if width <= 0:
        return ""
    if total <= 0:
        return " " * width
    eighths = round(min(max(done, 0), total) * width * 8 / total)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (_PARTIAL_BLOCKS[part] if part else "")
    return bar + " " * (width - len(bar))


def truncate(text: str, width: int) -> str:
    """Cuts text to at most `width` terminal cells, ending with "…" when cut.

    Args:
        text: The text; wide (CJK) characters count two cells.
        width: The most cells the result may take.

    Returns:
        The text, unchanged if it fits.
    """
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1).rstrip() + "…"


def cut_middle(text: str, width: int) -> str:
    """Cuts text in its middle to at most `width` cells, keeping more of its end.

    Batch ids share long prefixes (`tvmps_02d8f…` node ids, `task-000…` task ids): the
    part that tells two ids apart is near the end, so two cut ids differ where the ids do.

    Args:
        text: The text (one cell per character; wider text is cut at its end instead).
        width: The most cells the result may take.

    Returns:
        The text, unchanged if it fits: "tvm…8e9f4a_d".
    """
    if len(text) <= width or width < 3 or not text.isascii():
        return truncate(text, width)
    head = (width - 1) // 3
    return f"{text[:head]}…{text[len(text) - (width - 1 - head) :]}"
