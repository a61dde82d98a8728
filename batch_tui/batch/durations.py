"""What the Batch service's ISO-8601 durations decode to, and its "unlimited" duration.

The service writes durations with .NET's ``XmlConvert``: days, hours, minutes and seconds
with up to 7 fractional digits (``PT1H``, ``P1D``, ``P10675199DT2H48M5.4775807S``), and it
accepts padded forms such as ``PT01H00M00S``. msgspec parses all of these into
``datetime.timedelta`` natively (rounding the 7th fractional digit half up to
microseconds), so model fields are plain ``timedelta | None`` and no decode hook is needed;
``tests/batch/test_model_decoding.py`` checks that over the whole space of the service's forms.
"""

from __future__ import annotations

from datetime import timedelta

UNLIMITED: timedelta = timedelta(days=10675199, hours=2, minutes=48, seconds=5, microseconds=477581)
"""``P10675199DT2H48M5.4775807S`` (.NET ``TimeSpan.MaxValue``) as it decodes.

The service sends it to mean "no limit", e.g. for a job's default ``maxWallClockTime``.
The 7th fractional digit rounds up, hence ``477581`` microseconds."""

_UNLIMITED_FLOOR = timedelta(days=10675199)
"""Any duration this long (29,000 years) is the service's "unlimited", whatever the rounding."""


def is_unlimited(duration: timedelta | None) -> bool:
    """Tell whether a decoded duration is the service's "unlimited" value.

    Args:
        duration: A decoded duration field; ``None`` means the field was absent.

    Returns:
        True for ``TimeSpan.MaxValue`` (or anything at least as long as its whole days).
        False for ``None``: what an absent field means depends on the field (no limit for
        ``maxWallClockTime``, 7 days for ``retentionTime``), so the caller decides.
    """
    return duration is not None and duration >= _UNLIMITED_FLOOR
