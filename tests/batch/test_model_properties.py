"""Property tests: generated task, node and pool JSON decodes to exactly what was sent.

`test_model_decoding.py` pins single quirks (one odd item, durations, 7-digit timestamps);
these tests mix them all at random in whole pages in the shapes of the spec's
`CloudTaskListResult`, `ComputeNodeListResult` and `CloudPoolListResult`, with unknown fields
in every nested object, and assert every decoded value (`strategies.assert_decoded`).
The other models the UI reads are in `test_prop_models.py`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_tui.batch import models as m
from batch_tui.batch.models import decode
from tests.batch.strategies import (
    BOOLS,
    CPU_AND_IO,
    DURATIONS,
    ENTITY_STAMPS,
    ENVIRONMENT,
    FLOATS,
    INT32,
    INT64,
    LINKS,
    METADATA,
    NAME_VALUE_PAIRS,
    NODE_INFO,
    RESULTS,
    RUN_OUTCOME,
    RUN_STATES,
    SLOW,
    STATS_STAMPS,
    TASK_CONSTRAINTS,
    TASK_EXECUTION_INFO,
    TASK_STATES,
    TEXT,
    Pair,
    check_items,
    lists,
    obj,
    same,
    spoiled,
    states,
    timestamps,
    unknown_state,
)

NODE_STATES = ("idle", "running", "starting", "starttaskfailed", "unusable", "leavingpool")
POOL_STATES = ("active", "deleting")
ALLOCATION_STATES = ("steady", "resizing", "stopping")

TASK_STATS = obj(
    m.TaskStatistics,
    STATS_STAMPS,
    {
        **CPU_AND_IO,
        "waitTime": DURATIONS,
    },
)
TASKS = obj(
    m.Task,
    {"id": TEXT, "state": states(*TASK_STATES)},
    {
        "displayName": TEXT,
        **ENTITY_STAMPS,
        "previousState": states(*TASK_STATES),
        "previousStateTransitionTime": timestamps(),
        "commandLine": TEXT,
        "requiredSlots": INT32,
        "constraints": TASK_CONSTRAINTS,
        "executionInfo": TASK_EXECUTION_INFO,
        "nodeInfo": NODE_INFO,
        "environmentSettings": ENVIRONMENT,
        "affinityInfo": obj(m.AffinityInfo, {"affinityId": TEXT}),
        "multiInstanceSettings": obj(
            m.MultiInstanceSettings, {"coordinationCommandLine": TEXT}, {"numberOfInstances": INT32}
        ),
        "dependsOn": obj(
            m.TaskDependencies,
            {},
            {
                "taskIds": lists(TEXT),
                "taskIdRanges": lists(obj(m.TaskIdRange, {"start": INT32, "end": INT32})),
            },
        ),
        "stats": TASK_STATS,
    },
)

START_TASK_INFO = obj(
    m.StartTaskInfo,
    {"state": states(*RUN_STATES), "retryCount": INT32},
    {**RUN_OUTCOME, "lastRetryTime": timestamps()},
)
INBOUND_ENDPOINTS = lists(
    obj(
        m.InboundEndpoint,
        {
            "name": TEXT,
            "protocol": states("tcp", "udp"),
            "frontendPort": INT32,
            "backendPort": INT32,
        },
        {"publicIPAddress": TEXT, "publicFQDN": TEXT},
    )
)
IMAGE_REFERENCE = obj(
    m.ImageReference,
    {},
    {"publisher": TEXT, "offer": TEXT, "sku": TEXT, "version": TEXT, "exactVersion": TEXT},
)
NODES = obj(
    m.Node,
    {"id": TEXT, "state": states(*NODE_STATES)},
    {
        "url": TEXT,
        "schedulingState": states("enabled", "disabled"),
        "stateTransitionTime": timestamps(),
        "lastBootTime": timestamps(),
        "allocationTime": timestamps(),
        "ipAddress": TEXT,
        "affinityId": TEXT,
        "vmSize": TEXT,
        "totalTasksRun": INT32,
        "runningTasksCount": INT32,
        "runningTaskSlotsCount": INT32,
        "totalTasksSucceeded": INT32,
        "isDedicated": BOOLS,
        "recentTasks": lists(
            obj(
                m.RecentTask,
                {"taskState": states(*TASK_STATES)},
                {
                    "taskUrl": TEXT,
                    "jobId": TEXT,
                    "taskId": TEXT,
                    "subtaskId": INT32,
                    "executionInfo": TASK_EXECUTION_INFO,
                },
            )
        ),
        "startTaskInfo": START_TASK_INFO,
        "errors": lists(
            obj(m.NodeError, {}, {"code": TEXT, "message": TEXT, "errorDetails": NAME_VALUE_PAIRS}),
            max_size=2,
        ),
        "endpointConfiguration": obj(
            m.NodeEndpointConfiguration, {}, {"inboundEndpoints": INBOUND_ENDPOINTS}
        ),
        "nodeAgentInfo": obj(m.NodeAgentInfo, {"version": TEXT, "lastUpdateTime": timestamps()}),
        "virtualMachineInfo": obj(
            m.VirtualMachineInfo,
            {},
            {"imageReference": IMAGE_REFERENCE, "scaleSetVmResourceId": TEXT},
        ),
    },
)

ERRORS_WITH_VALUES = {"code": TEXT}, {"message": TEXT, "values": NAME_VALUE_PAIRS}
RESOURCE_STATS = obj(
    m.ResourceStatistics,
    {"startTime": timestamps(), "lastUpdateTime": timestamps()},
    {
        "avgCPUPercentage": FLOATS,
        "avgMemoryGiB": FLOATS,
        "peakMemoryGiB": FLOATS,
        "avgDiskGiB": FLOATS,
        "peakDiskGiB": FLOATS,
        "diskReadIOps": INT64,
        "diskWriteIOps": INT64,
        "diskReadGiB": FLOATS,
        "diskWriteGiB": FLOATS,
        "networkReadGiB": FLOATS,
        "networkWriteGiB": FLOATS,
    },
)
POOL_STATS = obj(
    m.PoolStatistics,
    {"url": TEXT, "startTime": timestamps(), "lastUpdateTime": timestamps()},
    {
        "usageStats": obj(
            m.UsageStatistics,
            {"startTime": timestamps(), "lastUpdateTime": timestamps()},
            {"dedicatedCoreTime": DURATIONS},
        ),
        "resourceStats": RESOURCE_STATS,
    },
)
POOLS = obj(
    m.Pool,
    {"id": TEXT, "state": states(*POOL_STATES)},
    {
        "displayName": TEXT,
        **ENTITY_STAMPS,
        "allocationState": states(*ALLOCATION_STATES),
        "allocationStateTransitionTime": timestamps(),
        "vmSize": TEXT,
        "resizeTimeout": DURATIONS,
        "resizeErrors": lists(obj(m.ResizeError, *ERRORS_WITH_VALUES), max_size=2),
        "currentDedicatedNodes": INT32,
        "currentLowPriorityNodes": INT32,
        "targetDedicatedNodes": INT32,
        "targetLowPriorityNodes": INT32,
        "enableAutoScale": BOOLS,
        "autoScaleFormula": TEXT,
        "autoScaleEvaluationInterval": DURATIONS,
        "autoScaleRun": obj(
            m.AutoScaleRun,
            {"timestamp": timestamps()},
            {"results": TEXT, "error": obj(m.AutoScaleRunError, *ERRORS_WITH_VALUES)},
        ),
        "enableInterNodeCommunication": BOOLS,
        "taskSlotsPerNode": INT32,
        "metadata": METADATA,
        "stats": POOL_STATS,
        "targetNodeCommunicationMode": states("default", "classic", "simplified"),
        "currentNodeCommunicationMode": states("default", "classic", "simplified"),
        "resourceTags": same(st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2)),
    },
)


@pytest.mark.parametrize(
    ("entities", "model", "most"), [(TASKS, m.Task, 3), (NODES, m.Node, 3), (POOLS, m.Pool, 3)]
)
@settings(max_examples=40, deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_generated_pages_decode_exactly(
    entities: Any, model: type[Any], most: int, data: st.DataObject
) -> None:
    """Pages of tasks, nodes and pools decode to exactly what was sent."""
    items = data.draw(st.lists(entities, max_size=most))
    check_items(items, model, data.draw(LINKS))


@settings(max_examples=30, deadline=None, suppress_health_check=SLOW)
@given(
    st.lists(TASKS, max_size=2),
    spoiled(TASKS),
    st.lists(TASKS, max_size=2),
    st.sampled_from([(m.Task, TASKS), (m.Node, NODES), (m.Pool, POOLS)]).flatmap(
        lambda kind: st.tuples(st.just(kind[0]), st.lists(spoiled(kind[1]), max_size=2))
    ),
)
def test_one_odd_item_never_fails_a_page(
    before: list[Pair], odd: Pair, after: list[Pair], others: tuple[type[Any], list[Pair]]
) -> None:
    """An item with a field of the wrong JSON type keeps every other field, and so do its
    neighbours on the page."""
    check_items([*before, odd, *after], m.Task)
    check_items(others[1], others[0])


@settings(max_examples=30, deadline=None, suppress_health_check=SLOW)
@given(
    unknown_state(*NODE_STATES, "enabled", "disabled", "running", "completed"),
    unknown_state(*POOL_STATES, *ALLOCATION_STATES),
    unknown_state(*TASK_STATES, *RESULTS, "usererror", "servererror"),
)
def test_unknown_enum_values_decode_verbatim(
    node_state: str, pool_state: str, task_state: str
) -> None:
    """Every state and enum-like field the UI reads keeps a value the spec does not list."""
    node = decode(
        json.dumps(
            {
                "id": "n",
                "state": node_state,
                "schedulingState": node_state,
                "startTaskInfo": {"state": node_state, "result": node_state},
            }
        ).encode(),
        m.Node,
    )
    assert (node.state, node.scheduling_state) == (node_state, node_state)
    assert node.start_task_info == m.StartTaskInfo(state=node_state, result=node_state)
    pool = decode(json.dumps({"state": pool_state, "allocationState": pool_state}).encode(), m.Pool)
    assert (pool.state, pool.allocation_state) == (pool_state, pool_state)
    info = {"result": task_state, "failureInfo": {"category": task_state}}
    body = {"state": task_state, "previousState": task_state, "executionInfo": info}
    task = decode(json.dumps(body).encode(), m.Task)
    assert (task.state, task.previous_state) == (task_state, task_state)
    assert task.execution_info == m.TaskExecutionInfo(
        result=task_state, failure_info=m.TaskFailureInfo(category=task_state)
    )
