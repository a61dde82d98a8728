"""Provides auto pools: pools the service makes for a job or a job schedule, and their lifetime.

An `autoPoolSpecification` in a job's (or a schedule's job specification's) `poolInfo` makes a
real pool from its `pool` spec, named `<autoPoolIdPrefix>_<guid>` (or just the guid). With
`poolLifetimeOption` `job` the pool belongs to one job and is deleted once that job completes
(or is deleted); with `jobschedule` it is made with the schedule's first job, shared by its
jobs, and deleted once the schedule completes (or is deleted). `keepAlive` keeps it: deleting it
is then up to the user. `AutoPools.tick` checks the owners of the live auto pools only.
"""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.engine.runtime import set_state
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.state.store import Record

_ENDED = ("completed",)
"""Owner states that end an auto pool's lifetime (a deleted owner ends it too)."""


class AutoPools:
    """Deletes auto pools whose owner has completed or gone (unless they are kept alive)."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self._pools: dict[str, None] = {}

    def watch(self, pool: Record) -> None:
        self._pools[pool.id.lower()] = None

    def rebuild(self) -> None:
        """Finds the auto pools in the store (after state was loaded)."""
        for key, pool in self.emu.store.pools.items():
            if pool.internal.get("autoPool"):
                self._pools[key] = None

    def tick(self) -> None:
        for key in list(self._pools):
            pool = self.emu.store.pools.get(key)
            link = pool.internal.get("autoPool") if pool is not None else None
            if pool is None or not link or pool.data.get("state") == "deleting":
                self._pools.pop(key, None)
            elif self._owner_ended(link):
                self._pools.pop(key, None)
                if not link.get("keepAlive"):
                    set_state(self.emu.engine.ctx, pool, "deleting")
                    self.emu.engine.ctx.touch(pool)
                    self.emu.engine.pool_deleted(pool)

    def _owner_ended(self, link: dict[str, Any]) -> bool:
        store = self.emu.store
        table = store.jobs if link.get("owner") == "job" else store.job_schedules
        owner = table.get(str(link.get("ownerKey")))
        return owner is None or owner.data.get("state") in _ENDED
