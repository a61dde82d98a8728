"""Generators of service JSON paired with what the models must decode it to, and the check.

Each strategy here draws a pair ``(wire, want)``. ``wire`` is JSON as the live service may send
it: unknown fields in every object (``odata.*`` annotations, fields of later API versions),
states it does not have yet, numbers as strings (the live service sends ``contentLength`` as
``"13"``), optional fields left out or null. ``want`` is what the decoded model must hold,
computed here and not by the decoder. `assert_decoded` compares a model with a `Want` field by
field and checks that every field the service did not send holds its default, so a closed enum,
a number-as-string that lost its value or a wrong ``rename`` fails, not just a crash.

The property tests of each model live in ``test_model_properties.py`` and ``test_prop_models.py``;
``test_prop_wire.py`` checks that the check itself fails where it must.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec
from hypothesis import HealthCheck
from hypothesis import strategies as st

from batch_tui.batch import models as m
from batch_tui.batch.models import UNLIMITED, decode, decode_page

UTC = timezone.utc
Pair = tuple[Any, Any]
"""``(wire, want)``: what the service sends, and what the model must hold."""
Pairs = st.SearchStrategy[Pair]
SLOW = [HealthCheck.too_slow]
"""Suppressed for big generated entities: a time-based health check could fail a slow CI run."""


@dataclass(frozen=True)
class Want:
    """What a decoded struct must hold: ``fields`` by attribute name, every other field its
    default."""

    type: type[Any]
    fields: dict[str, Any]


# --- Scalars -------------------------------------------------------------------------------


def same(values: st.SearchStrategy[Any]) -> Pairs:
    """Values that decode to themselves (strings, booleans)."""
    return values.map(lambda value: (value, value))


TEXT = same(st.text(max_size=16))
BOOLS = same(st.booleans())


def states(*known: str) -> Pairs:
    """A known state, or any other string: Azure adds states, and one must decode verbatim."""
    return same(st.sampled_from(known) | st.text(max_size=16))


def unknown_state(*known: str) -> st.SearchStrategy[str]:
    """A state that none of ``known`` is (for tests that must see an unknown one)."""
    future = st.sampled_from(["hibernating", "upgradingos", "Running", "cancelled", ""])
    return (future | st.text(max_size=16)).filter(lambda state: state not in known)


def integers(low: int, high: int) -> Pairs:
    """An integer in ``[low, high]``, as a JSON number or as a string of it (a live quirk)."""
    edges = [low, high, -1, 0, 1, 2**31 - 1, 2**31, 2**32, 2**53, 2**53 + 1]
    numbers = st.integers(low, high) | st.sampled_from([n for n in edges if low <= n <= high])
    return numbers.flatmap(lambda n: st.sampled_from([(n, n), (str(n), n)]))


INT32 = integers(-(2**31), 2**31 - 1)
"""An ``int32`` field (counts, ports, ``exitCode``), negatives included."""
INT64 = integers(-(2**63), 2**63 - 1)
"""An ``int64`` field (``contentLength``, I/O counts): beyond 2^31 and 2^53."""


def _float_forms(value: float) -> Pairs:
    text = repr(value)
    forms: list[Pair] = [(value, value), (text, value), (text.upper(), value)]  # .NET writes 1E-05
    if value.is_integer() and abs(value) < 2**53:
        forms.append((int(value), value))  # a whole double sent as a JSON integer
    return st.sampled_from(forms)


FLOATS = st.floats(allow_nan=False, allow_infinity=False).flatmap(_float_forms)
"""A ``double`` field (``readIOGiB``, ``avgCPUPercentage``), also as a string."""

_DOTNET_MAX = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
_EDGE_MOMENTS = st.sampled_from([datetime(1, 1, 1, tzinfo=UTC), _DOTNET_MAX])


def _micros_half_up(digits: str) -> int:
    """The fraction ``.digits`` of a second in microseconds, the 7th digit rounded half up."""
    if not digits:
        return 0
    return int((Decimal("0." + digits) * 1_000_000).quantize(Decimal(1), ROUND_HALF_UP))


@st.composite
def timestamps(draw: st.DrawFn) -> Pair:
    """An ISO 8601 UTC time with 0 to 7 fractional digits, as .NET writes it.

    A time that rounds past ``DateTime.MaxValue`` (``9999-12-31T23:59:59.9999999Z`` is the
    service's "never") must decode clamped to the last microsecond, not be dropped.
    """
    moment = draw(
        st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59), timezones=st.just(UTC))
        | _EDGE_MOMENTS
    ).replace(microsecond=0)
    digits = draw(st.text("0123456789", max_size=7) | st.sampled_from(["9999999", "9999995"]))
    text = moment.replace(tzinfo=None).isoformat() + (f".{digits}" if digits else "") + "Z"
    try:
        want = moment + timedelta(microseconds=_micros_half_up(digits))
    except OverflowError:
        want = _DOTNET_MAX.replace(microsecond=999_999)
    return text, want


MAX_DURATION = "P10675199DT2H48M5.4775807S"
"""``TimeSpan.MaxValue`` as the service writes it for "no limit"."""

_FIXED_DURATIONS: list[Pair] = [
    (MAX_DURATION, UNLIMITED),
    ("PT0S", timedelta(0)),
    ("PT5.5S", timedelta(seconds=5.5)),
    ("PT0.0000005S", timedelta(microseconds=1)),
    ("P7DT00H00M00S", timedelta(days=7)),
    ("PT01H00M00S", timedelta(hours=1)),
]


def _duration(days: int, hours: int, minutes: int, seconds: int) -> Pair:
    text = f"P{days}DT{hours}H{minutes}M{seconds}S"
    return text, timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


DURATIONS = st.sampled_from(_FIXED_DURATIONS) | st.builds(
    _duration, st.integers(0, 10**6), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)
)
"""An ISO 8601 duration as the service writes it (``XmlConvert``)."""

# --- Objects and lists ---------------------------------------------------------------------

ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
"""Any JSON value: what an unknown field of a later API version may hold."""

_UNKNOWN_NAMES = st.sampled_from(
    ["odata.metadata", "odata.type", "odata.id", "state@odata.type", "futureField"]
) | st.text(min_size=1, max_size=10).map(lambda name: f"future{name}")


def obj(
    type_: type[Any],
    required: Mapping[str, Pairs] | None = None,
    optional: Mapping[str, Pairs] | None = None,
) -> Pairs:
    """An object of ``type_``'s wire shape: the required fields, any subset of the optional
    ones (each absent, present or null) and up to two unknown fields.

    The wire names are written by hand from the spec; one that ``type_`` does not declare is a
    KeyError here, so a wrong ``rename`` fails the test instead of cancelling out.
    """
    declared = {field.encode_name for field in msgspec.structs.fields(type_)}
    undeclared = [key for key in (*(required or {}), *(optional or {})) if key not in declared]
    if undeclared:
        raise KeyError(f"{type_.__name__} declares no wire field {undeclared}")
    return _obj(type_, dict(required or {}), dict(optional or {}))


@st.composite
def _obj(
    draw: st.DrawFn, type_: type[Any], required: dict[str, Pairs], optional: dict[str, Pairs]
) -> Pair:
    attrs = {field.encode_name: field.name for field in msgspec.structs.fields(type_)}
    wire: dict[str, Any] = {}
    want: dict[str, Any] = {}
    for key, pairs in required.items():
        wire[key], want[attrs[key]] = draw(pairs)
    for key, pairs in optional.items():
        how = draw(st.sampled_from(["absent", "present", "present", "null"]))
        if how == "present":
            wire[key], want[attrs[key]] = draw(pairs)
        elif how == "null":
            wire[key] = None  # as good as absent: the field keeps its default
    for key, value in draw(st.dictionaries(_UNKNOWN_NAMES, ANY_JSON, max_size=2)).items():
        wire.setdefault(key, value)
    return wire, Want(type_, want)


def lists(pairs: Pairs, max_size: int = 3) -> Pairs:
    """A JSON array of ``pairs``; the model holds a tuple of what each item must be."""
    return st.lists(pairs, max_size=max_size).map(
        lambda items: ([wire for wire, _ in items], [want for _, want in items])
    )


# --- The check ------------------------------------------------------------------------------


def default_of(field: msgspec.structs.FieldInfo) -> Any:
    """The value a field holds when the service did not send it."""
    if field.default is not msgspec.NODEFAULT:
        return field.default
    return field.default_factory()


def assert_decoded(got: Any, want: Any, path: str = "$") -> None:
    """Assert that a decoded value is what ``want`` says, recursively, with exact types."""
    if isinstance(want, Want):
        assert type(got) is want.type, f"{path}: a {type(got).__name__}, not {want.type.__name__}"
        for field in msgspec.structs.fields(want.type):
            value, where = getattr(got, field.name), f"{path}.{field.encode_name}"
            if field.name in want.fields:
                assert_decoded(value, want.fields[field.name], where)
            else:
                assert value == default_of(field), f"{where}: {value!r} is not the default"
    elif isinstance(want, list):
        assert isinstance(got, tuple), f"{path}: {got!r} is not a tuple"
        assert len(got) == len(want), f"{path}: {len(got)} items, {len(want)} sent"
        for index, (item, wanted) in enumerate(zip(got, want, strict=True)):
            assert_decoded(item, wanted, f"{path}[{index}]")
    else:
        assert type(got) is type(want), f"{path}: decoded {got!r}, sent {want!r}"
        assert got == want, f"{path}: decoded {got!r}, sent {want!r}"


def page_body(wires: list[Any], next_link: str | None) -> bytes:
    """A list response as the service writes it."""
    body: dict[str, Any] = {"odata.metadata": "https://a/$metadata#items", "value": wires}
    if next_link is not None:
        body["odata.nextLink"] = next_link
    return json.dumps(body, allow_nan=False).encode()


def check_items(items: list[Pair], type_: type[Any], next_link: str | None = None) -> None:
    """Decode ``items`` as one page and each as a single entity; both must be exact."""
    page = decode_page(page_body([wire for wire, _ in items], next_link), type_)
    assert len(page.value) == len(items), "an item was dropped from the page"
    for index, (decoded, (_, want)) in enumerate(zip(page.value, items, strict=True)):
        assert_decoded(decoded, want, f"$.value[{index}]")
    assert page.next_link == next_link
    for wire, want in items:
        assert_decoded(decode(json.dumps(wire).encode(), type_), want)


@st.composite
def spoiled(draw: st.DrawFn, pairs: Pairs) -> Pair:
    """An item with one field it sent replaced by a JSON object, which fits no scalar or list
    field: the repair must drop just that field and keep everything else."""
    wire, want = draw(pairs)
    attrs = {field.encode_name: field.name for field in msgspec.structs.fields(want.type)}
    keys = sorted(k for k in wire if attrs.get(k) in want.fields)
    keys = [k for k in keys if not isinstance(want.fields[attrs[k]], Want)]  # objects still fit
    # Not the id: an item without one is a placeholder (tests/batch/test_hostile_endpoints.py).
    keys = [k for k in keys if k != "id"]
    if keys:
        key = draw(st.sampled_from(keys))
        wire[key] = {"spoiled": [1]}
        want = Want(want.type, {k: v for k, v in want.fields.items() if k != attrs[key]})
    return wire, want


# --- Shared shapes ---------------------------------------------------------------------------

TASK_STATES = ("active", "preparing", "running", "completed")
RUN_STATES = ("running", "completed")
RESULTS = ("success", "failure")
CATEGORIES = ("usererror", "servererror")

NAME_VALUE_PAIRS = lists(obj(m.NameValuePair, {}, {"name": TEXT, "value": TEXT}), max_size=2)
FAILURE_INFO = obj(
    m.TaskFailureInfo,
    {"category": states(*CATEGORIES)},
    {"code": TEXT, "message": TEXT, "details": NAME_VALUE_PAIRS},
)
CONTAINER_INFO = obj(
    m.ContainerExecutionInfo, {}, {"containerId": TEXT, "state": TEXT, "error": TEXT}
)
NODE_INFO = obj(
    m.NodeInfo,
    {},
    {
        "affinityId": TEXT,
        "nodeUrl": TEXT,
        "poolId": TEXT,
        "nodeId": TEXT,
        "taskRootDirectory": TEXT,
        "taskRootDirectoryUrl": TEXT,
    },
)
TASK_CONSTRAINTS = obj(
    m.TaskConstraints,
    {},
    {"maxWallClockTime": DURATIONS, "retentionTime": DURATIONS, "maxTaskRetryCount": INT32},
)
ENTITY_STAMPS = {
    "url": TEXT,
    "eTag": TEXT,
    "lastModified": timestamps(),
    "creationTime": timestamps(),
    "stateTransitionTime": timestamps(),
}
"""What every listed entity (pool, job, task) carries besides its own fields."""

STATS_STAMPS = {"url": TEXT, "startTime": timestamps(), "lastUpdateTime": timestamps()}
"""The required fields of a task's or a job's statistics."""

CPU_AND_IO = {
    "userCPUTime": DURATIONS,
    "kernelCPUTime": DURATIONS,
    "wallClockTime": DURATIONS,
    "readIOps": INT64,
    "writeIOps": INT64,
    "readIOGiB": FLOATS,
    "writeIOGiB": FLOATS,
}
"""What the statistics of a task or a job count."""

RUN_OUTCOME = {
    "startTime": timestamps(),
    "endTime": timestamps(),
    "exitCode": INT32,
    "containerInfo": CONTAINER_INFO,
    "failureInfo": FAILURE_INFO,
    "result": states(*RESULTS),
}
"""How a run of a command went: a task's execution, a start task's, a subtask's."""

TASK_EXECUTION_INFO = obj(
    m.TaskExecutionInfo,
    {"retryCount": INT32, "requeueCount": INT32},
    {**RUN_OUTCOME, "lastRetryTime": timestamps(), "lastRequeueTime": timestamps()},
)
ENVIRONMENT = lists(obj(m.EnvironmentSetting, {"name": TEXT}, {"value": TEXT}))
METADATA = lists(obj(m.MetadataItem, {"name": TEXT, "value": TEXT}))
LINKS = st.none() | st.just("https://a.westus.batch.azure.com/jobs?$skipToken=x&api-version=1")
