"""Property tests: generated JSON of every other model the UI reads decodes exactly.

Jobs, task counts, node counts, file lists, subtasks, job preparation/release status and
remote login settings, in the spec's shapes, with unknown fields in every nested object,
unknown enum values, missing or null optionals and numbers sent as strings
(`strategies.py` has the generators and the check). Tasks, nodes and pools are in
`test_model_properties.py`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_tui.batch import models as m
from batch_tui.batch._files import file_info
from batch_tui.batch.models import decode, decode_page
from tests.batch.strategies import (
    BOOLS,
    CATEGORIES,
    CPU_AND_IO,
    DURATIONS,
    ENTITY_STAMPS,
    ENVIRONMENT,
    INT32,
    INT64,
    LINKS,
    METADATA,
    NAME_VALUE_PAIRS,
    NODE_INFO,
    RUN_OUTCOME,
    RUN_STATES,
    SLOW,
    STATS_STAMPS,
    TASK_CONSTRAINTS,
    TEXT,
    Pair,
    Pairs,
    assert_decoded,
    check_items,
    integers,
    obj,
    spoiled,
    states,
    timestamps,
)

JOB_STATES = ("active", "disabling", "disabled", "enabling", "terminating", "completed", "deleting")
SUBTASK_STATES = ("preparing", "running", "completed")

JOB_STATS = obj(
    m.JobStatistics,
    STATS_STAMPS,
    {
        **CPU_AND_IO,
        "numSucceededTasks": INT64,
        "numFailedTasks": INT64,
        "numTaskRetries": INT64,
        "waitTime": DURATIONS,
    },
)
JOB_EXECUTION_INFO = obj(
    m.JobExecutionInfo,
    {"startTime": timestamps()},
    {
        "endTime": timestamps(),
        "poolId": TEXT,
        "schedulingError": obj(
            m.JobSchedulingError,
            {"category": states(*CATEGORIES)},
            {"code": TEXT, "message": TEXT, "details": NAME_VALUE_PAIRS},
        ),
        "terminateReason": states("UserTerminate", "MaxWallClockTimeExpiry", "TaskFailed"),
    },
)
AUTO_POOL = obj(
    m.AutoPoolSpecification,
    {"poolLifetimeOption": states("jobschedule", "job")},
    {
        "autoPoolIdPrefix": TEXT,
        "keepAlive": BOOLS,
        "pool": obj(
            m.PoolSpecification,
            {"vmSize": TEXT},
            {
                "taskSlotsPerNode": INT32,
                "targetDedicatedNodes": INT32,
                "targetLowPriorityNodes": INT32,
                "enableAutoScale": BOOLS,
                "resizeTimeout": DURATIONS,
                "metadata": METADATA,
            },
        ),
    },
)
JOBS = obj(
    m.Job,
    {"id": TEXT, "state": states(*JOB_STATES)},
    {
        "displayName": TEXT,
        "usesTaskDependencies": BOOLS,
        **ENTITY_STAMPS,
        "previousState": states(*JOB_STATES),
        "previousStateTransitionTime": timestamps(),
        "priority": INT32,
        "allowTaskPreemption": BOOLS,
        "maxParallelTasks": INT32,
        "constraints": obj(
            m.JobConstraints, {}, {"maxWallClockTime": DURATIONS, "maxTaskRetryCount": INT32}
        ),
        "jobManagerTask": obj(
            m.JobManagerTask,
            {"id": TEXT, "commandLine": TEXT},
            {
                "displayName": TEXT,
                "constraints": TASK_CONSTRAINTS,
                "requiredSlots": INT32,
                "killJobOnCompletion": BOOLS,
                "runExclusive": BOOLS,
                "allowLowPriorityNode": BOOLS,
                "environmentSettings": ENVIRONMENT,
            },
        ),
        "jobPreparationTask": obj(
            m.JobPreparationTask,
            {"commandLine": TEXT},
            {
                "id": TEXT,
                "constraints": TASK_CONSTRAINTS,
                "waitForSuccess": BOOLS,
                "rerunOnNodeRebootAfterSuccess": BOOLS,
            },
        ),
        "jobReleaseTask": obj(
            m.JobReleaseTask,
            {"commandLine": TEXT},
            {"id": TEXT, "maxWallClockTime": DURATIONS, "retentionTime": DURATIONS},
        ),
        "commonEnvironmentSettings": ENVIRONMENT,
        "poolInfo": obj(
            m.PoolInformation, {}, {"poolId": TEXT, "autoPoolSpecification": AUTO_POOL}
        ),
        "onAllTasksComplete": states("noaction", "terminatejob"),
        "onTaskFailure": states("noaction", "performexitoptionsjobaction"),
        "networkConfiguration": obj(
            m.JobNetworkConfiguration, {"subnetId": TEXT}, {"skipWithdrawFromVNet": BOOLS}
        ),
        "metadata": METADATA,
        "executionInfo": JOB_EXECUTION_INFO,
        "stats": JOB_STATS,
    },
)


def _counts(type_: type[Any], names: list[str]) -> Pairs:
    return obj(type_, {}, dict.fromkeys(names, INT32))


TASK_COUNTS_RESULTS = obj(
    m.TaskCountsResult,
    {},
    {
        "taskCounts": _counts(
            m.TaskCounts, ["active", "running", "completed", "succeeded", "failed"]
        ),
        "taskSlotCounts": _counts(
            m.TaskSlotCounts, ["active", "running", "completed", "succeeded", "failed"]
        ),
    },
)
_NODE_COUNT_NAMES = (
    "creating idle offline preempted rebooting reimaging running starting startTaskFailed "
    "leavingPool unknown unusable waitingForStartTask upgradingOS deallocated deallocating total"
).split()
POOL_NODE_COUNTS = obj(
    m.PoolNodeCounts,
    {"poolId": TEXT},
    {
        "dedicated": _counts(m.NodeCounts, _NODE_COUNT_NAMES),
        "lowPriority": _counts(m.NodeCounts, _NODE_COUNT_NAMES),
    },
)

WINDOWS_NAMES = st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=3).map("\\".join)
FILES = obj(
    m.NodeFile,
    {
        "name": TEXT | WINDOWS_NAMES.map(lambda name: (name, name)),
        "url": TEXT,
        "isDirectory": BOOLS,
    },
    {
        "properties": obj(
            m.FileProperties,
            {"lastModified": timestamps(), "contentLength": integers(0, 2**63 - 1) | INT64},
            {"creationTime": timestamps(), "contentType": TEXT, "fileMode": TEXT},
        )
    },
)

SUBTASKS = obj(
    m.Subtask,
    {"id": INT32},
    {
        "nodeInfo": NODE_INFO,
        **RUN_OUTCOME,
        "state": states(*SUBTASK_STATES),
        "stateTransitionTime": timestamps(),
        "previousState": states(*SUBTASK_STATES),
        "previousStateTransitionTime": timestamps(),
    },
)

_RUN = {**RUN_OUTCOME, "taskRootDirectory": TEXT, "taskRootDirectoryUrl": TEXT}
PREP_RELEASE = obj(
    m.JobPrepReleaseStatus,
    {},
    {
        "poolId": TEXT,
        "nodeId": TEXT,
        "nodeUrl": TEXT,
        "jobPreparationTaskExecutionInfo": obj(
            m.JobPreparationTaskExecutionInfo,
            {"state": states(*RUN_STATES), "retryCount": INT32},
            {**_RUN, "lastRetryTime": timestamps()},
        ),
        "jobReleaseTaskExecutionInfo": obj(
            m.JobReleaseTaskExecutionInfo, {"state": states(*RUN_STATES)}, _RUN
        ),
    },
)
REMOTE_LOGIN = obj(
    m.RemoteLoginSettings, {"remoteLoginIPAddress": TEXT, "remoteLoginPort": INT32}, {}
)


@pytest.mark.parametrize(
    ("entities", "model", "most"),
    [
        (JOBS, m.Job, 3),
        (POOL_NODE_COUNTS, m.PoolNodeCounts, 3),
        (FILES, m.NodeFile, 4),
        (PREP_RELEASE, m.JobPrepReleaseStatus, 3),
    ],
)
@settings(max_examples=40, deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_generated_pages_of_other_models_decode_exactly(
    entities: Any, model: type[Any], most: int, data: st.DataObject
) -> None:
    """Pages of jobs, node counts, files and prep/release statuses decode to exactly what
    was sent."""
    items = data.draw(st.lists(entities, max_size=most))
    check_items(items, model, data.draw(LINKS))


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW)
@given(st.lists(SUBTASKS, max_size=3))
def test_generated_subtask_lists_decode_exactly(items: list[Pair]) -> None:
    check_items(items, m.Subtask)  # `subtasksinfo` is `{"value": [...]}` without a next link


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW)
@given(TASK_COUNTS_RESULTS, REMOTE_LOGIN)
def test_generated_single_entities_decode_exactly(counts: Pair, login: Pair) -> None:
    for (wire, want), type_ in ((counts, m.TaskCountsResult), (login, m.RemoteLoginSettings)):
        assert_decoded(decode(json.dumps(wire).encode(), type_), want)


KINDS: list[tuple[type[Any], Pairs]] = [
    (m.Job, JOBS),
    (m.PoolNodeCounts, POOL_NODE_COUNTS),
    (m.NodeFile, FILES),
    (m.Subtask, SUBTASKS),
    (m.JobPrepReleaseStatus, PREP_RELEASE),
]


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW)
@given(
    st.sampled_from(KINDS).flatmap(
        lambda kind: st.tuples(
            st.just(kind[0]), st.lists(kind[1], max_size=2), spoiled(kind[1]), st.lists(kind[1])
        )
    )
)
def test_one_odd_item_never_fails_a_page(
    page: tuple[type[Any], list[Pair], Pair, list[Pair]],
) -> None:
    kind, before, odd, after = page
    check_items([*before, odd, *after], kind)


# --- Bugs these properties found, pinned as examples ---------------------------------------


def test_a_bad_value_inside_a_dict_field_drops_that_field_not_the_item() -> None:
    body = {"value": [{"id": "p1", "state": "active", "resourceTags": {"team": 7}}]}
    [pool] = decode_page(json.dumps(body).encode(), m.Pool).value
    assert (pool.id, pool.state, pool.resource_tags) == ("p1", "active", None)


def test_a_time_that_rounds_past_the_year_9999_is_clamped_not_dropped() -> None:
    body = b'{"id": "j1", "creationTime": "9999-12-31T23:59:59.9999995Z"}'
    created = decode(body, m.Job).creation_time
    assert created == datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)


# --- The live service's number quirks, each asserted by value ----------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW)
@given(
    st.integers(0, 2**53) | st.sampled_from([0, 2**31, 2**32 + 1, 2**53]),
    st.integers(-(2**31), 2**31 - 1) | st.sampled_from([-1073741510, -1, 2**31 - 1]),
    st.floats(allow_nan=False, allow_infinity=False),
)
def test_numbers_sent_as_strings_keep_their_value(length: int, exit_code: int, gib: float) -> None:
    """``contentLength`` as a string up to 2^53 (the recordings' quirk), ``exitCode`` as a
    string (negative on Windows), doubles as strings in .NET's upper-case exponent form."""
    files = {"value": [{"name": "a", "properties": {"contentLength": str(length)}}]}
    [file] = decode_page(json.dumps(files).encode(), m.NodeFile).value
    assert file.properties is not None and file.properties.content_length == length
    task = {"id": "t", "executionInfo": {"exitCode": str(exit_code), "retryCount": "0"}}
    info = decode(json.dumps(task).encode(), m.Task).execution_info
    assert info is not None and info.exit_code == exit_code
    stats = {"readIOGiB": repr(gib).upper(), "writeIOGiB": repr(gib), "readIOps": str(length)}
    decoded = decode(json.dumps({"id": "j", "stats": stats}).encode(), m.Job).stats
    assert decoded is not None
    assert (decoded.read_io_gib, decoded.write_io_gib, decoded.read_iops) == (gib, gib, length)


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW)
@given(
    st.booleans(),
    st.sampled_from([str, str.lower, str.upper, lambda text: f" {text} "]),
    st.integers(0, 2**53),
    st.text(min_size=1, max_size=20),
    st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=st.just(timezone.utc)),
)
def test_file_property_headers_decode_as_the_live_service_sends_them(
    is_directory: bool, spell: Any, length: int, name: str, when: datetime
) -> None:
    """HEAD of a file: ``ocp-batch-file-isdirectory: False`` (.NET's spelling), the URL
    percent-encoded whole, dates in RFC 1123 (whole seconds)."""
    when = when.replace(microsecond=0)
    url = f"https://a.westus.batch.azure.com/jobs/j/tasks/t/files/{quote(name, safe='')}"
    headers = httpx.Headers(
        {
            "ocp-batch-file-isdirectory": spell(str(is_directory)),
            "ocp-batch-file-url": quote(url, safe=""),
            "Content-Length": str(length),
            "Content-Type": "text/plain",
            "Last-Modified": format_datetime(when, usegmt=True),
            "ocp-creation-time": format_datetime(when, usegmt=True),
        }
    )
    assert file_info(headers) == m.FileInfo(
        url=url,
        is_directory=is_directory,
        content_length=length,
        content_type="text/plain",
        last_modified=when,
        creation_time=when,
    )
