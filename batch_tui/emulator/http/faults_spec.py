"""Provides the emulator's fault rules and the seeded FaultPlan that decides and counts them.

A spec is a `;`-separated list of items. `seed=N` makes the decisions repeat exactly; every
other item is a rule, `KIND` followed by `:key=value` parameters::

    seed=7;429:rate=0.2:path=GET /jobs/*/tasks:retry-after=1;latency:ms=50:jitter=20
    latency:ms=150:per-item-us=200        (the same as latency:profile=realistic)

Kinds and their own parameters:

- `latency`: `ms` (fixed delay before the response, default 100), `jitter` (plus a uniform
  0..jitter ms, default 0) and `per-item-us` (plus this many microseconds per item of the list
  page returned, its `value` array, default 0: the service takes longer to answer a page of
  1,000 tasks than one of 1), or `profile=NAME`, a named set of them (`LATENCY_PROFILES`:
  `realistic` is `ms=150:per-item-us=200`, `lan` is `ms=20`; keys given with it win).
- `429`, `503`: the service's throttling answer with `retry-after` seconds (default 1).
- `500`: the service's `InternalError`.
- `reset`: the connection is reset after `after` bytes of the body (default: half of it).
- `truncate`: `Content-Length` is sent, then only `after` bytes (default: half), then it ends.
- `slow`: the body goes out in `chunk`-byte pieces (default 256) `delay` ms apart (default 20).

Parameters of every kind: `rate` (0..1, default 1), `count` (at most this many injections),
and a route: `path=[METHODS ]GLOB` or `regex=[METHODS ]REGEX`, e.g. `path=GET,HEAD /pools/*`.
In a glob `*` matches within one path segment, `**` across segments, and the glob must match
the whole path; a regex is searched (anchor it with `^`/`$`). Without a route a rule matches
every request. Keys, kinds and values are checked: a bad spec raises ValueError naming the item.
The JSON form (`faults.plan_from_json`) uses the same keys.
"""

from __future__ import annotations

import dataclasses
import random
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = ("latency", "429", "503", "500", "reset", "truncate", "slow")
"""Every fault kind, in the order the docs list them."""

REPLY_KINDS = frozenset({"429", "503", "500"})
"""Kinds that answer in place of the app (the app never sees the request)."""

BODY_KINDS = frozenset({"reset", "truncate", "slow"})
"""Kinds that change how the app's own response body is delivered."""

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

LATENCY_PROFILES: dict[str, dict[str, float]] = {
    "realistic": {"ms": 150.0, "per-item-us": 200.0},
    "lan": {"ms": 20.0},
}
"""Named latencies (`latency:profile=NAME`): `realistic` is a Batch account in another region
as a client sees it (about 150 ms a request, and 0.2 s more for a page of 1,000 tasks than for
one task); `lan` a nearby one, the benchmarks' long-standing 20 ms."""

_COMMON_KEYS = ("rate", "count", "path", "regex")
_KIND_KEYS: dict[str, tuple[str, ...]] = {
    "latency": ("ms", "jitter", "per-item-us"),
    "429": ("retry-after",),
    "503": ("retry-after",),
    "500": (),
    "reset": ("after",),
    "truncate": ("after",),
    "slow": ("chunk", "delay"),
}
_INTS = frozenset({"count", "retry-after", "after", "chunk"})
_FLOATS = frozenset({"rate", "ms", "jitter", "delay", "per-item-us"})


@dataclass(frozen=True)
class RoutePattern:
    """Which requests a rule applies to: optional methods plus a path glob or regex.

    Build it with `RoutePattern.parse("GET /jobs/*/tasks")`.
    """

    text: str
    methods: frozenset[str]
    pattern: re.Pattern[str]
    is_regex: bool

    @classmethod
    def parse(cls, text: str, *, is_regex: bool = False) -> RoutePattern:
        """Parses `[METHOD[,METHOD...] ]PATTERN`.

        Raises:
            ValueError: On an unknown method, a glob not starting with `/` or a bad regex.
        """
        methods, rest = _split_methods(text.strip())
        if not rest:
            raise ValueError(f"route {text!r} has no path pattern")
        if is_regex:
            return cls(text.strip(), methods, _compile_regex(rest), True)
        if not rest.startswith(("/", "*")):
            raise ValueError(f"path glob {rest!r} must start with '/'")
        return cls(text.strip(), methods, re.compile(_glob_to_regex(rest)), False)

    def matches(self, method: str, path: str) -> bool:
        """Returns whether a request with this method and (decoded) path is covered."""
        if self.methods and method.upper() not in self.methods:
            return False
        if self.is_regex:
            return self.pattern.search(path) is not None
        return self.pattern.fullmatch(path) is not None


