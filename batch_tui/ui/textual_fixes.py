"""Works around Textual bugs that matter to a long-running explorer, until releases fix them.

Each fix checks that the code it replaces is still the buggy one, so a Textual release that
fixes the bug (or reworks the code) makes it a no-op rather than a conflict.

- `StylesCache.get_inner_outer` is an `lru_cache(1024)` on an instance method
  (Textualize/textual#6665): the cache's keys hold the last 1,024 widgets' `StylesCache`, with
  every strip they cached, long after the widgets are gone. Each screen an explorer opens and
  closes adds its widgets' caches: tens of megabytes, and ~30,000 objects a tour of the screens
  that every full garbage collection then visits (a pause the user feels). The colours are the
  whole key, so the fix caches on them alone.
- `OptionList._move_page` reads `_index_to_line`, which is filled when the list is laid out:
  `ctrl+p` then `pagedown` in one burst (a paste, a laggy link) reached it before the command
  palette's list had been laid out, and the app ended with `KeyError: 0`. The fix lays the
  lines out first, as `scroll_to_highlight` does, and moves nowhere if there are still none.
"""

from __future__ import annotations

from functools import lru_cache

from textual import _widget_navigation
from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style
from textual.widgets import OptionList


@lru_cache(1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    """What `StylesCache.get_inner_outer` computes, keyed by the colours only."""
    return Style(background=base_background + background), Style(background=base_background)


def _get_inner_outer(
    self: StylesCache, base_background: Color, background: Color
) -> tuple[Style, Style]:
    return _inner_outer(base_background, background)


_textual_move_page = OptionList._move_page


def _move_page(self: OptionList, direction: _widget_navigation.Direction) -> None:
    """`OptionList._move_page`, safe before the list is laid out."""
    if self.is_mounted:
        self._update_lines()
    if (self.highlighted or 0) not in self._index_to_line:
        return
    _textual_move_page(self, direction)


def apply() -> None:
    """Applies the fixes whose bug is still present; safe to call more than once."""
    cache_clear = getattr(StylesCache.__dict__.get("get_inner_outer"), "cache_clear", None)
    if cache_clear is not None:  # still the per-instance lru_cache
        cache_clear()
        setattr(StylesCache, "get_inner_outer", _get_inner_outer)  # noqa: B010 - typed as the cache
    if OptionList._move_page is _textual_move_page:  # a guard only: harmless once fixed
        OptionList._move_page = _move_page  # type: ignore[method-assign]
