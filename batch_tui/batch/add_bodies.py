"""Provides the bodies of Task Add and Job Add: read from the JSON a person edited, built from
a task (to run it again after a fix) or from a template.

The service validates a body, and its 400 names the property and the reason; this module
only reads the JSON, so that a syntax error is shown at its line and column before anything
is sent, and finds the id a confirmation names. Nothing here sends a request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import msgspec

from batch_tui.batch._actions import iso_duration
from batch_tui.batch.durations import is_unlimited
from batch_tui.batch.errors import InvalidBody
from batch_tui.batch.models.task import Task

TASK_ADD_PROPERTIES: Final = (
    "id", "displayName", "commandLine", "containerSettings", "exitConditions",
    "resourceFiles", "outputFiles", "environmentSettings", "affinityInfo", "constraints",
    "requiredSlots", "userIdentity", "multiInstanceSettings", "dependsOn",
    "applicationPackageReferences", "authenticationTokenSettings",
)  # fmt: skip
"""The properties of a Task Add body (``TaskAddParameter``, api-version 2024-07-01.20.0), in
the spec's order. What else a task carries (state, times, execution and node information,
statistics, url, ETag) is the service's, and a Task Add with it is refused."""

MAX_ID_LENGTH: Final = 64
"""The service's limit on a task's or a job's id."""

INDENT: Final = 2
"""Spaces per level of the JSON in the editor."""

_RERUN: Final = re.compile(r"(?P<base>.+)-rerun-(?P<n>[0-9]+)")


@dataclass(frozen=True)
class TaskAddBody:
    """A Task Add body as edited; the service checks its properties.

    Attributes:
        id: The new task's id.
        properties: The JSON object, as the text spelled it.
    """

    id: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class JobAddBody:
    """A Job Add body as edited; the service checks its properties.

    Attributes:
        id: The new job's id.
        pool_id: ``poolInfo.poolId``, or None (an auto pool, or none given).
        properties: The JSON object, as the text spelled it.
    """

    id: str
    pool_id: str | None
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class EditorText:
    """A body to start editing from, and where the cursor goes first.

    Attributes:
        text: The JSON, indented.
        cursor: (line, column), 0-based: on the value a person most likely changes.
    """

    text: str
    cursor: tuple[int, int]


def _parse_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidBody(error.msg, error.lineno, error.colno) from None
    except RecursionError:
        raise InvalidBody("nested too deeply") from None
    if not isinstance(value, dict):
        line, column = _first_character(text)
        raise InvalidBody("the body must be a JSON object: { ... }", line, column)
    return value


def _first_character(text: str) -> tuple[int, int]:
    """Where the first non-blank character of `text` is (1-based line and column)."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        if stripped:
            return number, len(line) - len(stripped) + 1
    return 1, 1


def _required_id(text: str, body: Mapping[str, Any]) -> str:
    value = body.get("id")
    if isinstance(value, str) and value.strip():
        return value
    position = property_position(text, "id")
    line, column = (position[0] + 1, position[1] + 1) if position else _first_character(text)
    raise InvalidBody('"id" must be a string: the new id', line, column)


def parse_task_add(text: str) -> TaskAddBody:
    """Reads a Task Add body from the editor's text.

    Raises:
        InvalidBody: Not JSON (with the line and column of the fault), not a JSON object,
            or no string ``id``.
    """
    body = _parse_object(text)
    return TaskAddBody(_required_id(text, body), body)


def parse_job_add(text: str) -> JobAddBody:
    """Reads a Job Add body from the editor's text.

    Raises:
        InvalidBody: Not JSON (with the line and column of the fault), not a JSON object,
            or no string ``id``.
    """
    body = _parse_object(text)
    pool_info = body.get("poolInfo")
    pool_id = pool_info.get("poolId") if isinstance(pool_info, dict) else None
    return JobAddBody(_required_id(text, body), pool_id if isinstance(pool_id, str) else None, body)


def _durations(value: Any) -> Any:
    """Writes durations as the service does (``PT1H``), and drops "unlimited" ones: an absent
    ``maxWallClockTime`` means no limit, and .NET's ``TimeSpan.MaxValue`` is unreadable."""
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, dict):
        return {
            key: _durations(item)
            for key, item in value.items()
            if not (isinstance(item, timedelta) and is_unlimited(item))
        }
    if isinstance(value, list):
        return [_durations(item) for item in value]
    return value


