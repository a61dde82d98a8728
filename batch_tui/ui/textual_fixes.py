"""Works around Textual bugs that matter to a long-running explorer, until releases fix them.

Each fix checks that the code it replaces is still the buggy one, so a Textual release that
fixes the bug (or reworks the code) makes it a no-op rather than a conflict.

- `StylesCache.get_inner_outer` is an `lru_cache(1024)` on an instance method
  (Textualize/textual#6665): the cache's keys hold the last 1,024 widgets' `StylesCache`, with
  every strip they cached, long after the widgets are gone. Each screen an explorer opens and
  closes adds its widgets' caches: tens of megabytes, and ~30,000 objects a tour of the screens
  that every full garbage collection then visits (a pause the user feels). The colours are the
  whole key, so the fix caches on them alone.
"""

from __future__ import annotations

from functools import lru_cache

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style


@lru_cache(1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    """What `StylesCache.get_inner_outer` computes, keyed by the colours only."""
    return Style(background=base_background + background), Style(background=base_background)


def _get_inner_outer(
    self: StylesCache, base_background: Color, background: Color
) -> tuple[Style, Style]:
    return _inner_outer(base_background, background)


def apply() -> None:
    """Applies the fixes whose bug is still present; safe to call more than once."""
    cache_clear = getattr(StylesCache.__dict__.get("get_inner_outer"), "cache_clear", None)
    if cache_clear is not None:  # still the per-instance lru_cache
        cache_clear()
        setattr(StylesCache, "get_inner_outer", _get_inner_outer)  # noqa: B010 - typed as the cache
