"""The emulator tests' emulator: `CONTRACT` (`testaccount`, an engine loop that ticks on its own).

The fixtures themselves are shared (`tests/fixtures/`). Their `http` client signs with a
SharedKey signer written here from the spec (`tests/emulator/shared_key.py`), not with
`batch_tui.batch` nor the emulator's own verifier, so the emulator is checked independently.
"""

from __future__ import annotations

import pytest

from tests.emulator.support import CONTRACT, EmulatorProfile


@pytest.fixture
def emulator_profile() -> EmulatorProfile:
    """The account and timings of this folder's emulator."""
    return CONTRACT
