"""Decoding the service's JSON into models: pages, single entities, and odd items repaired.

The fast path is one cached ``msgspec.json.Decoder`` per type. If it rejects a body, the
slow path decodes item by item and repairs what does not fit: a value of the wrong type
is dropped so its field takes its default, and .NET's ``DateTime.MaxValue`` (7 fractional
nines, which overflows a microsecond clock) is clamped. One odd item therefore never fails
a 1,000-item page, and a healthy page costs nothing extra.

An item that cannot be told apart from the others, because it is not an object or its ``id``
is not a string (``{"id": 42}``), would be a blank row: it becomes a placeholder instead, an
item of the page's type whose ``id`` says what was wrong (``undecodable item: id is a number
(42)``; `undecodable_reason` reads it back). A placeholder id holds spaces, which no Batch id
does, and is the same for the same item at every listing, so it keeps one row of its own.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any, Final, Generic, TypeVar, cast

import msgspec

T = TypeVar("T")

_MAX_REPAIRS = 64
"""Repairs tried on one item before giving up on it: far more than one odd item needs,
and a bound on the work a hostile body can cause."""

_ERROR_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_PATH_STEP = re.compile(r"\.(?P<key>[^.\[]+)|\[(?P<index>\d+)\]")
_DOTNET_MAX_DATETIME = "9999-12-31T23:59:59.999999"
"""Six nines, not .NET's seven: any 7th digit from 5 up (``.9999995``) also rounds the
microsecond clock past the year 9999, and must be clamped rather than dropped."""
_CLAMPED_MAX_DATETIME = "9999-12-31T23:59:59.999999Z"

UNDECODABLE: Final = "undecodable item: "
"""How the id of a placeholder for an item that did not decode begins."""

_TOKEN_CHARS: Final = 24
"""The most characters of an odd id kept in its placeholder's id."""


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One page of a list response; ``next_link`` is set while more pages exist."""

    value: list[T] = msgspec.field(default_factory=list)
    next_link: str | None = msgspec.field(default=None, name="odata.nextLink")


class _Skipped(msgspec.Struct, frozen=True, gc=False):
    """An item counted, not decoded: its fields are skipped (16 bytes an item)."""


class _CountedPage(msgspec.Struct, frozen=True):
    value: list[_Skipped | str | int | float | bool | None] = msgspec.field(default_factory=list)


_RAW_PAGE: msgspec.json.Decoder[Page[msgspec.Raw]] = msgspec.json.Decoder(Page[msgspec.Raw])
_COUNTED_PAGE: msgspec.json.Decoder[_CountedPage] = msgspec.json.Decoder(_CountedPage)
_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder(type_: Any) -> msgspec.json.Decoder[Any]:
    """Return the cached decoder for ``type_``; lax, so ``"13"`` decodes into an int."""
    decoder = _DECODERS.get(type_)
    if decoder is None:
        decoder = _DECODERS[type_] = msgspec.json.Decoder(type_, strict=False)
    return decoder


def decode(data: bytes, type_: type[T]) -> T:
    """Decode one entity (or any model type) from a response body.

    Args:
        data: The JSON body.
        type_: The model type, e.g. ``Node``.

    Returns:
        The decoded model; fields that did not fit take their defaults.

    Raises:
        msgspec.DecodeError: The body is not JSON.
        msgspec.ValidationError: The body is not an object of that shape at all.
    """
    try:
        return cast(T, _decoder(type_).decode(data))
    except msgspec.ValidationError:
        return _repair(msgspec.json.decode(data), type_)


def decode_page(data: bytes, item_type: type[T]) -> Page[T]:
    """Decode a list response (``{"value": [...], "odata.nextLink": ...}``).

    Args:
        data: The JSON body.
        item_type: The model of the items, e.g. ``Task``.

    Returns:
        The page. An item that is not an object at all is left out; any other odd item is
        kept with its odd fields at their defaults.

    Raises:
        msgspec.DecodeError: The body is not JSON.
        msgspec.ValidationError: The body is not a page.
    """
    try:
        return cast(Page[T], _decoder(_page_type(item_type)).decode(data))
    except msgspec.ValidationError:
        raw = _RAW_PAGE.decode(data)
    items = (_decode_item(item, item_type) for item in raw.value)
    return Page(value=[item for item in items if item is not None], next_link=raw.next_link)


def count_items(data: bytes) -> int:
    """Counts the items of a list response without decoding them, at a fraction of the
    memory: a 60 MB page of 3 million tiny items would take a gigabyte decoded.

    Raises:
        msgspec.DecodeError: The body is not JSON.
        msgspec.ValidationError: The body is not a page.
    """
    try:
        return len(_COUNTED_PAGE.decode(data).value)
    except msgspec.ValidationError:  # an item that is an array: count the raw items
        return len(_RAW_PAGE.decode(data).value)


def undecodable_reason(item_id: str) -> str | None:
    """Says why an item did not decode ("id is a number") if ``item_id`` is a placeholder's
    (see the module docstring), else None."""
    if not item_id.startswith(UNDECODABLE):
        return None
    return item_id[len(UNDECODABLE) :].rsplit(" (", 1)[0]


def _page_type(item_type: type[T]) -> Any:
    """``Page[item_type]``, spelled so that mypy accepts a runtime type argument."""
    return cast(Any, Page)[item_type]


def _decode_item(raw: msgspec.Raw, item_type: type[T]) -> T | None:
    """Decode one item of a page, repairing it if needed; a placeholder if it has no usable
    id; ``None`` if it cannot be decoded and its type has no id to show it by."""
    try:
        return cast(T, _decoder(item_type).decode(raw))
    except msgspec.ValidationError:
        pass
    obj = msgspec.json.decode(raw)
    identified = _has_text_id(cast(Any, item_type))
    if not isinstance(obj, dict):
        return _placeholder(item_type, "not an object", raw) if identified else None
    ident = obj.get("id")
    if identified and "id" in obj and not isinstance(ident, str):
        return _placeholder(item_type, f"id is {_json_kind(ident)}", raw, ident)
    try:
        return _repair(obj, item_type)
    except msgspec.ValidationError:
        return _placeholder(item_type, "does not decode", raw) if identified else None


@lru_cache(maxsize=64)
def _has_text_id(item_type: type[Any]) -> bool:
    """Whether items of this type are told apart by a string ``id`` (pools, jobs, tasks...)."""
    if not (isinstance(item_type, type) and issubclass(item_type, msgspec.Struct)):
        return False
    return any(
        field.name == "id" and field.type is str for field in msgspec.structs.fields(item_type)
    )


def _json_kind(value: object) -> str:
    """Names the JSON type of a value, as the reason of a placeholder says it."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "null"
    return "an array" if isinstance(value, list) else "an object"


