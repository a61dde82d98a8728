"""Tests that each api-version's request schemas say what their sources say, property by property.

`validation/schemas.py` is written by hand (compactly) from the sources, not generated: the
emulator ships no spec. These tests keep it honest. The 2024-07-01.20.0 schemas are compared with
the spec in `shared/spec` (required properties, types, enum values). The 2025-06-01 schemas are
compared with the models of the installed `azure-batch` 15.x, the SDK generated from the
2025-06-01 TypeSpec: the properties a request may carry (not the read-only ones), whether each is
required, and their types.
"""

from __future__ import annotations

import datetime
import enum
import json
import types
import typing
from typing import Any

from azure.batch import models as sdk_models
from azure.batch._utils.model_base import Model, _RestField
from azure.batch.models import _enums as sdk_enums
from azure.batch.models import _models as sdk_model_module

from batch_tui.emulator.validation.schemas import API_2024, API_2025, Field, schemas_for
from tests.emulator.support import SHARED

SPEC = SHARED / "spec" / "batch-2024-07-01.20.0" / "BatchService.json"

SDK_ROOTS = {
    "PoolAddParameter": "BatchPoolCreateOptions",
    "PoolPatchParameter": "BatchPoolUpdateOptions",
    "PoolUpdatePropertiesParameter": "BatchPoolReplaceOptions",
    "PoolResizeParameter": "BatchPoolResizeOptions",
    "PoolEnableAutoScaleParameter": "BatchPoolEnableAutoScaleOptions",
    "PoolEvaluateAutoScaleParameter": "BatchPoolEvaluateAutoScaleOptions",
    "NodeRemoveParameter": "BatchNodeRemoveOptions",
    "JobAddParameter": "BatchJobCreateOptions",
    "JobPatchParameter": "BatchJobUpdateOptions",
    "JobUpdateParameter": "BatchJob",
    "JobDisableParameter": "BatchJobDisableOptions",
    "JobTerminateParameter": "BatchJobTerminateOptions",
    "TaskAddParameter": "BatchTaskCreateOptions",
    "TaskAddCollectionParameter": "BatchTaskGroup",
    "TaskUpdateParameter": "BatchTask",
    "ComputeNodeUser": "BatchNodeUserCreateOptions",
    "NodeUpdateUserParameter": "BatchNodeUserReplaceOptions",
    "NodeRebootParameter": "BatchNodeRebootOptions",
    "NodeReimageParameter": "BatchNodeReimageOptions",
    "NodeDeallocateParameter": "BatchNodeDeallocateOptions",
    "NodeDisableSchedulingParameter": "BatchNodeDisableSchedulingOptions",
    "UploadBatchServiceLogsConfiguration": "UploadBatchServiceLogsOptions",
    "JobScheduleAddParameter": "BatchJobScheduleCreateOptions",
    "JobSchedulePatchParameter": "BatchJobScheduleUpdateOptions",
    "JobScheduleUpdateParameter": "BatchJobSchedule",
}
"""Each request body of the emulator and the SDK model it is sent as (15.x renamed them all; a
PUT sends the entity's own model, whose writable properties are the body)."""

KNOWN_DIFFERENCES = {
    ("ImageReference", "exactVersion"): "read-only in both versions' sources; accepted and ignored",
    ("VMExtension", "settings"): "the SDK types it as a string map; the service takes any JSON "
    "object (the 20.0 spec's type), so nested extension settings keep working",
    ("VMExtension", "protectedSettings"): "as settings",
}
"""Where the emulator knowingly differs from the SDK's 2025-06-01 models, and why."""

_SCALARS: dict[Any, str] = {
    str: "str",
    int: "int",
    float: "num",
    bool: "bool",
    datetime.timedelta: "dur",
    datetime.datetime: "dt",
}


def _enum_type(cls: type[enum.Enum]) -> str:
    return "enum:" + "|".join(str(member.value) for member in cls)