def _split_methods(text: str) -> tuple[frozenset[str], str]:
    head, _, rest = text.partition(" ")
    if not rest or not re.fullmatch(r"[A-Za-z,]+", head):
        return frozenset(), text
    methods = frozenset(m.upper() for m in head.split(",") if m)
    unknown = sorted(methods - HTTP_METHODS)
    if unknown:
        raise ValueError(f"unknown HTTP method {unknown[0]!r} in route {text!r}")
    return methods, rest.strip()


def _glob_to_regex(glob: str) -> str:
    parts = re.split(r"(\*\*|\*|\?)", glob)
    table = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return "".join(table.get(part, re.escape(part)) for part in parts)


def _compile_regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as err:
        raise ValueError(f"bad route regex {text!r}: {err}") from None


@dataclass(frozen=True)
class FaultRule:
    """One fault: its kind, how often, where, and its parameters.

    Args:
        kind: One of `KINDS`.
        rate: The chance (0..1) that a matching request gets the fault.
        path: `[METHODS ]GLOB` the request must match, e.g. "GET /jobs/*/tasks".
        regex: `[METHODS ]REGEX` instead of a glob.
        count: Inject at most this many times; None for no limit.
        ms: Latency in milliseconds (latency).
        jitter: Extra uniform 0..jitter milliseconds (latency).
        per_item_us: Extra microseconds per item of the list page returned (latency).
        retry_after: Seconds for `Retry-After` (429, 503).
        after: Body bytes sent before the cut (reset, truncate); None for half the body.
        chunk: Bytes per piece (slow).
        delay: Milliseconds between pieces (slow).

    Raises:
        ValueError: On an unknown kind, a value out of range, or a parameter that the kind
            does not take.
    """

    kind: str
    rate: float = 1.0
    path: str | None = None
    regex: str | None = None
    count: int | None = None
    ms: float = 100.0
    jitter: float = 0.0
    per_item_us: float = 0.0
    retry_after: int = 1
    after: int | None = None
    chunk: int = 256
    delay: float = 20.0
    route: RoutePattern | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r} (kinds: {', '.join(KINDS)})")
        _check_ranges(self)
        _check_applicable(self)
        if self.path is not None and self.regex is not None:
            raise ValueError("give a rule either path or regex, not both")
        route = None
        if self.path is not None:
            route = RoutePattern.parse(self.path)
        elif self.regex is not None:
            route = RoutePattern.parse(self.regex, is_regex=True)
        object.__setattr__(self, "route", route)

    def matches(self, method: str, path: str) -> bool:
        """Returns whether the rule covers a request."""
        return self.route is None or self.route.matches(method, path)

    def params(self) -> dict[str, Any]:
        """Returns the rule as spec keys and values: `kind`, `rate`, then what was set."""
        out: dict[str, Any] = {"kind": self.kind, "rate": self.rate}
        for key in (*_COMMON_KEYS[1:], *_KIND_KEYS[self.kind]):
            value = getattr(self, _attr(key))
            if value is not None:
                out[key] = value
        return out

    def to_spec(self) -> str:
        """Returns the rule as one spec item; `parse_spec` reads it back to an equal rule."""
        items = [self.kind] + [f"{k}={_fmt(v)}" for k, v in self.params().items() if k != "kind"]
        return ":".join(items)


def _attr(key: str) -> str:
    return key.replace("-", "_")


