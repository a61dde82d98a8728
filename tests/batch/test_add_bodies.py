"""Tests the Task Add and Job Add bodies: read from edited JSON, built from a task."""

from __future__ import annotations

import json
from itertools import islice

import pytest

from batch_tui.batch.add_bodies import (
    TASK_ADD_PROPERTIES,
    job_add_template,
    named_property,
    parse_job_add,
    parse_task_add,
    property_position,
    rerun_ids,
    task_add_body_from,
    task_add_template,
)
from batch_tui.batch.errors import BatchError, InvalidBody
from batch_tui.batch.models import decode
from batch_tui.batch.models.task import Task

FAILED_TASK = {
    "id": "render-7",
    "displayName": "Render frame 7",
    "url": "https://acct.westus.batch.azure.com/jobs/j/tasks/render-7",
    "eTag": "0x8D",
    "creationTime": "2026-01-02T03:04:05.1234567Z",
    "lastModified": "2026-01-02T03:04:05.1234567Z",
    "state": "completed",
    "stateTransitionTime": "2026-01-02T03:05:05Z",
    "previousState": "running",
    "previousStateTransitionTime": "2026-01-02T03:04:35Z",
    "commandLine": "/bin/sh -c 'render --frame 7'",
    "exitConditions": {
        "exitCodes": [{"code": 3, "exitOptions": {"jobAction": "terminate"}}],
        "exitCodeRanges": [{"start": 10, "end": 20, "exitOptions": {"dependencyAction": "block"}}],
        "default": {"jobAction": "none", "dependencyAction": "satisfy"},
    },
    "containerSettings": {
        "imageName": "contoso/render:1.2",
        "containerRunOptions": "--rm",
        "registry": {"registryServer": "contoso.azurecr.io", "username": "bot"},
        "workingDirectory": "taskWorkingDirectory",
    },
    "resourceFiles": [
        {"httpUrl": "https://store/scene.blend", "filePath": "scene.blend", "fileMode": "0644"}
    ],
    "outputFiles": [
        {
            "filePattern": "*.png",
            "destination": {"container": {"containerUrl": "https://store/out?sas"}},
            "uploadOptions": {"uploadCondition": "tasksuccess"},
        }
    ],
    "environmentSettings": [{"name": "FRAME", "value": "7"}, {"name": "EMPTY"}],
    "affinityInfo": {"affinityId": "TVM-1"},
    "constraints": {
        "maxWallClockTime": "P10675199DT2H48M5.4775807S",
        "retentionTime": "PT1H30M",
        "maxTaskRetryCount": 2,
    },
    "requiredSlots": 2,
    "userIdentity": {"autoUser": {"scope": "pool", "elevationLevel": "admin"}},
    "executionInfo": {
        "startTime": "2026-01-02T03:04:35Z",
        "endTime": "2026-01-02T03:05:05Z",
        "exitCode": 3,
        "result": "failure",
        "retryCount": 2,
        "requeueCount": 0,
        "failureInfo": {"category": "usererror", "code": "FailureExitCode"},
    },
    "nodeInfo": {"poolId": "p", "nodeId": "tvm-1", "affinityId": "TVM-1"},
    "stats": {"url": "x", "readIOps": 3},
    "dependsOn": {"taskIds": ["render-6"], "taskIdRanges": [{"start": 1, "end": 5}]},
}


def failed_task() -> Task:
    return decode(json.dumps(FAILED_TASK).encode(), Task)


def test_a_clone_keeps_what_a_task_add_takes_and_drops_what_the_service_filled_in():
    edited = task_add_body_from(failed_task(), "render-7-rerun-1")
    body = json.loads(edited.text)
    assert set(body) <= set(TASK_ADD_PROPERTIES)
    for read_only in ("url", "eTag", "state", "executionInfo", "nodeInfo", "stats",
                      "creationTime", "lastModified", "previousState"):  # fmt: skip
        assert read_only not in body
    assert body["id"] == "render-7-rerun-1"
    assert body["commandLine"] == FAILED_TASK["commandLine"]
    assert body["exitConditions"] == FAILED_TASK["exitConditions"]
    assert body["containerSettings"] == FAILED_TASK["containerSettings"]
    assert body["resourceFiles"] == FAILED_TASK["resourceFiles"]
    assert body["outputFiles"] == FAILED_TASK["outputFiles"]
    assert body["environmentSettings"] == FAILED_TASK["environmentSettings"]
    assert body["userIdentity"] == FAILED_TASK["userIdentity"]
    assert body["dependsOn"] == FAILED_TASK["dependsOn"]
    assert body["affinityInfo"] == {"affinityId": "TVM-1"}
    assert body["requiredSlots"] == 2
    assert body["displayName"] == "Render frame 7"


