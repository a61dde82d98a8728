"""Provides pool scaling without HTTP: resize, the checks made before the allocation state
changes, and autoscale's evaluation applied (`rescale`), as the service does on a resize."""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.base.errors import conflict
from batch_tui.emulator.base.times import iso, parse_duration
from batch_tui.emulator.ops import autoscale
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.entities import get_pool
from batch_tui.emulator.state.store import Record
from batch_tui.emulator.validation.checks import invalid_value, validate

MIN_RESIZE_SECONDS = 5 * 60
"""The service refuses resize timeouts under 5 minutes (spec)."""


TICKS = 10_000_000
"""Ticks (100 ns) per second, the unit of `parse_duration`."""


def check_resize_timeout(body: dict[str, Any]) -> None:
    timeout = body.get("resizeTimeout")
    if timeout and parse_duration(timeout) < MIN_RESIZE_SECONDS * TICKS:
        raise invalid_value("resizeTimeout", timeout, "The minimum value is 5 minutes.")


def writable(pool: Record) -> None:
    if pool.data.get("state") == "deleting":
        raise conflict("PoolBeingDeleted", "The specified pool has been marked for deletion.")


def require_steady(pool: Record) -> None:
    writable(pool)
    if pool.data.get("allocationState") != "steady":
        raise conflict(
            "PoolBeingResized", "The specified pool is being resized; wait until it is steady."
        )


def check_interval(interval: str | None) -> None:
    """Refuses an `autoScaleEvaluationInterval` outside 5 minutes to 168 hours (400)."""
    if interval is None:
        return
    seconds = parse_duration(interval) / TICKS
    if not autoscale.MIN_INTERVAL_SECONDS <= seconds <= autoscale.MAX_INTERVAL_SECONDS:
        raise invalid_value(
            "autoScaleEvaluationInterval",
            interval,
            "The interval must be between 5 minutes and 168 hours.",
        )


def apply_autoscale(emu: Emulator, pool: Record) -> None:
    """Evaluates a new pool's formula, takes its targets and starts its periodic evaluation.

    Raises:
        ServiceError: 400 for a formula that does not parse or an interval out of range.
    """
    check_interval(pool.data.get("autoScaleEvaluationInterval"))
    evaluation = autoscale.evaluate(emu, pool, pool.data["autoScaleFormula"])
    pool.data["autoScaleRun"] = evaluation.run
    if evaluation.dedicated is not None and evaluation.low_priority is not None:
        pool.data["targetDedicatedNodes"] = evaluation.dedicated
        pool.data["targetLowPriorityNodes"] = evaluation.low_priority
    emu.periodic.autoscaler.watch(pool)


def rescale(emu: Emulator, pool: Record, evaluation: autoscale.Evaluation) -> None:
    """Applies an evaluation to a live pool: records the run and, when the targets move,
    resizes the pool through the same path as a resize request."""
    pool.data["autoScaleRun"] = evaluation.run
    # A pool that is stopping a resize settles at once; the next evaluation takes it from there.
    stopping = pool.data.get("allocationState") == "stopping"
    if autoscale.targets_changed(evaluation, pool.data) and not stopping:
        pool.data["targetDedicatedNodes"] = evaluation.dedicated
        pool.data["targetLowPriorityNodes"] = evaluation.low_priority
        begin_resize(emu, pool)
        emu.engine.pool_resized(pool, evaluation.option)
    emu.store.touch(pool)


def resize_pool(
    emu: Emulator, pool_id: str, body: dict[str, Any], *, api_version: str | None = None
) -> Record:
    """Validates a PoolResizeParameter, sets the new targets and starts the resize.

    Args:
        emu: The emulator.
        pool_id: The pool to resize.
        body: The JSON body (not yet validated; the CLI sends its numbers as strings).
        api_version: The request's api-version, whose schema checks the body (None: any).

    Raises:
        ServiceError: 404 PoolNotFound, 400 for a bad body, 409 when the pool is not steady,
            is being deleted or scales automatically.
    """
    pool = get_pool(emu, pool_id)
    body = validate(body, "PoolResizeParameter", version=api_version)
    check_resize_timeout(body)
    require_steady(pool)
    if pool.data.get("enableAutoScale"):
        raise conflict("AutoScalingEnabled", "The pool has automatic scaling enabled.")
    for name in ("targetDedicatedNodes", "targetLowPriorityNodes", "resizeTimeout"):
        if name in body:
            pool.data[name] = body[name]
    begin_resize(emu, pool)
    emu.engine.pool_resized(pool, body.get("nodeDeallocationOption", "requeue"))
    return pool


def begin_resize(emu: Emulator, pool: Record) -> None:
    pool.data["allocationState"] = "resizing"
    pool.data["allocationStateTransitionTime"] = iso(emu.clock.now())
    pool.data.pop("resizeErrors", None)
    emu.store.touch(pool)
