"""The hardening tests' variant of the UI fixtures: requests pass a fault injector, and the
client retries as the real policy does, with short waits.

The chain of a request here is

    client -> BreakableTransport -> ASGITransport -> FaultInjector -> Recorder -> emulator

so the recorder sits inside the injector: it sees only requests the emulator really handled,
including those whose response the injector then cut (which a client must not replay). The
fixtures themselves are shared (`tests/fixtures/ui.py`, `tests/fixtures/hardening.py`).
"""

from __future__ import annotations

import pytest

from batch_tui.batch.retry import RetryPolicy
from batch_tui.emulator.http.faults import FaultInjector
from tests.hardening.support import fast_retry


@pytest.fixture
def served_app(injector: FaultInjector) -> FaultInjector:
    """The client's requests go through the fault injector (no faults until a plan is set)."""
    return injector


@pytest.fixture
def retry_policy() -> RetryPolicy:
    """Retries as the real policy does, so that faults are recovered from as in use."""
    return fast_retry()