def test_a_clone_writes_durations_as_the_service_does_and_drops_unlimited_ones():
    body = json.loads(task_add_body_from(failed_task(), "n").text)
    # An absent maxWallClockTime is no limit; TimeSpan.MaxValue would be an odd thing to edit.
    assert body["constraints"] == {"retentionTime": "PT1H30M", "maxTaskRetryCount": 2}


def test_a_clone_puts_the_cursor_inside_the_command_line():
    edited = task_add_body_from(failed_task(), "n")
    line, column = edited.cursor
    assert edited.text.splitlines()[line][column:].startswith("/bin/sh -c 'render")
    assert list(json.loads(edited.text))[0] == "id"


def test_a_clone_reads_back_as_the_same_body():
    edited = task_add_body_from(failed_task(), "render-7-rerun-1")
    parsed = parse_task_add(edited.text)
    assert parsed.id == "render-7-rerun-1"
    assert parsed.properties == json.loads(edited.text)


def test_a_minimal_task_clones_to_a_minimal_body():
    task = decode(b'{"id": "t1", "commandLine": "true", "state": "active"}', Task)
    assert json.loads(task_add_body_from(task, "t1-rerun-1").text) == {
        "id": "t1-rerun-1",
        "commandLine": "true",
    }


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{\n  "id": "a",\n  "commandLine": "x"\n  "constraints": {}\n}', 4, 3),
        ('{\n  "id": "a",\n  "commandLine": "x",\n}', 4, 1),
        ('{\n  "id": "a",\n  "commandLine": "unterminated\n}', 3, 31),
        ("", 1, 1),
        ('{"id": "a"} x', 1, 13),
    ],
)
def test_a_syntax_error_says_its_line_and_column(text, line, column):
    with pytest.raises(InvalidBody) as caught:
        parse_task_add(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert str(caught.value).startswith(f"line {line}, column {column}: ")
    assert isinstance(caught.value, BatchError)


def test_a_body_that_is_not_an_object_or_has_no_id_is_refused_where_it_is():
    with pytest.raises(InvalidBody) as caught:
        parse_task_add('\n  ["id", "a"]')
    assert (caught.value.line, caught.value.column) == (2, 3)
    assert "JSON object" in caught.value.reason
    with pytest.raises(InvalidBody) as caught:
        parse_task_add('{\n  "commandLine": "x",\n  "id": 7\n}')
    assert (caught.value.line, caught.value.column) == (3, 3)
    with pytest.raises(InvalidBody):
        parse_job_add('{"poolInfo": {"poolId": "p"}}')


def test_what_the_service_checks_is_left_to_the_service():
    # Unknown properties, wrong types, missing command line: the service's 400 names them.
    body = parse_task_add('{"id": "a", "commandLin": 3}')
    assert body.properties == {"id": "a", "commandLin": 3}


def test_a_job_body_names_its_pool():
    body = parse_job_add(job_add_template("job-2", "pool-a").text)
    assert (body.id, body.pool_id) == ("job-2", "pool-a")
    assert parse_job_add('{"id": "j", "poolInfo": {"autoPoolSpecification": {}}}').pool_id is None


def test_the_templates_are_bodies_with_the_cursor_where_one_types():
    task = task_add_template("task-3")
    assert parse_task_add(task.text).properties["commandLine"]
    line, column = task.cursor
    assert task.text.splitlines()[line][column:].startswith("/bin/sh")
    job = job_add_template("job-2", "pool-a")
    line, column = job.cursor
    assert job.text.splitlines()[line][column:].startswith('job-2"')


def test_rerun_ids_count_up_and_fit_the_service_limit():
    assert list(islice(rerun_ids("t1"), 3)) == ["t1-rerun-1", "t1-rerun-2", "t1-rerun-3"]
    assert next(rerun_ids("t1-rerun-4")) == "t1-rerun-5"
    long = next(rerun_ids("x" * 64))
    assert len(long) == 64 and long.endswith("-rerun-1")


def test_property_position_points_at_the_key_not_a_value():
    text = (
        '{\n  "id": "maxTaskRetryCount",\n  "constraints": {\n    "maxTaskRetryCount": -5\n  }\n}'
    )
    assert property_position(text, "maxTaskRetryCount") == (3, 4)
    assert property_position(text, "nothing") is None


def test_the_property_a_400_names():
    assert named_property({"PropertyName": "id", "Reason": "property 'x'"}) == "id"
    reason = "The property 'bogus' does not exist on type 'TaskAddParameter'."
    assert named_property({"Reason": reason}) == "bogus"
    assert named_property({"Reason": "The request body is not valid JSON"}) is None
    assert named_property({}) is None
