"""Provides the local Azure Batch emulator: `build_emulator` builds one, `create_app` serves it.

The package is laid out in layers, each importing only those below it (import-linter checks
it in CI): `http` > `routes` > `scenarios` > `periodic` > `ops` > `engine` > `node` > `state` >
`base`, with `query`, `validation` and `autoscale` as leaves beside them. `build.py` assembles
them. The names below are loaded on first use, so importing one subpackage does not load all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batch_tui.emulator.base.clock import Clock, ManualClock
    from batch_tui.emulator.base.settings import EmulatorSettings, Timings
    from batch_tui.emulator.build import build_emulator
    from batch_tui.emulator.http.app import create_app, create_served_app
    from batch_tui.emulator.http.background import BackgroundEmulator
    from batch_tui.emulator.ops.emulator import Emulator

_LAZY = {
    "BackgroundEmulator": "batch_tui.emulator.http.background",
    "Clock": "batch_tui.emulator.base.clock",
    "Emulator": "batch_tui.emulator.ops.emulator",
    "EmulatorSettings": "batch_tui.emulator.base.settings",
    "ManualClock": "batch_tui.emulator.base.clock",
    "Timings": "batch_tui.emulator.base.settings",
    "build_emulator": "batch_tui.emulator.build",
    "create_app": "batch_tui.emulator.http.app",
    "create_served_app": "batch_tui.emulator.http.app",
}

__all__ = [
    "BackgroundEmulator",
    "Clock",
    "Emulator",
    "EmulatorSettings",
    "ManualClock",
    "Timings",
    "build_emulator",
    "create_app",
    "create_served_app",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
