"""Provides autoscale formula evaluation against a pool, as the service reports it.

A formula that does not parse (or is over 8192 characters) is refused with a 400
(`AutoScalingFormulaSyntaxError`, `AutoScaleFormulaTooLong`) by enable, evaluate and pool add. A
formula that parses always evaluates to an AutoScaleRun (`evaluateautoscale` answers 200): its
`results` list `$TargetDedicatedNodes`, `$TargetLowPriorityNodes`, `$NodeDeallocationOption` and
then the user variables by name (`$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;
$NodeDeallocationOption=requeue;pending=7`, as the service's recorded runs show), and a run
that fails part way also carries `error {code, message, values: [{name: "Message", value:
"Line 1, Col 5: ..."}]}` and leaves the pool's targets as they are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from batch_tui.emulator.autoscale import evaluate as formula_eval
from batch_tui.emulator.autoscale.evaluate import TARGETS, Inputs, Outcome
from batch_tui.emulator.autoscale.formula import FormulaSyntaxError, Statement, parse
from batch_tui.emulator.autoscale.values import EvalError, Metric, Value, format_value
from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.times import iso
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.ops.metrics import (
    NODE_METRICS,
    SAMPLE_PERIOD,
    TASK_METRICS,
    UNMEASURED,
    History,
    measure,
)
from batch_tui.emulator.state.store import Record

MAX_FORMULA_LENGTH = 8192
"""The service's limit (`AutoScaleFormulaTooLong`: "The maximum length is 8192 characters")."""
MIN_INTERVAL_SECONDS = 5 * 60
MAX_INTERVAL_SECONDS = 168 * 3600
"""The bounds of `autoScaleEvaluationInterval` (5 minutes to 168 hours; 400 outside them)."""
DEFAULT_INTERVAL = "PT15M"


@dataclass(frozen=True)
class Evaluation:
    """One evaluation: the AutoScaleRun wire dict and, when it succeeded, the new targets."""

    run: dict[str, Any]
    dedicated: int | None = None
    low_priority: int | None = None
    option: str = "requeue"

    @property
    def succeeded(self) -> bool:
        return self.dedicated is not None and self.low_priority is not None


def parse_formula(formula: str) -> list[Statement]:
    """Parses and checks a formula.

    Raises:
        ServiceError: 400 AutoScaleFormulaTooLong or AutoScalingFormulaSyntaxError.
    """
    if len(formula) > MAX_FORMULA_LENGTH:
        raise ServiceError(
            400,
            "AutoScaleFormulaTooLong",
            "An automatic scaling formula is too long. The maximum length is 8192 characters.",
        )
    try:
        statements = parse(formula)
        formula_eval.check(statements)
    except FormulaSyntaxError as exc:
        raise ServiceError(
            400,
            "AutoScalingFormulaSyntaxError",
            "An automatic scaling formula has a syntax error.",
            {"Message": str(exc)},
        ) from exc
    return statements


def _inputs(emu: Emulator, pool: Record, history: History | None) -> Inputs:
    data = pool.data
    since = history.last_time() if history is not None else None
    current = measure(emu.engine.ctx, pool, since)
    variables: dict[str, Value] = {
        "$TargetDedicatedNodes": float(data.get("targetDedicatedNodes") or 0),
        "$TargetLowPriorityNodes": float(data.get("targetLowPriorityNodes") or 0),
        "$NodeDeallocationOption": "requeue",
        "$TaskSlotsPerNode": float(data.get("taskSlotsPerNode") or 1),
    }
    for name in (*TASK_METRICS, *NODE_METRICS):
        series = history.series(name) if history is not None else ()
        variables[name] = Metric(name, series, current[name])
    for name in UNMEASURED:
        variables[name] = Metric(name, (), None)
    return Inputs(emu.clock.now(), SAMPLE_PERIOD, variables)


def _results(outcome: Outcome) -> str:
    names = [*TARGETS, *sorted(outcome.assigned)]
    return ";".join(f"{name}={format_value(outcome.variables[name])}" for name in names)


def _error(error: EvalError) -> dict[str, Any]:
    line, col = error.position or (1, 1)
    detail = f"Line {line}, Col {col}: {error}"
    values = [{"name": "Message", "value": detail}]
    return {"code": error.code, "message": error.summary, "values": values}


def _target(value: Value) -> int:
    number = float(value) if isinstance(value, float) else math.nan
    if not math.isfinite(number):
        raise EvalError("The target number of nodes must be a finite double.")
    # Fractions truncate, as the reference's integer-style formulas expect; never below zero.
    return max(0, int(number))


def evaluate(
    emu: Emulator, pool: Record, formula: str, history: History | None = None
) -> Evaluation:
    """Evaluates a formula against a pool now, without changing the pool.

    Args:
        emu: The emulator (its clock, and the pool's jobs and nodes for the metrics).
        pool: The pool.
        formula: The formula text.
        history: The pool's samples (None when the emulator has not sampled it).

    Returns:
        The evaluation; its `run` is the AutoScaleRun wire dict.

    Raises:
        ServiceError: 400 for a formula that is too long or does not parse.
    """
    statements = parse_formula(formula)
    outcome = formula_eval.run(statements, _inputs(emu, pool, history))
    run: dict[str, Any] = {"timestamp": iso(emu.clock.now()), "results": _results(outcome)}
    error = outcome.error
    if error is None:
        try:
            dedicated = _target(outcome.variables["$TargetDedicatedNodes"])
            low = _target(outcome.variables["$TargetLowPriorityNodes"])
        except EvalError as exc:
            error = exc
    if error is not None:
        run["error"] = _error(error)
        return Evaluation(run)
    option = str(outcome.variables["$NodeDeallocationOption"])
    return Evaluation(run, dedicated, low, option)


def targets_changed(evaluation: Evaluation, pool: Mapping[str, Any]) -> bool:
    """Whether a successful evaluation moves the pool's targets."""
    return evaluation.succeeded and (
        evaluation.dedicated != pool.get("targetDedicatedNodes", 0)
        or evaluation.low_priority != pool.get("targetLowPriorityNodes", 0)
    )
