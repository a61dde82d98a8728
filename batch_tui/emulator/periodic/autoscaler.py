"""Provides the autoscaler: samples and periodic formula evaluation of autoscale pools.

Each pool with `enableAutoScale` is watched from the moment autoscale is turned on (pool add or
`enableautoscale`): every `SAMPLE_PERIOD` of emulator time its metrics are sampled, and every
`autoScaleEvaluationInterval` its formula is evaluated and applied (`rescale`), the schedule
restarting at each enable as the service's does. Work per step is proportional to the watched
pools. `enableautoscale` may be called at most once every 30 seconds per pool (the service's
TooManyEnableAutoScaleRequests).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.times import duration_seconds
from batch_tui.emulator.ops import autoscale
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.metrics import SAMPLE_PERIOD, History, measure
from batch_tui.emulator.ops.scaling import rescale
from batch_tui.emulator.state.store import Record

log = logging.getLogger("batch_tui.emulator.periodic.autoscaler")

ENABLE_SPACING = timedelta(seconds=30)
"""Enable AutoScale requests for the same pool must be at least 30 seconds apart (service)."""
_SAMPLE_STEP = timedelta(seconds=SAMPLE_PERIOD)


@dataclass
class _Watch:
    next_sample: datetime
    next_evaluation: datetime
    history: History = field(default_factory=History)


class Autoscaler:
    """Samples and evaluates the pools that scale automatically.

    Args:
        emu: The emulator whose pools it watches.
    """

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self._watched: dict[str, _Watch] = {}
        self._enabled_at: dict[str, datetime] = {}

    def watch(self, pool: Record) -> None:
        """Starts (or restarts) the pool's evaluation schedule now; its samples are kept."""
        key = pool.id.lower()
        now = self.emu.clock.now()
        old = self._watched.get(key)
        watch = _Watch(now + _SAMPLE_STEP, now + _interval(pool))
        if old is not None:
            watch.next_sample, watch.history = old.next_sample, old.history
        self._watched[key] = watch

    def forget(self, pool_id: str) -> None:
        """Stops watching a pool (autoscale disabled); its samples go."""
        self._watched.pop(pool_id.lower(), None)

    def history(self, pool_id: str) -> History | None:
        """The pool's samples, or None when it is not watched."""
        watch = self._watched.get(pool_id.lower())
        return watch.history if watch is not None else None

    def enabled(self, pool_id: str) -> None:
        """Records an `enableautoscale` call.

        Raises:
            ServiceError: 503 TooManyEnableAutoScaleRequests within 30 seconds of the last one.
        """
        key = pool_id.lower()
        now = self.emu.clock.now()
        last = self._enabled_at.get(key)
        if last is not None and now - last < ENABLE_SPACING:
            raise ServiceError(
                503,
                "TooManyEnableAutoScaleRequests",
                "Too many Enable Pool AutoScale requests are issued on the pool.",
            )
        self._enabled_at[key] = now

    def next_due(self) -> datetime | None:
        """When the next sample or evaluation is due, or None when nothing is watched."""
        times = [min(w.next_sample, w.next_evaluation) for w in self._watched.values()]
        return min(times, default=None)

    def tick(self) -> None:
        """Takes the samples and runs the evaluations that are due."""
        now = self.emu.clock.now()
        for key, watch in list(self._watched.items()):
            pool = self.emu.store.pools.get(key)
            if pool is None or not _scaling(pool):
                self._watched.pop(key, None)
                continue
            if now >= watch.next_sample:
                sample = measure(self.emu.engine.ctx, pool, watch.history.last_time())
                watch.history.add(now, sample)
                watch.next_sample = now + _SAMPLE_STEP
            if now >= watch.next_evaluation:
                watch.next_evaluation = now + _interval(pool)
                self._evaluate(pool, watch)

    def _evaluate(self, pool: Record, watch: _Watch) -> None:
        formula = str(pool.data.get("autoScaleFormula") or "")
        try:
            evaluation = autoscale.evaluate(self.emu, pool, formula, watch.history)
        except ServiceError:
            # The formula was checked when it was set; a pool edited behind the routes' back
            # must not stop the other pools' evaluations.
            log.warning("autoscale: the formula of pool %s does not parse", pool.id)
            return
        rescale(self.emu, pool, evaluation)


def _scaling(pool: Record) -> bool:
    """Whether a pool still scales automatically (not turned off, not being deleted)."""
    return bool(pool.data.get("enableAutoScale")) and pool.data.get("state") != "deleting"


def _interval(pool: Record) -> timedelta:
    text = pool.data.get("autoScaleEvaluationInterval") or autoscale.DEFAULT_INTERVAL
    return timedelta(seconds=duration_seconds(text) or 15 * 60.0)
