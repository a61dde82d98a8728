"""Fixtures of the file viewer tests: an emulator whose tasks really run, and its one node.

Import them into a test module (`from tests.ui.viewer_fixtures import emulator, node`).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.jobs_fixtures import local_emulator


@pytest.fixture
async def emulator(tmp_path, clock):
    """The emulator with the local executor (task files are real files on its node)."""
    async with local_emulator(tmp_path, clock) as emu:
        yield emu


@pytest.fixture
async def node(seed_pool: Any) -> str:
    """The one node of pool-a."""
    nodes = await seed_pool("pool-a", 1)
    return str(nodes[0])