def _fmt(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_LEAST = {
    "count": 1,
    "chunk": 1,
    "ms": 0,
    "jitter": 0,
    "per-item-us": 0,
    "retry-after": 0,
    "after": 0,
    "delay": 0,
}


def _check_ranges(rule: FaultRule) -> None:
    if not 0.0 <= rule.rate <= 1.0:
        raise ValueError(f"rate must be between 0 and 1, got {rule.rate}")
    for key, least in _LEAST.items():
        value = getattr(rule, _attr(key))
        if value is not None and value < least:
            raise ValueError(f"{key} must be at least {least}, got {value}")


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(FaultRule)}


def _check_applicable(rule: FaultRule) -> None:
    own = set(_KIND_KEYS[rule.kind])
    for key in ("ms", "jitter", "per-item-us", "retry-after", "after", "chunk", "delay"):
        if key not in own and getattr(rule, _attr(key)) != _DEFAULTS[_attr(key)]:
            raise ValueError(f"{rule.kind} takes no {key!r} ({_valid_keys(rule.kind)})")


def _valid_keys(kind: str) -> str:
    extra = ("profile",) if kind == "latency" else ()
    return "keys: " + ", ".join((*_COMMON_KEYS, *_KIND_KEYS[kind], *extra))


def parse_spec(spec: str) -> tuple[int | None, list[FaultRule]]:
    """Parses a `--faults` spec string (format in the module docstring).

    Args:
        spec: The spec; empty, `off` or `none` means no faults.

    Returns:
        The seed (None when not given) and the rules in order.

    Raises:
        ValueError: With a message naming the item that is wrong and why.
    """
    seed: int | None = None
    rules: list[FaultRule] = []
    items = [item.strip() for item in spec.split(";")]
    if [i for i in items if i] in ([], ["off"], ["none"]):
        return None, []
    for number, item in enumerate(items, start=1):
        if not item:
            continue
        try:
            if item.startswith("seed=") and seed is not None:
                raise ValueError("seed given twice")
            if item.startswith("seed="):
                seed = as_seed(item.removeprefix("seed="))
            else:
                rules.append(_parse_rule(item))
        except ValueError as err:
            raise ValueError(f"fault spec item {number} ({item!r}): {err}") from None
    return seed, rules


def as_seed(value: object) -> int:
    """Returns a seed from a spec or JSON value; raises ValueError if it is not a whole number."""
    return int(_convert("seed", value, int))


def _parse_rule(item: str) -> FaultRule:
    # Split only before `key=`, so a regex may contain ':' (e.g. `(?:a|b)`).
    kind, *pairs = re.split(r":(?=[a-z-]+=)", item)
    if ":" in kind:
        raise ValueError(f"expected key=value parameters after {kind.split(':')[0]!r}")
    params: dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key in params:
            raise ValueError(f"{key!r} given twice")
        params[key] = value
    return rule_from_params(kind.strip(), params)


