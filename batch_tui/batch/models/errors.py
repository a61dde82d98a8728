"""The ``BatchError`` body the service sends with every 4xx/5xx response."""

from __future__ import annotations

from batch_tui.batch.models.common import BatchModel


class ErrorMessage(BatchModel, frozen=True, kw_only=True):
    """``ErrorMessage``. ``value`` ends with ``RequestId:...`` and ``Time:...`` lines:
    show its first line."""

    lang: str | None = None
    value: str = ""


class ErrorDetail(BatchModel, frozen=True, kw_only=True):
    """``BatchErrorDetail``: e.g. ``QueryParameterName`` / ``api-version``."""

    key: str = ""
    value: str | None = None


class ErrorBody(BatchModel, frozen=True, kw_only=True):
    """``BatchError``: ``code`` (e.g. ``PoolNotFound``), ``message`` and detail ``values``."""

    code: str = ""
    message: ErrorMessage | None = None
    values: tuple[ErrorDetail, ...] = ()
