"""Provides conditional request checks against a record's ETag and last-modified time.

The headers are If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since.

A failed condition is `ConditionNotMet`: 304 on a read for If-None-Match and If-Modified-Since
(the Learn error table: "not met for a read operation"), 412 otherwise (HTTP semantics).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.state.store import Record


def _not_met(status: int) -> ServiceError:
    if status == 304:
        message = (
            "The condition specified in the conditional header(s) was not met for a read operation."
        )
    else:
        message = "The condition specified using HTTP conditional header(s) is not met."
    return ServiceError(status, "ConditionNotMet", message)


def _http_date(name: str, value: str) -> datetime:
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise ServiceError(
            400,
            "InvalidHeaderValue",
            "The value for one of the HTTP headers is not in the correct format.",
            {"HeaderName": name, "HeaderValue": value},
        ) from exc


def _etags(value: str) -> set[str]:
    return {tag.strip().strip('"') for tag in value.split(",") if tag.strip()}


def _seconds(dt: datetime) -> int:
    # HTTP dates have whole seconds, so compare at that precision.
    return int(dt.timestamp())


def check(headers: Mapping[str, str], record: Record, *, read: bool) -> None:
    """Checks the conditional headers of a request against `record`.

    Args:
        headers: The request headers (case-insensitive mapping).
        record: The entity the request reads or changes.
        read: True for GET/HEAD, where If-None-Match and If-Modified-Since fail with 304.

    Raises:
        ServiceError: ConditionNotMet (304 or 412), or 400 InvalidHeaderValue for a bad date.
    """
    if_match = headers.get("if-match")
    if if_match and if_match.strip() != "*" and record.etag not in _etags(if_match):
        raise _not_met(412)
    if_none = headers.get("if-none-match")
    if if_none and (if_none.strip() == "*" or record.etag in _etags(if_none)):
        raise _not_met(304 if read else 412)
    check_dates(headers, record.last_modified, read=read)


def check_dates(headers: Mapping[str, str], modified: datetime | None, *, read: bool) -> None:
    """Checks If-Modified-Since and If-Unmodified-Since (the only conditions file reads take)."""
    if modified is None:
        return
    since = headers.get("if-modified-since")
    if since and _seconds(modified) <= _seconds(_http_date("If-Modified-Since", since)):
        raise _not_met(304 if read else 412)
    unmodified = headers.get("if-unmodified-since")
    if unmodified and _seconds(modified) > _seconds(_http_date("If-Unmodified-Since", unmodified)):
        raise _not_met(412)