def rule_from_params(kind: str, params: Mapping[str, object]) -> FaultRule:
    """Builds a rule from spec keys (`retry-after`, not `retry_after`) with str or number values.

    Raises:
        ValueError: On an unknown kind or key, or a value of the wrong type or range.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r} (kinds: {', '.join(KINDS)})")
    if kind == "latency" and "profile" in params:
        params = {
            **_profile(params["profile"]),
            **{k: v for k, v in params.items() if k != "profile"},
        }
    allowed = (*_COMMON_KEYS, *_KIND_KEYS[kind])
    kwargs: dict[str, Any] = {}
    for key, value in params.items():
        if key not in allowed:
            raise ValueError(f"{kind} takes no {key!r} ({_valid_keys(kind)})")
        kwargs[_attr(key)] = _value(key, value)
    return FaultRule(kind, **kwargs)


def _profile(name: object) -> dict[str, float]:
    """Returns the keys of a named latency profile; raises ValueError for an unknown one."""
    profile = LATENCY_PROFILES.get(name.strip()) if isinstance(name, str) else None
    if profile is None:
        raise ValueError(
            f"unknown latency profile {name!r} (profiles: {', '.join(LATENCY_PROFILES)})"
        )
    return profile


def _value(key: str, value: object) -> object:
    if key in _INTS:
        return _convert(key, value, int)
    if key in _FLOATS:
        return _convert(key, value, float)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} must be a non-empty string")
    return value.strip()


def _convert(key: str, value: object, kind: type[int] | type[float]) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{key} must be a number, got {value!r}")
    if isinstance(value, float) and kind is int and not value.is_integer():
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    try:
        return kind(value)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise ValueError(f"{key} must be {noun}, got {value!r}") from None


@dataclass(frozen=True)
class Decision:
    """What a plan decided for one request: seconds to wait before it, seconds more per item
    of the list page it returns, then rule indexes (or None)."""

    delay: float = 0.0
    reply: int | None = None
    body: int | None = None
    per_item: float = 0.0


class FaultPlan:
    """Seeded fault rules plus the counts of what they injected.

    Args:
        rules: The rules, evaluated in order for every request.
        seed: Seeds the plan's one `random.Random`; with the same requests in the same order
            the same faults fire. None for a random seed.
    """

    def __init__(self, rules: Iterable[FaultRule] = (), *, seed: int | None = None) -> None:
        self.rules = tuple(rules)
        self.seed = seed
        self._rng = random.Random(seed)
        # The uvicorn thread decides while a test thread may read counts or swap plans.
        self._lock = threading.Lock()
        self._injected = [0] * len(self.rules)
        self._pending = [0] * len(self.rules)
        self._requests = 0

    @classmethod
    def from_spec(cls, spec: str) -> FaultPlan:
        """Builds a plan from a `--faults` spec string; raises ValueError when it is bad."""
        seed, rules = parse_spec(spec)
        return cls(rules, seed=seed)

    @property
    def requests(self) -> int:
        """How many requests this plan has decided on."""
        return self._requests

    def label(self, index: int) -> str:
        """Returns the counting key of a rule: `<index>:<kind>`, e.g. `0:429`."""
        return f"{index}:{self.rules[index].kind}"

    def decide(self, method: str, path: str) -> Decision:
        """Rolls every matching rule, in order, and picks the faults for one request.

        Latency and reply faults count as injected here; a body fault is pending until the
        injector calls `record` (it was delivered) or `release` (the body could not be cut).
        """
        with self._lock:
            self._requests += 1
            hits = [i for i, rule in enumerate(self.rules) if self._hit(i, rule, method, path)]
            latencies = [i for i in hits if self.rules[i].kind == "latency"]
            delay = sum(self._latency(i) for i in latencies)
            per_item = sum(self.rules[i].per_item_us for i in latencies) / 1e6
            reply = next((i for i in hits if self.rules[i].kind in REPLY_KINDS), None)
            body = next((i for i in hits if self.rules[i].kind in BODY_KINDS), None)
            if reply is not None:
                self._injected[reply] += 1
                body = None
            elif body is not None:
                self._pending[body] += 1
            return Decision(delay, reply, body, per_item)

    def _hit(self, index: int, rule: FaultRule, method: str, path: str) -> bool:
        if not rule.matches(method, path):
            return False
        if rule.count is not None and self._injected[index] + self._pending[index] >= rule.count:
            return False
        return self._rng.random() < rule.rate

    def _latency(self, index: int) -> float:
        rule = self.rules[index]
        self._injected[index] += 1
        jitter = self._rng.uniform(0.0, rule.jitter) if rule.jitter else 0.0
        return (rule.ms + jitter) / 1000.0

    def record(self, index: int) -> None:
        """Counts a pending body fault as delivered."""
        with self._lock:
            self._pending[index] -= 1
            self._injected[index] += 1

    def release(self, index: int) -> None:
        """Drops a pending body fault that could not be delivered (nothing to cut)."""
        with self._lock:
            self._pending[index] -= 1

    def counts(self) -> dict[str, int]:
        """Returns the faults injected per rule, keyed by `label` (`0:429`), zeros included."""
        with self._lock:
            return {self.label(i): n for i, n in enumerate(self._injected)}

    def totals(self) -> dict[str, int]:
        """Returns the faults injected per kind, for the kinds in the plan."""
        out: dict[str, int] = {}
        for label, n in self.counts().items():
            kind = label.split(":", 1)[1]
            out[kind] = out.get(kind, 0) + n
        return out

    def to_spec(self) -> str:
        """Returns the plan as a spec string that `from_spec` reads back to the same rules."""
        items = [] if self.seed is None else [f"seed={self.seed}"]
        return ";".join(items + [rule.to_spec() for rule in self.rules])
