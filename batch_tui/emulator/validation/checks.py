"""Provides request body validation: JSON parsing, schema checks, ids, ranges and durations.

Errors follow the service: a body that is not JSON, is nested deeper than its OData reader reads,
has a property the type does not define (in the request's api-version), or a value of the wrong
JSON type is 400 `InvalidRequestBody` (the service's OData reader rejects it with a Reason); a
missing required property is 400 `MissingRequiredProperty`; a well-typed but unacceptable value
is 400 `InvalidPropertyValue` with PropertyName, PropertyValue and Reason. As that reader does, a
JSON string that is a valid number is read as the number for a numeric property (the Azure CLI
sends `"targetDedicatedNodes": "3"`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.times import format_duration, iso, parse_duration, parse_iso
from batch_tui.emulator.validation.resource_ids import image_problem, subnet_problem
from batch_tui.emulator.validation.schemas import Field, Schemas, schemas_for

MAX_BODY_BYTES = 1024 * 1024
"""The service refuses bodies over 1 MB (spec: task collections "must be less than 1MB")."""
MAX_DEPTH = 100
"""How deep the service's OData reader reads nested JSON (ODataLib's default MaxNestingDepth);
deeper is an invalid body, whatever the property (free-form extension settings included)."""
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
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


def _too_deep(value: Any) -> bool:
    """Whether a parsed JSON value nests more than `MAX_DEPTH` levels (without recursing)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return False


def parse_json(raw: bytes) -> Any:
    """Parses a request body.

    Raises:
        ServiceError: 413 over 1 MB, 400 InvalidRequestBody when it is not JSON or is nested
            more than `MAX_DEPTH` levels deep.
    """
    if len(raw) > MAX_BODY_BYTES:
        raise too_large(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    too_deep = invalid_body(f"The request body is nested more than {MAX_DEPTH} levels deep.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except RecursionError:
        # Deeper than the parser's own stack: deeper than MAX_DEPTH too.
        raise too_deep from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid_body(f"The request body is not valid JSON: {exc}") from exc
    if _too_deep(body):
        raise too_deep
    return body


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


def _json_kind(value: Any) -> str:
    """How the service's reader names a JSON value's kind in its messages."""
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else "null"


def _number(name: str, type_: str, value: Any) -> Any:
    """Reads an `int` or `num` property; a string holding a valid number counts as the number."""
    if isinstance(value, str):
        if type_ == "int" and _INTEGER.fullmatch(value):
            return int(value)
        if type_ == "num" and _NUMBER.fullmatch(value):
            number = float(value)
            return int(number) if _INTEGER.fullmatch(value) else number
    elif not isinstance(value, bool):
        if isinstance(value, int) or (type_ == "num" and isinstance(value, float)):
            return value
    kind = "an integer" if type_ == "int" else "a number"
    raise invalid_body(
        f"The property '{name}' must be {kind}, but the request has {_json_kind(value)}: "
        f"{json.dumps(value)[:100]}."
    )


def _scalar(name: str, type_: str, value: Any) -> Any:
    if type_ in ("int", "num"):
        return _number(name, type_, value)
    if type_ == "str":
        ok = isinstance(value, str)
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
    """Checks an enum value (case-insensitively, as the service does). `enum:` values are
    stored in the schema's spelling, `enum*:` ones as the client spelled them."""
    if not isinstance(value, str):
        # Say what is wrong with the value's shape; listing the allowed values here would
        # name a value the client did send, nested one level too deep (the CLI's mistake).
        raise invalid_body(
            f"The property '{name}' must be a string, but the request has {_json_kind(value)}."
        )
    as_sent, _, values = type_.partition(":")
    choices = values.split("|")
    for choice in choices:
        if choice.lower() == value.lower():
            return value if as_sent == "enum*" else choice
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


class _Checker:
    """Checks bodies against one api-version's schemas, for one account."""

    def __init__(self, schemas: Schemas, subscription: str | None) -> None:
        self.schemas = schemas
        self.subscription = subscription

    def value(self, name: str, type_: str, value: Any) -> Any:
        """Checks one value against a schema type and returns it normalized."""
        if type_.startswith("["):
            if not isinstance(value, list):
                raise invalid_body(f"The property '{name}' must be a list.")
            return [self.value(name, type_[1:-1], item) for item in value]
        if type_.startswith("enum"):
            return _enum(name, type_, value)
        if type_ == "dur":
            return normalize_duration(name, value)
        if type_ == "dt":
            return _timestamp(name, value)
        if type_ in self.schemas:
            return self.object(value, type_)
        result = _scalar(name, type_, value)
        _check_range(name, result)
        return result

    def object(self, body: Any, type_name: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid_body(f"A JSON object was expected for '{type_name}'.")
        fields: Mapping[str, Field] = self.schemas[type_name]
        out: dict[str, Any] = {}
        for name, value in body.items():
            field = fields.get(name)
            if field is None:
                raise invalid_body(
                    f"The property '{name}' does not exist on type '{type_name}'. Make sure to "
                    "only use property names that are defined by the type."
                )
            if value is not None:
                out[name] = self.value(name, field.type, value)
        for name, field in fields.items():
            if field.required and name not in out:
                raise missing_property(name)
        self.resource_ids(type_name, out)
        return out

    def resource_ids(self, type_name: str, body: dict[str, Any]) -> None:
        """Refuses the ARM resource ids the service refuses (a subnet of another
        subscription, an image that is not a managed or gallery image)."""
        if type_name in ("NetworkConfiguration", "JobNetworkConfiguration") and "subnetId" in body:
            problem = subnet_problem(body["subnetId"], self.subscription)
            if problem:
                raise invalid_value("subnetId", body["subnetId"], problem)
        if type_name == "ImageReference" and "virtualMachineImageId" in body:
            problem = image_problem(body["virtualMachineImageId"])
            if problem:
                raise invalid_value("virtualMachineImageId", body["virtualMachineImageId"], problem)


def validate(
    body: Any, type_name: str, *, version: str | None = None, subscription: str | None = None
) -> dict[str, Any]:
    """Checks a body (or nested object) against a schema definition of an api-version.

    Args:
        body: The parsed JSON.
        type_name: A definition of the version's schemas, e.g. "PoolAddParameter".
        version: The request's api-version; None accepts what any version accepts (for a
            body the emulator checks again, which was checked against its client's version).
        subscription: The account's subscription, which a `subnetId` must be in; None skips
            that check (the id's format is still checked).

    Returns:
        A normalized copy: nulls dropped, numeric strings read as numbers, durations canonical,
        enum values in their canonical case (or as sent, for `enum*`), timestamps with 7
        fractional digits.

    Raises:
        ServiceError: 400 InvalidRequestBody, MissingRequiredProperty or InvalidPropertyValue.
    """
    return _Checker(schemas_for(version), subscription).object(body, type_name)
