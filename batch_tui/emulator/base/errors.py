"""Provides the emulator's service error: what becomes a BatchError JSON body on the wire."""

from __future__ import annotations


class ServiceError(Exception):
    """An error the service returns as a BatchError body.

    Raised anywhere in the emulator (routes, validation, engine); the app turns it into the
    service's JSON error with `odata.metadata`, `code`, `message` (with RequestId and Time lines)
    and `values`.

    Args:
        status: The HTTP status code, e.g. 409.
        code: The service's error code, e.g. "PoolExists".
        message: The first line of the message, as the service words it.
        values: Detail pairs for the body's `values` list, e.g. {"PropertyName": "id"}.
    """

    def __init__(
        self, status: int, code: str, message: str, values: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.values = dict(values or {})


def not_found(kind: str, code: str | None = None) -> ServiceError:
    """Returns the 404 the service gives for a missing pool, job, task, node, ..."""
    return ServiceError(
        404, code or f"{kind}NotFound", f"The specified {kind.lower()} does not exist."
    )


def conflict(code: str, message: str, values: dict[str, str] | None = None) -> ServiceError:
    """Returns a 409 with the given code."""
    return ServiceError(409, code, message, values)
