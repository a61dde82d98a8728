"""Provides request body validation: JSON parsing, schema checks, ids, ranges and durations.

Errors follow the service: a body that is not JSON, has a property the type does not define, or
a value of the wrong JSON type is 400 `InvalidRequestBody` (the service's OData reader rejects it
with a Reason); a missing required property is 400 `MissingRequiredProperty`; a well-typed but
unacceptable value is 400 `InvalidPropertyValue` with PropertyName, PropertyValue and Reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.times import format_duration, iso, parse_duration, parse_iso
from batch_tui.emulator.validation.schemas import SCHEMAS, Field

MAX_BODY_BYTES = 1024 * 1024
"""The service refuses bodies over 1 MB (spec: task collections "must be less than 1MB")."""
# Both are used with `fullmatch`: with `match`, `$` also matches before a trailing newline,
# so "pool-a\n" would pass as an id and carry a control character into every listing.
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
RANGES: dict[str, tuple[int, int]] = {
    "targetDedicatedNodes": (0, 1_000_000),
    "targetLowPriorityNodes": (0, 1_000_000),
    "taskSlotsPerNode": (1, 256),
    "priority": (-1000, 1000),
    "maxTaskRetryCount": (-1, 1_000_000),
    "requiredSlots": (1, 256),
    "numberOfInstances": (1, 1_000_000),
}
"""Inclusive bounds of integer properties, from the spec's descriptions."""


def invalid_value(name: str, value: Any, reason: str) -> ServiceError:
    """Returns the service's 400 InvalidPropertyValue."""
    return ServiceError(
        400,
        "InvalidPropertyValue",
        "The value provided for one of the properties in the request body is invalid.",
        {"PropertyName": name, "PropertyValue": str(value), "Reason": reason},
    )


def invalid_body(reason: str) -> ServiceError:
    """Returns the service's 400 InvalidRequestBody."""
    return ServiceError(
        400,
        "InvalidRequestBody",
        "The specified Request Body is not syntactically valid.",
        {"Reason": reason},
    )


def missing_property(name: str) -> ServiceError:
    """Returns the service's 400 MissingRequiredProperty."""
    return ServiceError(
        400,
        "MissingRequiredProperty",
        "A required property was not specified in the request body.",
        {"PropertyName": name},
    )


def too_large(reason: str) -> ServiceError:
    """Returns the 413 the service gives (and the SDK splits task collections on)."""
    return ServiceError(
        413,
        "RequestBodyTooLarge",
        "The request body is too large and exceeds the maximum permissible limit.",
        {"Reason": reason},
    )


def parse_json(raw: bytes) -> Any:
    """Parses a request body.

    Raises:
        ServiceError: 413 over 1 MB, 400 InvalidRequestBody when it is not JSON.
    """
    if len(raw) > MAX_BODY_BYTES:
        raise too_large(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid_body(f"The request body is not valid JSON: {exc}") from exc


def normalize_duration(name: str, value: Any) -> str:
    """Returns a duration in the service's canonical form (`PT01H00M00S` becomes `PT1H`)."""
    if not isinstance(value, str):
        raise invalid_body(f"The property '{name}' must be an ISO-8601 duration string.")
    try:
        return format_duration(parse_duration(value))
    except ValueError as exc:
        raise invalid_body(f"The value of '{name}' is not a valid duration: {value}") from exc


def validate_id(value: Any, name: str = "id") -> str:
    """Checks an id the caller chose: letters, digits, hyphens and underscores, at most 64."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise invalid_value(
            name,
            value,
            "The ID can contain any combination of alphanumeric characters including hyphens "
            "and underscores, and cannot contain more than 64 characters.",
        )
    return value


def _scalar(name: str, type_: str, value: Any) -> Any:
    if type_ == "str":
        ok = isinstance(value, str)
    elif type_ == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif type_ == "num":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif type_ == "bool":
        ok = isinstance(value, bool)
    elif type_ == "obj":
        ok = isinstance(value, dict)
    elif type_ == "{str}":
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    else:
        raise AssertionError(f"unknown schema type {type_}")
    if not ok:
        raise invalid_body(f"The property '{name}' has a value of the wrong type ({type_}).")
    return value


def _enum(name: str, type_: str, value: Any) -> str:
    choices = type_[5:].split("|")
    if isinstance(value, str):
        for choice in choices:
            if choice.lower() == value.lower():
                return choice
    raise invalid_value(name, value, f"The value must be one of: {', '.join(choices)}.")


def _check_range(name: str, value: Any) -> None:
    bounds = RANGES.get(name)
    if bounds and isinstance(value, int) and not bounds[0] <= value <= bounds[1]:
        raise invalid_value(name, value, f"The value must be between {bounds[0]} and {bounds[1]}.")


def _timestamp(name: str, value: Any) -> str:
    try:
        return iso(parse_iso(str(value)))
    except ValueError as exc:
        raise invalid_body(f"The value of '{name}' is not a valid timestamp.") from exc


def _value(name: str, type_: str, value: Any) -> Any:
    """Checks one value against a schema type and returns it normalized."""
    if type_.startswith("["):
        if not isinstance(value, list):
            raise invalid_body(f"The property '{name}' must be a list.")
        return [_value(name, type_[1:-1], item) for item in value]
    if type_.startswith("enum:"):
        return _enum(name, type_, value)
    if type_ == "dur":
        return normalize_duration(name, value)
    if type_ == "dt":
        return _timestamp(name, value)
    if type_ in SCHEMAS:
        return validate(value, type_)
    result = _scalar(name, type_, value)
    _check_range(name, result)
    return result


def validate(body: Any, type_name: str) -> dict[str, Any]:
    """Checks a body (or nested object) against a schema definition.

    Args:
        body: The parsed JSON.
        type_name: A definition of `schemas.SCHEMAS`, e.g. "PoolAddParameter".

    Returns:
        A normalized copy: nulls dropped, durations canonical, enum values in their canonical
        case, timestamps with 7 fractional digits.

    Raises:
        ServiceError: 400 InvalidRequestBody, MissingRequiredProperty or InvalidPropertyValue.
    """
    if not isinstance(body, dict):
        raise invalid_body(f"A JSON object was expected for '{type_name}'.")
    fields: dict[str, Field] = SCHEMAS[type_name]
    out: dict[str, Any] = {}
    for name, value in body.items():
        field = fields.get(name)
        if field is None:
            raise invalid_body(
                f"The property '{name}' does not exist on type '{type_name}'. Make sure to only "
                "use property names that are defined by the type."
            )
        if value is not None:
            out[name] = _value(name, field.type, value)
    for name, field in fields.items():
        if field.required and name not in out:
            raise missing_property(name)
    return out
