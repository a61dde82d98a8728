"""Tests the layering rule: the headless layers never import Textual, Rich or the UI.

Importing them in a fresh interpreter must not load Textual or `batch_tui.ui`. Rich cannot be
checked that way: httpx itself imports Rich for its command-line entry point whenever Rich and
Click are installed (they are, with Textual). So Rich is checked in the source instead.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

HEADLESS = [
    "batch_tui.batch",
    "batch_tui.batch.models",
    "batch_tui.batch.client",
    "batch_tui.batch.auth",
    "batch_tui.batch.cache",
    "batch_tui.batch.errors",
    "batch_tui.config",
    "batch_tui.paths",
    "batch_tui.emulator",
    "batch_tui.emulator.http.app",
    "batch_tui.emulator.engine.engine",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_does_not_load_textual(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual'"
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
        "import sys, batch_tui.emulator.http.app, batch_tui.emulator.engine.engine\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('batch_tui.batch'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


HEADLESS_SOURCES = ["batch", "emulator", "config.py", "paths.py", "accounts.py"]


def test_headless_sources_do_not_import_rich_or_textual() -> None:
    package = Path(__file__).resolve().parents[1] / "batch_tui"
    files = [
        file
        for name in HEADLESS_SOURCES
        for file in ([package / name] if name.endswith(".py") else (package / name).rglob("*.py"))
    ]
    assert len(files) > 10
    offenders = []
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in ("rich", "textual") or name.startswith("batch_tui.ui"):
                    offenders.append(f"{file.name}: {name}")
    assert offenders == []
