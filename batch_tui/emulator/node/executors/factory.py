"""Provides the executor a setting names: `local` runs real processes, `simulated` makes up
their results."""

from __future__ import annotations

from pathlib import Path

from batch_tui.emulator.base.clock import Clock
from batch_tui.emulator.node.executors import CallLater, Executor
from batch_tui.emulator.node.executors.local import LocalExecutor
from batch_tui.emulator.node.executors.simulated import SimulatedExecutor


def make_executor(
    kind: str,
    *,
    data_dir: Path,
    clock: Clock,
    call_later: CallLater,
    simulated_seconds: float,
) -> Executor:
    """Returns the executor named by `kind` (`local` or `simulated`).

    Args:
        kind: The settings' executor name.
        data_dir: Where `local` keeps node directories (`<data_dir>/nodes/<nodeId>`).
        clock: The emulator clock (virtual file times, simulated durations).
        call_later: `call_later(delay, fn) -> cancel()` from the engine's timers.
        simulated_seconds: The mean duration of a simulated task.
    """
    if kind == "local":
        return LocalExecutor(data_dir)
    if kind == "simulated":
        return SimulatedExecutor(clock, call_later, simulated_seconds)
    raise ValueError(f"unknown executor {kind!r}: expected 'local' or 'simulated'")
