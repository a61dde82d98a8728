"""Provides the file operations of `BatchClient`: list, properties and ranged reads.

A file path is one logical path segment on the wire: ``wd\\out.txt`` and ``my file.txt``
are percent-encoded, ``/`` stays a separator. Reads take an inclusive byte range sent as
``ocp-range: bytes=start-end`` (not ``Range``), so a viewer can tail a 1 GiB ``stdout.txt``
without downloading it; the service answers 200 (or 206) with just that slice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

import httpx

from batch_tui.batch._transport import Transport, collect, file_path, list_query, segment
from batch_tui.batch.models import FileInfo, NodeFile
from batch_tui.batch.odata import Filter

PAGE_SIZE = 1000
"""The API's maximum ``maxresults``."""


def byte_range(start: int | None, end: int | None) -> str | None:
    """Return the ``ocp-range`` value for an inclusive byte range, or None for the whole file.

    Args:
        start: The first byte (0-based); None with ``end`` set means 0.
        end: The last byte, inclusive; None means to the end of the file.

    Raises:
        ValueError: For a negative start or an end before the start.
    """
    if start is None and end is None:
        return None
    first = start or 0
    if first < 0 or (end is not None and end < first):
        raise ValueError(f"invalid byte range {start!r}-{end!r}")
    return f"bytes={first}-{'' if end is None else end}"


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def file_info(headers: httpx.Headers) -> FileInfo:
    """Build `FileInfo` from the ``ocp-*`` headers of a file HEAD or GET.

    The live service writes the directory flag as .NET's ``False``/``True`` and the URL
    percent-encoded; both are normalised here.
    """
    return FileInfo(
        url=unquote(headers.get("ocp-batch-file-url", "")),
        is_directory=headers.get("ocp-batch-file-isdirectory", "").strip().lower() == "true",
        content_length=_int(headers.get("content-length")),
        content_type=headers.get("content-type"),
        last_modified=_http_date(headers.get("last-modified")),
        creation_time=_http_date(headers.get("ocp-creation-time")),
        file_mode=headers.get("ocp-batch-file-mode"),
    )


class FileOperations:
    """Task and node file operations; mixed into `BatchClient`."""

    _t: Transport

    def _file_pages(
        self, base: str, recursive: bool, filter_: Filter | str | None, maxresults: int
    ) -> AsyncIterator[list[NodeFile]]:
        q = list_query(filter_=filter_, maxresults=maxresults)
        if recursive:
            q["recursive"] = "true"
        return self._t.pages(self._t.url(f"{base}/files", q), NodeFile)

    async def _properties(self, url: str) -> FileInfo:
        response = await self._t.send("HEAD", url)
        return file_info(response.headers)

    async def _read(self, url: str, start: int | None, end: int | None) -> bytes:
        ocp_range = byte_range(start, end)
        headers = {"ocp-range": ocp_range} if ocp_range else None
        response = await self._t.send("GET", url, headers=headers)
        return response.content

    @staticmethod
    def _task_base(job_id: str, task_id: str) -> str:
        return f"/jobs/{segment(job_id)}/tasks/{segment(task_id)}"

    @staticmethod
    def _node_base(pool_id: str, node_id: str) -> str:
        return f"/pools/{segment(pool_id)}/nodes/{segment(node_id)}"

    def iter_task_files(
        self,
        job_id: str,
        task_id: str,
        recursive: bool = False,
        filter: Filter | str | None = None,
        *,
        maxresults: int = PAGE_SIZE,
    ) -> AsyncIterator[list[NodeFile]]:
        """Yield the files of a task's directory on its node, page by page."""
        base = self._task_base(job_id, task_id)
        return self._file_pages(base, recursive, filter, maxresults)

    async def list_task_files(
        self,
        job_id: str,
        task_id: str,
        recursive: bool = False,
        filter: Filter | str | None = None,
    ) -> list[NodeFile]:
        """Return the files of a task's directory on its node."""
        return await collect(self.iter_task_files(job_id, task_id, recursive, filter))

    def iter_node_files(
        self,
        pool_id: str,
        node_id: str,
        recursive: bool = False,
        filter: Filter | str | None = None,
        *,
        maxresults: int = PAGE_SIZE,
    ) -> AsyncIterator[list[NodeFile]]:
        """Yield the files under a node's root directory, page by page."""
        base = self._node_base(pool_id, node_id)
        return self._file_pages(base, recursive, filter, maxresults)

    async def list_node_files(
        self,
        pool_id: str,
        node_id: str,
        recursive: bool = False,
        filter: Filter | str | None = None,
    ) -> list[NodeFile]:
        """Return the files under a node's root directory."""
        return await collect(self.iter_node_files(pool_id, node_id, recursive, filter))

    async def get_task_file_properties(self, job_id: str, task_id: str, path: str) -> FileInfo:
        """Return a task file's size, times and type (a HEAD request)."""
        base = self._task_base(job_id, task_id)
        return await self._properties(self._t.url(f"{base}/files/{file_path(path)}"))

    async def get_node_file_properties(self, pool_id: str, node_id: str, path: str) -> FileInfo:
        """Return a node file's size, times and type (a HEAD request)."""
        base = self._node_base(pool_id, node_id)
        return await self._properties(self._t.url(f"{base}/files/{file_path(path)}"))

    async def read_task_file(
        self,
        job_id: str,
        task_id: str,
        path: str,
        *,
        start: int | None = None,
        end: int | None = None,
    ) -> bytes:
        """Return a task file's bytes, or the inclusive range ``start``-``end`` of them."""
        base = self._task_base(job_id, task_id)
        return await self._read(self._t.url(f"{base}/files/{file_path(path)}"), start, end)

    async def read_node_file(
        self,
        pool_id: str,
        node_id: str,
        path: str,
        *,
        start: int | None = None,
        end: int | None = None,
    ) -> bytes:
        """Return a node file's bytes, or the inclusive range ``start``-``end`` of them."""
        base = self._node_base(pool_id, node_id)
        return await self._read(self._t.url(f"{base}/files/{file_path(path)}"), start, end)
