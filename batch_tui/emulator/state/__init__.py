"""Provides the emulator's state: the store of every entity (`store`), kept in SQLite with
`--data-dir`.

`Persistence` (in `persistence`) keeps a store in `<data_dir>/state/emulator.db`; `StateError`
stops a start on a damaged or foreign state, with a one-line message; `SaveFailed` fails a write
that could not be saved. This module imports nothing heavy: the command line imports it to
catch `StateError` without loading the emulator.
"""

from __future__ import annotations

from batch_tui.emulator.state.errors import SaveFailed, StateError

__all__ = ["SaveFailed", "StateError"]
