"""Provides the autoscale formula's value types, operators, built-in functions and formatting.

Types as the formula reference lists them: double (`float`), doubleVec (`tuple` of floats),
string, timestamp (`datetime`), timeinterval (`Interval`), plus `Metric`, the object a
service-defined metric variable such as `$PendingTasks` is (its methods live in `formula_eval`).
Comparisons and logical operators yield 1 or 0, as in the reference's results
(`$isWeekday=1`).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from batch_tui.emulator.base.times import parse_iso

Vec = tuple[float, ...]


class EvalError(Exception):
    """A formula that fails while it runs: the run's `error` says why (FormulaEvaluationError)."""

    code = "FormulaEvaluationError"
    summary = "Autoscale evaluation failed"
    position: tuple[int, int] | None = None
    """Line and column of the innermost expression that failed (set by the evaluator)."""


class SampleError(EvalError):
    """Not enough samples for `GetSample` (the service's InsufficientSampleData)."""

    code = "InsufficientSampleData"
    summary = "Autoscale evaluation failed due to insufficient sample data"


@dataclass(frozen=True)
class Interval:
    """A timeinterval, in seconds."""

    seconds: float


@dataclass(frozen=True)
class Metric:
    """A service-defined metric: its samples (oldest first) and its value now.

    `current` is what the metric reads as when used as a number (`$CurrentDedicatedNodes * 2`);
    None for metrics the emulator cannot measure (CPU, memory, disk, network).
    """

    name: str
    samples: tuple[tuple[datetime, float], ...]
    current: float | None


Value = float | Vec | str | datetime | Interval | Metric

TIME_INTERVALS = {
    "TimeInterval_Zero": 0.0,
    "TimeInterval_100ns": 1e-7,
    "TimeInterval_Microsecond": 1e-6,
    "TimeInterval_Millisecond": 1e-3,
    "TimeInterval_Second": 1.0,
    "TimeInterval_Minute": 60.0,
    "TimeInterval_Hour": 3600.0,
    "TimeInterval_Day": 86400.0,
    "TimeInterval_Week": 7 * 86400.0,
    "TimeInterval_Year": 365 * 86400.0,
}


def type_name(value: Value) -> str:
    if isinstance(value, float):
        return "double"
    if isinstance(value, tuple):
        return "doubleVec"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, Interval):
        return "timeinterval"
    return "metric"


def number(value: Value, what: str = "value") -> float:
    """Reads a value as a double; a metric reads as its current value."""
    if isinstance(value, Metric):
        if value.current is None:
            raise SampleError(f"Insufficient data from data set: {value.name} has no samples")
        return value.current
    if isinstance(value, float):
        return value
    raise EvalError(f"The {what} must be a double, not a {type_name(value)}.")


def flatten(args: Sequence[Value]) -> Vec:
    """Turns a doubleVecList (doubles and doubleVecs) into one doubleVec."""
    out: list[float] = []
    for arg in args:
        out.extend(arg if isinstance(arg, tuple) else (number(arg),))
    return tuple(out)


def _arith(op: str, a: float, b: float) -> float:
    if op in "/%" and b == 0:
        raise EvalError("Division by zero.")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b if op == "/" else math.fmod(a, b)


def _vector_op(op: str, a: Value, b: Value) -> Vec:
    left = a if isinstance(a, tuple) else None
    right = b if isinstance(b, tuple) else None
    if left is not None and right is not None:
        if len(left) != len(right):
            raise EvalError("The doubleVec operands have different lengths.")
        return tuple(_arith(op, x, y) for x, y in zip(left, right, strict=True))
    if left is not None:
        return tuple(_arith(op, x, number(b)) for x in left)
    assert right is not None
    return tuple(_arith(op, number(a), y) for y in right)


def _time_op(op: str, a: Value, b: Value) -> Value | None:
    """The operators on timestamps and intervals; None when the operands are not such."""
    if isinstance(a, Interval) and isinstance(b, Interval) and op in "+-":
        return Interval(a.seconds + b.seconds if op == "+" else a.seconds - b.seconds)
    if isinstance(a, Interval) and op in "*/" and not isinstance(b, (Interval, datetime)):
        return Interval(_arith(op, a.seconds, number(b)))
    if isinstance(b, Interval) and op == "*" and not isinstance(a, (Interval, datetime)):
        return Interval(number(a) * b.seconds)
    if isinstance(a, datetime) and isinstance(b, Interval) and op in "+-":
        step = timedelta(seconds=b.seconds)
        return a + step if op == "+" else a - step
    if isinstance(a, Interval) and isinstance(b, datetime) and op == "+":
        return b + timedelta(seconds=a.seconds)
    if isinstance(a, datetime) and isinstance(b, datetime) and op == "-":
        return Interval((a - b).total_seconds())
    return None


def _comparable(a: Value, b: Value) -> tuple[object, object]:
    for kind in (str, datetime):
        if isinstance(a, kind) or isinstance(b, kind):
            if not (isinstance(a, kind) and isinstance(b, kind)):
                raise EvalError(f"Cannot compare a {type_name(a)} with a {type_name(b)}.")
            return a, b
    if isinstance(a, Interval) and isinstance(b, Interval):
        return a.seconds, b.seconds
    return number(a), number(b)


