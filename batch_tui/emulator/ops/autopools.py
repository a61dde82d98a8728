"""Provides the creation of auto pools: the pool a job or job schedule makes from its
`autoPoolSpecification` (their lifetime is watched by `periodic.autopools`)."""

from __future__ import annotations

import uuid
from typing import Any

from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.pools import add_pool
from batch_tui.emulator.state.store import Record


def create_auto_pool(emu: Emulator, spec: dict[str, Any], owner: str, owner_id: str) -> Record:
    """Creates the auto pool of a job or job schedule.

    Args:
        emu: The emulator.
        spec: The `autoPoolSpecification` (validated).
        owner: "job" or "jobschedule": what the pool lives as long as.
        owner_id: The id of that job or schedule.

    Returns:
        The new pool.

    Raises:
        ServiceError: 400 when the pool spec is not a valid pool.
    """
    prefix = spec.get("autoPoolIdPrefix", "")
    pool_id = f"{prefix}_{uuid.uuid4()}" if prefix else str(uuid.uuid4())
    pool = add_pool(emu, {**spec.get("pool", {}), "id": pool_id})
    pool.internal["autoPool"] = {
        "owner": owner,
        "ownerKey": owner_id.lower(),
        "keepAlive": bool(spec.get("keepAlive", False)),
    }
    emu.periodic.auto_pools.watch(pool)
    return pool
