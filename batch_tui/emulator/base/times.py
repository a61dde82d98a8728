"""Provides the service's times and durations: how it writes them, and how to read them back.

One parser of each kind: `parse_iso` and `parse_duration` are strict (a request's value is
refused when they raise); `stamp` and `duration_seconds` read what the emulator stored itself,
where absent means "not set".
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

TICKS_PER_SECOND = 10_000_000
""".NET ticks (100 ns) per second: the unit of `parse_duration`."""

MAX_TICKS = 9_223_372_036_854_775_807
"""The largest duration .NET can hold (TimeSpan.MaxValue), in ticks."""

UNLIMITED = "P10675199DT2H48M5.4775807S"
"""The service's "no limit" duration (TimeSpan.MaxValue as ISO-8601)."""

_DURATION = re.compile(
    r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d+))?S)?)?"
)
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?$"
)
_SERVICE_STAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{7}Z")
"""The form `iso` writes, which every stored timestamp has."""


def iso(dt: datetime) -> str:
    """Formats a UTC timestamp the way the service does: 7 fractional digits and a `Z`.

    Several times faster than strftime: seeding the large scenario formats a few hundred
    thousand of them.
    """
    return dt.isoformat(timespec="microseconds")[:26] + "0Z"


def parse_iso(text: str) -> datetime:
    """Parses an ISO-8601 timestamp with up to 7 fractional digits, in UTC.

    The service's own form takes a fast path: a delta refresh compares `stateTransitionTime`
    on every task of a 100,000-task job.

    Raises:
        ValueError: When `text` is not such a timestamp.
    """
    if _SERVICE_STAMP.fullmatch(text):
        return datetime.fromisoformat(text[:26] + "+00:00")
    m = _ISO.match(text.strip())
    if not m:
        raise ValueError(f"not an ISO-8601 timestamp: {text!r}")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro)
    if zone in (None, "Z", "z"):
        return dt.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(dt.isoformat() + zone).astimezone(timezone.utc)


def stamp(value: object) -> datetime | None:
    """Reads a stored timestamp; None when it is absent (or not one)."""
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


def parse_duration(text: str) -> int:
    """Parses an ISO-8601 day/time duration into .NET ticks (100 ns).

    Raises:
        ValueError: When `text` is not a day/time duration.
    """
    m = _DURATION.fullmatch(text)
    if not m or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"'{text}' is not an ISO-8601 duration.")
    weeks, days, hours, minutes, seconds, frac = (g or "0" for g in m.groups())
    total = (((int(weeks) * 7 + int(days)) * 24 + int(hours)) * 60 + int(minutes)) * 60
    ticks = (total + int(seconds)) * TICKS_PER_SECOND + int(frac[:7].ljust(7, "0"))
    return min(ticks, MAX_TICKS)


def duration_seconds(value: object) -> float | None:
    """Reads a stored duration (a limit, an interval) in seconds; None when it is absent or
    unlimited, which both mean "no limit"."""
    if not isinstance(value, str) or value == UNLIMITED:
        return None
    try:
        return parse_duration(value) / TICKS_PER_SECOND
    except ValueError:
        return None


def format_duration(ticks: int) -> str:
    """Formats ticks the way the service writes durations (`PT1H`, `P1DT2M`, `PT0S`)."""
    seconds, frac = divmod(ticks, TICKS_PER_SECOND)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    out = f"P{days}D" if days else "P"
    time = f"{hour}H" if hour else ""
    time += f"{minute}M" if minute else ""
    if sec or frac:
        time += f"{sec}.{frac:07d}".rstrip("0").rstrip(".") + "S"
    if time or out == "P":
        out += "T" + (time or "0S")
    return out
