"""Provides the local Azure Batch emulator: `create_app` serves it, `build_emulator` builds one."""

from __future__ import annotations

from batch_tui.emulator.app import create_app
from batch_tui.emulator.core import Emulator, build_emulator

__all__ = ["Emulator", "build_emulator", "create_app"]
