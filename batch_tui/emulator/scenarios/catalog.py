"""Provides the scenarios by name: what `--scenario` seeds, and what runs while it is served."""

from __future__ import annotations

from batch_tui.emulator.ops.emulator import Director, Seed
from batch_tui.emulator.scenarios.demo import demo_director, seed_demo
from batch_tui.emulator.scenarios.large import seed_large_scenario, seed_million_scenario

SCENARIOS = ("empty", "demo", "large", "large-1m")
"""The names `--scenario` accepts."""


_SEEDERS: dict[str, tuple[Seed | None, Director | None]] = {
    "empty": (None, None),
    "demo": (seed_demo, demo_director),
    "large": (seed_large_scenario, None),
    "large-1m": (seed_million_scenario, None),
}


def scenario(name: str) -> tuple[Seed | None, Director | None]:
    """Returns the seeding function and the background director of a scenario.

    Raises:
        ValueError: For an unknown scenario name.
    """
    try:
        return _SEEDERS[name]
    except KeyError:
        raise ValueError(
            f"unknown scenario {name!r}; expected one of {', '.join(_SEEDERS)}"
        ) from None