def _placeholder(
    item_type: type[T], reason: str, raw: msgspec.Raw, ident: object = None
) -> T | None:
    """An item of ``item_type`` with only an id: ``undecodable item: <reason> (<token>)``.

    The token is the odd id itself when it is a number or a boolean (short, and what the
    service meant), else a digest of the item's bytes: the same item keeps the same id.
    """
    if isinstance(ident, (int, float)):  # bool too
        token = msgspec.json.encode(ident).decode()[:_TOKEN_CHARS]
    else:
        token = "#" + hashlib.blake2b(bytes(raw), digest_size=4).hexdigest()
    try:
        return cast(Any, item_type)(id=f"{UNDECODABLE}{reason} ({token})")  # type: ignore[no-any-return]
    except TypeError:  # a type with required fields has no placeholder
        return None


def _repair(obj: Any, type_: type[T]) -> T:
    """Convert ``obj`` to ``type_``, dropping each value the error names, until it fits."""
    error: msgspec.ValidationError | None = None
    for _ in range(_MAX_REPAIRS):
        try:
            return msgspec.convert(obj, type_, strict=False)
        except msgspec.ValidationError as exc:
            error = exc
            if not _fix_value_at(obj, str(exc)):
                raise
    assert error is not None
    raise error


def _fix_value_at(obj: Any, message: str) -> bool:
    """Fix or remove the value a validation error points at; False if there is none."""
    match = _ERROR_PATH.search(message)
    # msgspec names a bad value inside a dict field as `$.resourceTags[...]`, without its key:
    # drop the whole dict. (Parsing "[...]" as steps would look for a key "]" and give up,
    # which dropped the whole item from its page.)
    path = match["path"].split("[...]", 1)[0] if match else ""
    steps = _PATH_STEP.findall(path)
    if not steps:
        return False
    container = obj
    for key, index in steps[:-1]:
        container = _child(container, key, index)
        if container is None:
            return False
    return _fix_child(container, *steps[-1])


def _child(container: Any, key: str, index: str) -> Any:
    """Step into ``container[key]`` or ``container[index]``; None if it is not there."""
    if key and isinstance(container, dict):
        return container.get(key)
    if index and isinstance(container, list) and int(index) < len(container):
        return container[int(index)]
    return None


def _fix_child(container: Any, key: str, index: str) -> bool:
    """Clamp a .NET max datetime in place, or delete the child; False if it is not there."""
    slot: Any = key if key and isinstance(container, dict) and key in container else None
    if slot is None and index and isinstance(container, list) and int(index) < len(container):
        slot = int(index)
    if slot is None:
        return False
    value = container[slot]
    if isinstance(value, str) and value.startswith(_DOTNET_MAX_DATETIME):
        container[slot] = _CLAMPED_MAX_DATETIME
    else:
        del container[slot]
    return True