def task_add_properties(task: Task) -> dict[str, Any]:
    """The Task Add body of a task as the service returned it: only what a Task Add takes.

    Fields the service fills in (state, times, execution and node information, statistics,
    url, ETag) are dropped, and so are empty lists and values left at their defaults.
    """
    encoded = msgspec.to_builtins(task, builtin_types=(timedelta,))
    return {name: _durations(encoded[name]) for name in TASK_ADD_PROPERTIES if name in encoded}


def _dump(body: Mapping[str, Any]) -> str:
    return json.dumps(body, indent=INDENT, ensure_ascii=False) + "\n"


def _cursor_on(text: str, name: str) -> tuple[int, int]:
    """Where the value of the first property `name` starts (inside its quotes for a string)."""
    position = property_position(text, name)
    if position is None:
        return (0, 0)
    line, column = position
    rest = text.splitlines()[line][column:]
    after_colon = rest.index(":") + 1
    value = rest[after_colon:]
    offset = after_colon + len(value) - len(value.lstrip())
    if value.lstrip().startswith('"'):
        offset += 1
    return line, column + offset


def task_add_body_from(task: Task, new_id: str) -> EditorText:
    """The body to clone `task` into a new task `new_id`, the cursor on its command line.

    Args:
        task: The task as the service returned it (a full GET, not a ``$select``).
        new_id: The new task's id (see `rerun_ids`).
    """
    properties = task_add_properties(task)
    properties["id"] = new_id
    properties.setdefault("commandLine", "")
    text = _dump(properties)
    return EditorText(text, _cursor_on(text, "commandLine"))


def task_add_template(task_id: str) -> EditorText:
    """A Task Add body to start from: the properties most tasks set, the cursor on the
    command line."""
    body = {
        "id": task_id,
        "commandLine": "/bin/sh -c 'echo hello'",
        "environmentSettings": [{"name": "GREETING", "value": "hello"}],
        "resourceFiles": [],
        "constraints": {"maxWallClockTime": "PT1H", "maxTaskRetryCount": 0},
        "exitConditions": {"default": {"jobAction": "none"}},
    }
    text = _dump(body)
    return EditorText(text, _cursor_on(text, "commandLine"))


def job_add_template(job_id: str, pool_id: str) -> EditorText:
    """A Job Add body to start from, on an existing pool, the cursor on its id."""
    body = {
        "id": job_id,
        "poolInfo": {"poolId": pool_id},
        "priority": 0,
        "constraints": {"maxTaskRetryCount": 0},
        "onAllTasksComplete": "noaction",
        "usesTaskDependencies": False,
    }
    text = _dump(body)
    return EditorText(text, _cursor_on(text, "id"))


def rerun_ids(task_id: str) -> Iterator[str]:
    """The ids to propose for a rerun of `task_id`, first to last: ``<id>-rerun-1``,
    ``-rerun-2`` ... (a rerun of ``t-rerun-2`` goes on with ``t-rerun-3``). Each fits the
    service's 64 characters: the base is cut short if need be."""
    match = _RERUN.fullmatch(task_id)
    base, start = (match["base"], int(match["n"]) + 1) if match else (task_id, 1)
    number = start
    while True:
        suffix = f"-rerun-{number}"
        yield base[: MAX_ID_LENGTH - len(suffix)] + suffix
        number += 1


_QUOTED_PROPERTY: Final = re.compile(r"property '([^']+)'")


def named_property(values: Mapping[str, str]) -> str | None:
    """The property a 400's values name: ``PropertyName`` (InvalidPropertyValue,
    MissingRequiredProperty), else the one an InvalidRequestBody's ``Reason`` quotes
    ("The property 'bogus' does not exist on type ...")."""
    if values.get("PropertyName"):
        return values["PropertyName"]
    found = _QUOTED_PROPERTY.search(values.get("Reason", ""))
    return found.group(1) if found else None


def property_position(text: str, name: str) -> tuple[int, int] | None:
    """Where a property's name first appears as a key in `text`: (line, column), 0-based,
    on its opening quote; None when it does not. Points at the property a 400 names."""
    pattern = re.compile(r'"' + re.escape(name) + r'"\s*:')
    for number, line in enumerate(text.splitlines()):
        found = pattern.search(line)
        if found:
            return number, found.start()
    return None
