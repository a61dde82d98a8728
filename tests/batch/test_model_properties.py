"""Property tests: generated list pages of tasks, nodes and pools decode and keep every item.

`test_model_decoding.py` pins single quirks (one odd item, durations, 7-digit timestamps);
these tests mix them all at random in whole pages, in the shapes of the spec's
`CloudTaskListResult`, `ComputeNodeListResult` and `CloudPoolListResult`.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from batch_tui.batch import models as m
from batch_tui.batch.models import UNLIMITED, decode_page

TASK_STATES = ["active", "preparing", "running", "completed"]
NODE_STATES = ["idle", "running", "starting", "starttaskfailed", "unusable", "leavingpool"]
POOL_STATES = ["active", "deleting"]
MAX_DURATION = "P10675199DT2H48M5.4775807S"
"""`TimeSpan.MaxValue` as the service writes it for "no limit"."""

_IDS = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=20
)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
"""Any JSON value: what an unknown field of a future API version may hold."""


def states(known: list[str]) -> st.SearchStrategy[str]:
    """A known state or one a later API version may add."""
    return st.sampled_from(known) | st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """An ISO 8601 UTC time with 0 to 7 fractional digits, as .NET writes it."""
    year, month, day = (
        draw(st.integers(1970, 9999)),
        draw(st.integers(1, 12)),
        draw(st.integers(1, 28)),
    )
    clock = f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}:{draw(st.integers(0, 59)):02d}"
    fraction = draw(st.text("0123456789", max_size=7))
    return f"{year:04d}-{month:02d}-{day:02d}T{clock}" + (f".{fraction}" if fraction else "") + "Z"


durations = st.sampled_from([MAX_DURATION, "PT0S", "P1D", "PT1H30M", "PT5.5S", "P7DT00H00M00S"])


def counts() -> st.SearchStrategy[int | str]:
    """A count, sometimes sent as a string (as the service does for some int64 fields)."""
    return st.integers(0, 2**31) | st.integers(0, 2**31).map(str)


@st.composite
def entity(draw: st.DrawFn, required: dict[str, Any], optional: dict[str, Any]) -> dict[str, Any]:
    """An object with the required fields, a random subset of the optional ones and extras."""
    body = {name: draw(strategy) for name, strategy in required.items()}
    for name, strategy in optional.items():
        if draw(st.booleans()):
            body[name] = draw(strategy)
    extras = draw(st.dictionaries(st.text(min_size=1, max_size=10), _JSON, max_size=3))
    for name, value in extras.items():
        body.setdefault(f"future{name}", value)  # a name no model field has
    return body


def execution_info() -> st.SearchStrategy[dict[str, Any]]:
    return entity(
        {"retryCount": counts(), "requeueCount": counts()},
        {
            "startTime": timestamps(),
            "endTime": timestamps(),
            "exitCode": st.integers(-(2**31), 2**31 - 1),
            "result": st.sampled_from(["success", "failure", "cancelled"]),
            "failureInfo": entity(
                {"category": st.sampled_from(["usererror", "servererror", "newcategory"])}, {}
            ),
        },
    )


@st.composite
def tasks(draw: st.DrawFn) -> dict[str, Any]:
    required = {"id": _IDS, "state": states(TASK_STATES)}
    optional = {
        "displayName": st.text(max_size=20),
        "url": st.just("https://a.westus.batch.azure.com/jobs/j/tasks/t"),
        "eTag": st.just("0x8DC0FFEE"),
        "creationTime": timestamps(),
        "stateTransitionTime": timestamps(),
        "previousState": states(TASK_STATES),
        "commandLine": st.text(max_size=30),
        "requiredSlots": counts(),
        "constraints": st.fixed_dictionaries(
            {
                "maxWallClockTime": durations,
                "retentionTime": durations,
                "maxTaskRetryCount": counts(),
            }
        ),
        "executionInfo": execution_info(),
        "nodeInfo": entity({}, {"poolId": _IDS, "nodeId": _IDS}),
        "environmentSettings": st.lists(
            st.fixed_dictionaries({"name": _IDS, "value": st.text(max_size=10)}), max_size=3
        ),
        "stats": st.fixed_dictionaries(
            {
                "url": st.just(""),
                "startTime": timestamps(),
                "lastUpdateTime": timestamps(),
                "userCPUTime": durations,
                "kernelCPUTime": durations,
                "wallClockTime": durations,
                "readIOps": counts(),
                "writeIOps": counts(),
                "readIOGiB": st.floats(0, 1e6),
                "writeIOGiB": st.floats(0, 1e6),
                "waitTime": durations,
            }
        ),
    }
    return draw(entity(required, optional))


@st.composite
def nodes(draw: st.DrawFn) -> dict[str, Any]:
    required = {"id": _IDS, "state": states(NODE_STATES)}
    optional = {
        "schedulingState": st.sampled_from(["enabled", "disabled", "somethingnew"]),
        "stateTransitionTime": timestamps(),
        "lastBootTime": timestamps(),
        "allocationTime": timestamps(),
        "ipAddress": st.just("10.0.0.4"),
        "vmSize": st.just("standard_d2s_v3"),
        "totalTasksRun": counts(),
        "runningTasksCount": counts(),
        "runningTaskSlotsCount": counts(),
        "totalTasksSucceeded": counts(),
        "isDedicated": st.booleans(),
        "recentTasks": st.lists(
            entity({"taskState": states(TASK_STATES)}, {"taskId": _IDS, "jobId": _IDS}), max_size=3
        ),
        "startTaskInfo": entity(
            {"state": states(["running", "completed"])}, {"retryCount": counts()}
        ),
        "errors": st.lists(entity({}, {"code": _IDS, "message": st.text(max_size=20)}), max_size=2),
        "nodeAgentInfo": st.fixed_dictionaries(
            {"version": st.just("1.11.0"), "lastUpdateTime": timestamps()}
        ),
    }
    return draw(entity(required, optional))


@st.composite
def pools(draw: st.DrawFn) -> dict[str, Any]:
    required = {"id": _IDS, "state": states(POOL_STATES)}
    optional = {
        "displayName": st.text(max_size=20),
        "allocationState": states(["steady", "resizing", "stopping"]),
        "allocationStateTransitionTime": timestamps(),
        "creationTime": timestamps(),
        "vmSize": st.just("standard_d2s_v3"),
        "resizeTimeout": durations,
        "currentDedicatedNodes": counts(),
        "currentLowPriorityNodes": counts(),
        "targetDedicatedNodes": counts(),
        "targetLowPriorityNodes": counts(),
        "enableAutoScale": st.booleans(),
        "autoScaleFormula": st.text(max_size=30),
        "autoScaleEvaluationInterval": durations,
        "taskSlotsPerNode": counts(),
        "metadata": st.lists(
            st.fixed_dictionaries({"name": _IDS, "value": st.text(max_size=10)}), max_size=3
        ),
        "resizeErrors": st.lists(
            entity({}, {"code": _IDS, "message": st.text(max_size=20)}), max_size=2
        ),
    }
    return draw(entity(required, optional))


def page_body(items: list[dict[str, Any]], next_link: str | None) -> bytes:
    body: dict[str, Any] = {"odata.metadata": "https://x/$metadata#tasks", "value": items}
    if next_link is not None:
        body["odata.nextLink"] = next_link
    return json.dumps(body, allow_nan=False).encode()


def check_page(items: list[dict[str, Any]], kind: type[Any], next_link: str | None) -> list[Any]:
    page = decode_page(page_body(items, next_link), kind)
    assert [(item.id, item.state) for item in page.value] == [(i["id"], i["state"]) for i in items]
    assert page.next_link == next_link
    return page.value


_LINKS = st.none() | st.just("https://a.westus.batch.azure.com/jobs/j/tasks?$skiptoken=x")


@settings(max_examples=50, deadline=None)
@given(st.lists(tasks(), max_size=5), _LINKS)
def test_generated_task_pages_decode_with_every_item(
    items: list[dict[str, Any]], link: str | None
) -> None:
    decoded = check_page(items, m.Task, link)
    for raw, task in zip(items, decoded, strict=True):
        if "requiredSlots" in raw:
            assert task.required_slots == int(raw["requiredSlots"])
        if "constraints" in raw and raw["constraints"]["maxWallClockTime"] == MAX_DURATION:
            assert task.constraints is not None
            assert task.constraints.max_wall_clock_time == UNLIMITED
        if "environmentSettings" in raw:
            assert [e.name for e in task.environment_settings] == [
                e["name"] for e in raw["environmentSettings"]
            ]


@settings(max_examples=50, deadline=None)
@given(st.lists(nodes(), max_size=5), _LINKS)
def test_generated_node_pages_decode_with_every_item(
    items: list[dict[str, Any]], link: str | None
) -> None:
    decoded = check_page(items, m.Node, link)
    for raw, node in zip(items, decoded, strict=True):
        if "runningTasksCount" in raw:
            assert node.running_tasks_count == int(raw["runningTasksCount"])
        assert [t.task_state for t in node.recent_tasks] == [
            t["taskState"] for t in raw.get("recentTasks", [])
        ]


@settings(max_examples=50, deadline=None)
@given(st.lists(pools(), max_size=5), _LINKS)
def test_generated_pool_pages_decode_with_every_item(
    items: list[dict[str, Any]], link: str | None
) -> None:
    decoded = check_page(items, m.Pool, link)
    for raw, pool in zip(items, decoded, strict=True):
        if "targetDedicatedNodes" in raw:
            assert pool.target_dedicated_nodes == int(raw["targetDedicatedNodes"])
        if raw.get("resizeTimeout") == "P1D":
            assert pool.resize_timeout == timedelta(days=1)


@st.composite
def spoiled(draw: st.DrawFn, items: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """An item with one known optional field replaced by a value of the wrong JSON type."""
    item = draw(items)
    fields = sorted(
        name for name in item if name not in ("id", "state") and not name.startswith("future")
    )
    if fields:
        item[draw(st.sampled_from(fields))] = draw(
            st.sampled_from([{"no": 1}, [7], "not-a-value", -1.5, True])
        )
    return item


@settings(max_examples=50, deadline=None)
@given(
    st.lists(spoiled(tasks()), max_size=3),
    st.lists(spoiled(nodes()), max_size=3),
    st.lists(spoiled(pools()), max_size=3),
)
def test_items_with_wrongly_typed_fields_keep_their_id_and_state(
    task_items: list[dict[str, Any]],
    node_items: list[dict[str, Any]],
    pool_items: list[dict[str, Any]],
) -> None:
    check_page(task_items, m.Task, None)
    check_page(node_items, m.Node, None)
    check_page(pool_items, m.Pool, None)