_COMPARE: dict[str, Callable[[object, object], bool]] = {
    "==": lambda x, y: x == y,
    "!=": lambda x, y: x != y,
    "<": lambda x, y: x < y,  # type: ignore[operator]
    "<=": lambda x, y: x <= y,  # type: ignore[operator]
    ">": lambda x, y: x > y,  # type: ignore[operator]
    ">=": lambda x, y: x >= y,  # type: ignore[operator]
}


def binary(op: str, a: Value, b: Value) -> Value:
    """Applies a binary operator (not `&&`/`||`, which short-circuit in the evaluator)."""
    if op in _COMPARE:
        x, y = _comparable(a, b)
        return 1.0 if _COMPARE[op](x, y) else 0.0
    timed = _time_op(op, a, b)
    if timed is not None:
        return timed
    if isinstance(a, tuple) or isinstance(b, tuple):
        return _vector_op(op, a, b)
    return _arith(op, number(a, "operand"), number(b, "operand"))


def unary(op: str, value: Value) -> Value:
    if op == "-" and isinstance(value, Interval):
        return Interval(-value.seconds)
    if op == "-" and isinstance(value, tuple):
        return tuple(-x for x in value)
    if op == "!":
        return 0.0 if number(value, "operand") else 1.0
    return -number(value, "operand") if op == "-" else number(value, "operand")


def truthy(value: Value) -> bool:
    """A condition: nonzero is true (the reference's rule for `?:`)."""
    return number(value, "condition") != 0


# Functions


def _nonempty(args: Sequence[Value], name: str) -> Vec:
    values = flatten(args)
    if not values:
        raise EvalError(f"{name}() needs at least one value.")
    return values


def _logarithm(base: Callable[[float], float]) -> Callable[[Sequence[Value]], Value]:
    def apply(args: Sequence[Value]) -> Value:
        if len(args) == 1 and isinstance(args[0], float):
            return _log(base, args[0])
        return tuple(_log(base, x) for x in flatten(args))

    return apply


def _log(base: Callable[[float], float], x: float) -> float:
    if x <= 0:
        raise EvalError("The logarithm of a value that is not positive is undefined.")
    return base(x)


def _percentile(args: Sequence[Value]) -> Value:
    if len(args) != 2:
        raise EvalError("percentile(v, p) takes a doubleVec and a percentage.")
    values = sorted(flatten(args[:1]))
    p = number(args[1])
    if not values or not 0 <= p <= 100:
        raise EvalError("percentile() needs values and a percentage from 0 to 100.")
    return values[min(len(values) - 1, max(0, math.ceil(p / 100 * len(values)) - 1))]


def _val(args: Sequence[Value]) -> Value:
    if len(args) != 2:
        raise EvalError("val(v, i) takes a doubleVec and an index.")
    values, index = flatten(args[:1]), int(number(args[1]))
    if not 0 <= index < len(values):
        raise EvalError(f"The index {index} is outside the doubleVec of length {len(values)}.")
    return values[index]


def _std(args: Sequence[Value]) -> Value:
    values = flatten(args)
    if len(values) < 2:
        raise EvalError("std() needs at least two values.")
    return statistics.stdev(values)


def parse_time(text: str) -> datetime:
    """Reads a W3C-DTF or RFC 1123 time, as `time("...")` accepts."""
    try:
        return parse_iso(text)
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError) as exc:
        raise EvalError(f"'{text}' is not a W3C-DTF or RFC 1123 time.") from exc
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


FUNCTIONS: dict[str, Callable[[Sequence[Value]], Value]] = {
    "avg": lambda a: statistics.fmean(_nonempty(a, "avg")),
    "len": lambda a: float(len(flatten(a))),
    "count": lambda a: float(len(flatten(a))),
    "lg": _logarithm(math.log2),
    "ln": _logarithm(math.log),
    "log": _logarithm(math.log10),
    "max": lambda a: max(_nonempty(a, "max")),
    "min": lambda a: min(_nonempty(a, "min")),
    "norm": lambda a: math.sqrt(sum(x * x for x in flatten(a))),
    "percentile": _percentile,
    "rand": lambda a: random.random(),
    "range": lambda a: max(_nonempty(a, "range")) - min(_nonempty(a, "range")),
    "std": _std,
    "sum": lambda a: math.fsum(flatten(a)),
    "val": _val,
}
"""The built-in functions over values (`time` and `stop` need the evaluator's state)."""


# Formatting, as the run's `results` shows values


def _double(x: float) -> str:
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _interval(seconds: float) -> str:
    # .NET TimeSpan's default form ([-][d.]hh:mm:ss[.fffffff]), the service's own ToString.
    sign = "-" if seconds < 0 else ""
    ticks = round(abs(seconds) * 10_000_000)
    whole, frac = divmod(ticks, 10_000_000)
    days, rest = divmod(whole, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    text = f"{days}.{text}" if days else text
    return sign + (f"{text}.{frac:07d}" if frac else text)


def format_value(value: Value) -> str:
    """Writes a value the way the service's `results` does (`3`, `[1,2]`, `...T19:18:47.805Z`)."""
    if isinstance(value, float):
        return _double(value)
    if isinstance(value, tuple):
        return "[" + ",".join(_double(x) for x in value) + "]"
    if isinstance(value, datetime):
        utc = value.astimezone(timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    if isinstance(value, Interval):
        return _interval(value.seconds)
    if isinstance(value, Metric):
        return "" if value.current is None else _double(value.current)
    return value
