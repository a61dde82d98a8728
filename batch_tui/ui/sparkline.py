"""Provides sparklines: a series of counts drawn with block characters (▁▂▃▄▅▆▇█).

- `sparkline(values, width, top=None)`: the newest `width` values, one cell each, scaled to
  `top` (by default their maximum). Zero is the lowest block, so a line of zeros still shows;
  any count above zero is at least one step up from it, so a single bad node is never lost.
- `bucketed(values, width)`: more values than cells: each cell shows the largest of its run
  (a brief spike stays visible).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

BLOCKS: Final = "▁▂▃▄▅▆▇█"
"""The eight heights, lowest first."""


def bucketed(values: Sequence[int], width: int) -> list[int]:
    """Reduces `values` to at most `width` numbers, the largest of each run, oldest first."""
    if width <= 0:
        return []
    if len(values) <= width:
        return list(values)
    size = len(values) / width
    return [
        max(values[math.floor(index * size) : max(math.floor((index + 1) * size), 1)])
        for index in range(width)
    ]


def sparkline(values: Sequence[int], width: int, top: int | None = None) -> str:
    """Draws `values` in at most `width` cells, oldest on the left; "" with no values.

    Args:
        values: Counts, oldest first.
        width: The cells available; more values than that are bucketed (`bucketed`).
        top: The count drawn as a full block (several lines on one scale); by default the
            largest value.
    """
    cells = bucketed(values, width)
    if not cells:
        return ""
    ceiling = max(top if top is not None else 0, *cells)
    if ceiling <= 0:
        return BLOCKS[0] * len(cells)
    steps = len(BLOCKS) - 1
    return "".join(
        BLOCKS[0] if value <= 0 else BLOCKS[max(1, math.ceil(value * steps / ceiling))]
        for value in cells
    )
