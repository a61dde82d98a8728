"""Provides the emulator's route table: every data-plane operation, by resource."""

from __future__ import annotations

from batch_tui.emulator.routes import (
    account,
    files,
    jobs,
    nodes,
    pools,
    scaling,
    schedules,
    tasks,
)
from batch_tui.emulator.routes.common import RouteTable

ROUTES: RouteTable = [
    *pools.ROUTES,
    *scaling.ROUTES,
    *nodes.ROUTES,
    *jobs.ROUTES,
    *schedules.ROUTES,
    *tasks.ROUTES,
    *files.ROUTES,
    *account.ROUTES,
]
"""(method, path pattern, handler); `{name}` matches one segment, `{name:path}` the rest."""
