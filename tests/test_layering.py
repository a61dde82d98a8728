"""Tests the layering rule: the headless layers import without Textual or Rich."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS = [
    "batch_tui.batch.models",
    "batch_tui.batch.client",
    "batch_tui.batch.auth",
    "batch_tui.batch.cache",
    "batch_tui.batch.errors",
    "batch_tui.config",
    "batch_tui.paths",
    "batch_tui.emulator",
    "batch_tui.emulator.app",
    "batch_tui.emulator.engine",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_does_not_load_textual(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')"
        " or m.startswith('batch_tui.ui'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} loads {result.stdout.strip()}"


def test_emulator_does_not_import_the_client() -> None:
    code = (
        "import sys, batch_tui.emulator.app, batch_tui.emulator.engine\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('batch_tui.batch'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
