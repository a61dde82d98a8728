"""Provides a small autoscale formula evaluator.

It evaluates assignments of arithmetic over numbers, earlier variables, the pool's current
counts, `min` and `max`.

Formulas that sample metrics (`$PendingTasks.GetSample(...)`) need history the emulator does not
keep; they evaluate to an AutoScaleRun carrying an error, as the service reports a formula that
fails at run time. A formula that does not parse is a 400 `AutoScalingFormulaSyntaxError`.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from batch_tui.emulator.errors import ServiceError
from batch_tui.emulator.store import iso

MAX_FORMULA_LENGTH = 8192
"""The service's limit (`AutoScaleFormulaTooLong`: "The maximum length is 8192 characters")."""

_ALIASES = {"$TargetDedicated": "$TargetDedicatedNodes"}
_VAR = re.compile(r"\$(\w+)")
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {"min": min, "max": max}
_OPTIONS = ("requeue", "terminate", "taskcompletion", "retaineddata")


class FormulaError(Exception):
    """A formula that parses but cannot be evaluated by the emulator."""


def _syntax_error(reason: str) -> ServiceError:
    return ServiceError(
        400,
        "AutoScalingFormulaSyntaxError",
        "An automatic scaling formula has a syntax error.",
        {"Reason": reason},
    )


def _statements(formula: str) -> list[tuple[str, ast.expr]]:
    if len(formula) > MAX_FORMULA_LENGTH:
        raise ServiceError(
            400,
            "AutoScaleFormulaTooLong",
            "An automatic scaling formula is too long. The maximum length is 8192 characters.",
        )
    out: list[tuple[str, ast.expr]] = []
    for raw in re.split(r"[;\n]", formula):
        text = raw.strip()
        if not text:
            continue
        name, sep, expr = text.partition("=")
        name = _ALIASES.get(name.strip(), name.strip())
        if not sep or not re.fullmatch(r"\$?\w+", name):
            raise _syntax_error(f"'{text}' is not an assignment.")
        try:
            tree = ast.parse(_VAR.sub(r"S_\1", expr.strip()), mode="eval")
        except SyntaxError as exc:
            raise _syntax_error(f"'{text}' cannot be parsed.") from exc
        out.append((name, tree.body))
    return out


def _eval(node: ast.expr, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.Name):
        key = "$" + node.id[2:] if node.id.startswith("S_") else node.id
        if key in env:
            return env[key]
        if node.id in _OPTIONS:
            return node.id
        raise FormulaError(f"The variable '{key}' is not defined.")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand, env)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        function = _FUNCTIONS.get(node.func.id)
        if function is not None:
            return function(*(_eval(arg, env) for arg in node.args))
    raise FormulaError(f"'{ast.unparse(node)}' is not supported by the emulator.")


def _format(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def evaluate(formula: str, pool: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Evaluates a formula against a pool and returns the AutoScaleRun wire dict.

    Args:
        formula: The autoscale formula.
        pool: The pool's wire dict (for `$CurrentDedicatedNodes` and the current targets).
        now: The evaluation time.

    Raises:
        ServiceError: 400 AutoScalingFormulaSyntaxError or AutoScaleFormulaTooLong.
    """
    statements = _statements(formula)
    env: dict[str, Any] = {
        "$CurrentDedicatedNodes": pool.get("currentDedicatedNodes", 0),
        "$CurrentLowPriorityNodes": pool.get("currentLowPriorityNodes", 0),
        "$TargetDedicatedNodes": pool.get("targetDedicatedNodes", 0),
        "$TargetLowPriorityNodes": pool.get("targetLowPriorityNodes", 0),
        "$NodeDeallocationOption": "requeue",
    }
    assigned = ["$NodeDeallocationOption"]
    run: dict[str, Any] = {"timestamp": iso(now)}
    try:
        for name, expr in statements:
            env[name] = _eval(expr, env)
            if name.startswith("$") and name not in assigned:
                assigned.insert(len(assigned) - 1, name)
    except (FormulaError, TypeError, ZeroDivisionError) as exc:
        run["error"] = {"code": "FormulaEvaluationError", "message": str(exc)}
        return run
    run["results"] = ";".join(f"{name}={_format(env[name])}" for name in assigned)
    return run


def targets(run: Mapping[str, Any], pool: Mapping[str, Any]) -> tuple[int, int, str] | None:
    """Returns (dedicated, low priority, deallocation option) from a successful run's results;
    a target the formula did not assign keeps the pool's current one."""
    if "results" not in run:
        return None
    values = dict(part.split("=", 1) for part in str(run["results"]).split(";") if "=" in part)
    current = (pool.get("targetDedicatedNodes", 0), pool.get("targetLowPriorityNodes", 0))
    try:
        dedicated = int(float(values.get("$TargetDedicatedNodes", current[0])))
        low = int(float(values.get("$TargetLowPriorityNodes", current[1])))
    except ValueError:
        return None
    option = values.get("$NodeDeallocationOption", "requeue")
    return max(0, dedicated), max(0, low), option if option in _OPTIONS else "requeue"
