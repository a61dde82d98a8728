"""Provides the autoscale formula evaluator: statements in order over service and user variables.

Service-defined variables: the read-write targets (`$TargetDedicatedNodes`, alias
`$TargetDedicated`; `$TargetLowPriorityNodes`, alias `$TargetLowPriority`;
`$NodeDeallocationOption`), the read-only metrics (`$ActiveTasks`, `$PendingTasks`, ... with
`GetSample`, `GetSamplePercent`, `GetSamplePeriod`, `Count` and `HistoryBeginTime`) and
`$TaskSlotsPerNode`. Any other name, with or without `$`, is a user variable. `check` refuses
at parse time what can never run (an unknown function, an assignment to a metric); `run`
evaluates and stops at the first runtime error, keeping what was assigned before it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from batch_tui.emulator.autoscale.formula import (
    Binary,
    Call,
    FormulaSyntaxError,
    Member,
    Method,
    Node,
    Num,
    Statement,
    Str,
    Ternary,
    Unary,
    Var,
)
from batch_tui.emulator.autoscale.values import (
    FUNCTIONS,
    TIME_INTERVALS,
    EvalError,
    Interval,
    Metric,
    SampleError,
    Value,
    binary,
    number,
    parse_time,
    truthy,
    unary,
)

TARGETS = ("$TargetDedicatedNodes", "$TargetLowPriorityNodes", "$NodeDeallocationOption")
"""The read-write service variables, in the order the run's `results` lists them."""
ALIASES = {
    "$TargetDedicated": "$TargetDedicatedNodes",
    "$TargetLowPriority": "$TargetLowPriorityNodes",
}
DEALLOCATION_OPTIONS = ("requeue", "terminate", "taskcompletion", "retaineddata")
READ_ONLY = (
    "$ActiveTasks $RunningTasks $PendingTasks $SucceededTasks $FailedTasks $CurrentDedicatedNodes "
    "$CurrentLowPriorityNodes $PreemptedNodeCount $SampleNodeCount $TaskSlotsPerNode $CPUPercent "
    "$WallClockSeconds $MemoryBytes $DiskBytes $DiskReadBytes $DiskWriteBytes $DiskReadOps "
    "$DiskWriteOps $NetworkInBytes $NetworkOutBytes"
).split()
METHODS = ("GetSample", "GetSamplePercent", "GetSamplePeriod", "Count", "HistoryBeginTime")
MEMBERS = ("year", "month", "day", "weekday", "hour", "minute", "second")


class _Stopped(Exception):
    """`stop()` was called: evaluation ends without an error."""


@dataclass(frozen=True)
class Inputs:
    """What a formula sees: the time, the sample period and the service variables' values."""

    now: datetime
    sample_period: float
    variables: Mapping[str, Value]


@dataclass
class Outcome:
    """The variables after a run, the user variables it assigned, and the error that ended it."""

    variables: dict[str, Value]
    assigned: list[str] = field(default_factory=list)
    error: EvalError | None = None


def canonical(name: str) -> str:
    return ALIASES.get(name, name)


def _walk(node: Node) -> list[Node]:
    children: Sequence[Node] = ()
    if isinstance(node, Unary):
        children = (node.operand,)
    elif isinstance(node, Binary):
        children = (node.left, node.right)
    elif isinstance(node, Ternary):
        children = (node.cond, node.then, node.other)
    elif isinstance(node, Call):
        children = node.args
    elif isinstance(node, Method):
        children = (node.target, *node.args)
    elif isinstance(node, Member):
        children = (node.target,)
    return [node, *(n for child in children for n in _walk(child))]


def _check_node(node: Node) -> None:
    if isinstance(node, Call) and node.name not in FUNCTIONS and node.name not in ("time", "stop"):
        raise FormulaSyntaxError(f"'{node.name}' is not a function.", node.line, node.col)
    if isinstance(node, Method) and node.name not in METHODS:
        raise FormulaSyntaxError(f"'{node.name}' is not a method.", node.line, node.col)
    if isinstance(node, Member) and node.name not in MEMBERS:
        raise FormulaSyntaxError(f"'{node.name}' is not a member.", node.line, node.col)


def check(statements: Sequence[Statement]) -> None:
    """Refuses what can never run: unknown functions, methods or members, assignments to
    read-only variables.

    Raises:
        FormulaSyntaxError: With the position of the offending part.
    """
    for statement in statements:
        if statement.target is not None and canonical(statement.target) in READ_ONLY:
            raise FormulaSyntaxError(
                f"The variable '{statement.target}' is read-only.", statement.line, statement.col
            )
        for node in _walk(statement.expr):
            _check_node(node)