def _sdk_type(annotation: Any) -> tuple[str, bool]:
    """The schema type of an SDK annotation, and whether it is optional."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Union:
        kinds = [a for a in args if a is not type(None)]
        optional = len(kinds) < len(args)
        enums = [a for a in kinds if isinstance(a, type) and issubclass(a, enum.Enum)]
        if enums:
            return _enum_type(enums[0]), optional
        return _sdk_type(kinds[0])[0], optional
    if origin is list:
        return f"[{_sdk_type(args[0])[0]}]", False
    if origin is dict:
        return "{str}", False
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation.__name__, False
    return _SCALARS[annotation], False


def _sdk_class(name: str) -> type[Model]:
    found = getattr(sdk_models, name, None) or getattr(sdk_model_module, name)
    assert isinstance(found, type)
    return found


def _sdk_fields(cls: type[Model]) -> dict[str, tuple[str, bool]]:
    """A model's writable wire properties: name -> (type, required)."""
    namespace = dict(vars(sdk_model_module))
    namespace["_models"] = types.SimpleNamespace(**{**vars(sdk_models), "_enums": sdk_enums})
    hints = typing.get_type_hints(cls, namespace)
    out: dict[str, tuple[str, bool]] = {}
    for klass in reversed(cls.__mro__):
        for attr, field in vars(klass).items():
            if not isinstance(field, _RestField):
                continue
            visibility = field._visibility
            if visibility is not None and not {"create", "update"} & set(visibility):
                continue
            type_, optional = _sdk_type(hints[attr])
            out[field._rest_name_input or attr] = (type_, not optional)
    return out


def _base(type_: str) -> str:
    return type_.strip("[]")


def _compare_sdk(
    ours: dict[str, dict[str, Field]], name: str, model: str, seen: set[str], problems: list[str]
) -> None:
    if name in seen:
        return
    seen.add(name)
    theirs = _sdk_fields(_sdk_class(model))
    fields = ours[name]
    for prop in sorted(set(theirs) | set(fields)):
        if (name, prop) in KNOWN_DIFFERENCES:
            continue
        if prop not in fields or prop not in theirs:
            where = "the SDK" if prop in theirs else "the emulator"
            problems.append(f"{name}.{prop}: only {where} has it")
            continue
        their_type, required = theirs[prop]
        field = fields[prop]
        if field.required != required:
            problems.append(f"{name}.{prop}: required {field.required}, SDK {required}")
        if _base(field.type) in ours:
            _compare_sdk(ours, _base(field.type), _base(their_type), seen, problems)
        elif field.type.replace("enum*:", "enum:").lower() != their_type.lower():
            problems.append(f"{name}.{prop}: {field.type}, SDK {their_type}")


def test_2025_schemas_match_the_sdk_models() -> None:
    ours = schemas_for(API_2025)
    problems: list[str] = []
    seen: set[str] = set()
    for name, model in SDK_ROOTS.items():
        _compare_sdk(ours, name, model, seen, problems)
    assert problems == []


def _spec_type(spec: dict[str, Any], prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        target = spec["definitions"][name]
        return "enum:" + "|".join(target["enum"]) if "enum" in target else name
    kind = prop.get("type")
    if kind == "array":
        return f"[{_spec_type(spec, prop['items'])}]"
    if kind == "string" and "enum" in prop:
        return "enum:" + "|".join(prop["enum"])
    if kind == "string":
        return {"duration": "dur", "date-time": "dt"}.get(prop.get("format", ""), "str")
    if "additionalProperties" in prop:
        return "{str}"
    return {"integer": "int", "number": "num", "boolean": "bool", "object": "obj"}[kind]


def test_2024_schemas_match_the_spec() -> None:
    spec = json.loads(SPEC.read_text())
    problems: list[str] = []
    for name, fields in schemas_for(API_2024).items():
        definition = spec["definitions"][name]
        props = definition.get("properties", {})
        required = set(definition.get("required", []))
        writable = {p for p, v in props.items() if not v.get("readOnly")}
        for prop in sorted((writable | set(fields)) - {"exactVersion"}):
            if prop not in fields or prop not in props:
                problems.append(f"{name}.{prop}: only {'the spec' if prop in props else 'we'}")
                continue
            field = fields[prop]
            if field.required != (prop in required):
                problems.append(f"{name}.{prop}: required {field.required}")
            spec_type = _spec_type(spec, props[prop])
            if field.type.replace("enum*:", "enum:").lower() != spec_type.lower():
                problems.append(f"{name}.{prop}: {field.type}, spec {spec_type}")
    assert problems == []