class _Evaluator:
    def __init__(self, inputs: Inputs) -> None:
        self.inputs = inputs
        self.outcome = Outcome(dict(inputs.variables))

    def run(self, statements: Sequence[Statement]) -> Outcome:
        try:
            for statement in statements:
                value = self.eval(statement.expr)
                if statement.target is not None:
                    self.assign(statement, value)
        except _Stopped:
            pass
        except (EvalError, ArithmeticError, ValueError) as exc:
            self.outcome.error = exc if isinstance(exc, EvalError) else EvalError(str(exc))
        return self.outcome

    def assign(self, statement: Statement, value: Value) -> None:
        name = canonical(str(statement.target))
        try:
            value = _checked_target(name, value)
        except EvalError as exc:
            exc.position = exc.position or (statement.line, statement.col)
            raise
        self.outcome.variables[name] = value
        if name not in TARGETS and name not in self.outcome.assigned:
            self.outcome.assigned.append(name)

    def eval(self, node: Node) -> Value:
        try:
            return self.dispatch(node)
        except EvalError as exc:
            exc.position = exc.position or (node.line, node.col)
            raise

    def dispatch(self, node: Node) -> Value:
        if isinstance(node, Num):
            return node.value
        if isinstance(node, Str):
            return node.value
        if isinstance(node, Var):
            return self.lookup(node.name)
        if isinstance(node, Unary):
            return unary(node.op, self.eval(node.operand))
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Ternary):
            return self.eval(node.then if truthy(self.eval(node.cond)) else node.other)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Method):
            return self.method(node)
        assert isinstance(node, Member)
        return _member(self.eval(node.target), node.name)

    def lookup(self, name: str) -> Value:
        name = canonical(name)
        if name in self.outcome.variables:
            return self.outcome.variables[name]
        if name in TIME_INTERVALS:
            return Interval(TIME_INTERVALS[name])
        if name in DEALLOCATION_OPTIONS:
            return name
        raise EvalError(f"The variable '{name}' is not defined.")

    def binary(self, node: Binary) -> Value:
        left = self.eval(node.left)
        if node.op == "&&":
            return 1.0 if truthy(left) and truthy(self.eval(node.right)) else 0.0
        if node.op == "||":
            return 1.0 if truthy(left) or truthy(self.eval(node.right)) else 0.0
        return binary(node.op, left, self.eval(node.right))

    def call(self, node: Call) -> Value:
        args = [self.eval(arg) for arg in node.args]
        if node.name == "stop":
            raise _Stopped()
        if node.name == "time":
            return parse_time(str(args[0])) if args and args[0] != "" else self.inputs.now
        return FUNCTIONS[node.name](args)

    def method(self, node: Method) -> Value:
        target = self.eval(node.target)
        if not isinstance(target, Metric):
            raise EvalError(f"'{node.name}' is a method of metrics such as $PendingTasks.")
        args = [self.eval(arg) for arg in node.args]
        return _metric_method(target, node.name, args, self.inputs)


def _checked_target(name: str, value: Value) -> Value:
    """Checks what a read-write service variable may hold; metrics read as their value."""
    if name == "$NodeDeallocationOption":
        if value not in DEALLOCATION_OPTIONS:
            choices = ", ".join(DEALLOCATION_OPTIONS)
            raise EvalError(f"$NodeDeallocationOption must be one of {choices}.")
        return value
    if name in TARGETS:
        return number(value, name)
    return value


def _member(value: Value, name: str) -> Value:
    if not isinstance(value, datetime):
        raise EvalError(f"'{name}' is a member of timestamps.")
    if name == "weekday":
        return float(value.isoweekday() % 7)  # 0 is Sunday, 1 Monday (.NET DayOfWeek)
    return float(getattr(value, name))


def _when(value: Value, now: datetime) -> datetime:
    """A GetSample bound: a timeinterval looks back from now, a timestamp is absolute."""
    if isinstance(value, Interval):
        return now - timedelta(seconds=value.seconds)
    if isinstance(value, datetime):
        return value
    raise EvalError("A time range is given as timeintervals or timestamps.")


def _window(args: Sequence[Value], now: datetime) -> tuple[datetime, datetime, float | None]:
    """Splits GetSample arguments into (oldest, newest, required percent or None)."""
    times = [a for a in args if isinstance(a, (Interval, datetime))]
    rest = [a for a in args if not isinstance(a, (Interval, datetime))]
    if not 1 <= len(times) <= 2 or len(rest) > 1 or args[: len(times)] != times:
        raise EvalError("GetSample takes a count, or a start [and end] time and a percentage.")
    bounds = [_when(t, now) for t in times] + ([now] if len(times) == 1 else [])
    percent = number(rest[0], "sample percentage") if rest else None
    return min(bounds), max(bounds), percent


def _metric_method(metric: Metric, name: str, args: Sequence[Value], inputs: Inputs) -> Value:
    if name == "GetSamplePeriod":
        return Interval(inputs.sample_period)
    if name == "Count":
        return float(len(metric.samples))
    if name == "HistoryBeginTime":
        if not metric.samples:
            raise SampleError(f"Insufficient data from data set: {metric.name} has no samples")
        return metric.samples[0][0]
    if name == "GetSample" and len(args) == 1 and isinstance(args[0], float):
        return _last_samples(metric, int(args[0]))
    oldest, newest, wanted = _window(args, inputs.now)
    values = tuple(v for t, v in metric.samples if oldest < t <= newest)
    expected = max((newest - oldest).total_seconds() / inputs.sample_period, 1.0)
    percent = min(100.0, len(values) * 100.0 / expected)
    if name == "GetSamplePercent":
        return percent
    if wanted is not None and percent < wanted:
        raise SampleError(
            f"Insufficient data from data set: {metric.name} wanted {wanted:g}%, "
            f"received {int(percent)}%"
        )
    return values


def _last_samples(metric: Metric, count: int) -> Value:
    values = tuple(v for _, v in metric.samples[-count:]) if count > 0 else ()
    if not values:
        raise SampleError(
            f"Insufficient data from data set: {metric.name} wanted {count} samples, received 0"
        )
    return values


def run(statements: Sequence[Statement], inputs: Inputs) -> Outcome:
    """Evaluates parsed statements in order.

    Args:
        statements: The parsed (and checked) formula.
        inputs: The time and the service variables (targets, option, metrics).

    Returns:
        The final variables, the user variables assigned in order, and the error if one ended
        the run early (the variables then hold what was assigned before it).
    """
    return _Evaluator(inputs).run(statements)
