"""Provides the file operations of `BatchClient`: list, properties, ranged and streamed reads.

A file path is one logical path segment on the wire: ``wd\\out.txt`` and ``my file.txt``
are percent-encoded, ``/`` stays a separator. Reads take an inclusive byte range sent as
``ocp-range: bytes=start-end`` (not ``Range``), so a viewer can tail a 1 GiB ``stdout.txt``
without downloading it; the service answers 200 (or 206) with just that slice.

A download streams instead (`stream_task_file`, `stream_node_file`): one GET from an offset
to the end, its body handed over in chunks as it arrives, so memory stays a chunk whatever
the file's size. Its `FileStream` carries the headers a resumed download checks (the length,
``Last-Modified``, ``ETag``, ``ocp-creation-time``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import unquote

import httpx

from batch_tui.batch._transport import Transport, collect, file_path, list_query, segment
from batch_tui.batch.errors import transport_error
from batch_tui.batch.models import FileInfo, NodeFile
from batch_tui.batch.odata import Filter

PAGE_SIZE = 1000
"""The API's maximum ``maxresults``."""

STREAM_CHUNK_BYTES = 1024 * 1024
"""Bytes per chunk of a streamed file: few enough requests' worth of memory, and a slow link
still reports progress about every second."""


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


@dataclass
class FileStream:
    """One file GET in progress: what its headers say, then its body in chunks.

    Attributes:
        info: The file's properties from the GET's headers; ``content_length`` is the length
            of this response (the file's length less ``start``).
        etag: The ``ETag`` header, when the service sends one.
        start: The offset of the first byte.
    """

    info: FileInfo
    etag: str | None
    start: int
    _response: httpx.Response
    _chunk_bytes: int
    _client_request_id: str | None

    @property
    def total(self) -> int | None:
        """The file's length as this GET saw it (``start`` plus the response's length)."""
        length = self.info.content_length
        return None if length is None else self.start + length

    async def chunks(self) -> AsyncIterator[bytes]:
        """Yields the body in chunks of at most the stream's chunk size, as they arrive.

        Raises:
            TransportError: The connection failed mid-body (retryable: resume from the bytes
                received).
        """
        try:
            async for chunk in self._response.aiter_bytes(self._chunk_bytes):
                yield chunk
        except httpx.HTTPError as exc:
            raise transport_error(exc, self._client_request_id) from exc


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

    @asynccontextmanager
    async def _stream(
        self, url: str, start: int, unmodified_since: datetime | None, chunk_bytes: int
    ) -> AsyncIterator[FileStream]:
        if start < 0:
            raise ValueError(f"invalid start offset {start!r}")
        headers: dict[str, str] = {}
        if start:
            headers["ocp-range"] = f"bytes={start}-"
        if unmodified_since is not None:
            headers["If-Unmodified-Since"] = format_datetime(unmodified_since, usegmt=True)
        response = await self._t.send("GET", url, headers=headers or None, stream=True)
        try:
            yield FileStream(
                info=file_info(response.headers),
                etag=response.headers.get("etag"),
                start=start,
                _response=response,
                _chunk_bytes=chunk_bytes,
                _client_request_id=response.request.headers.get("client-request-id"),
            )
        finally:
            await response.aclose()

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

    def stream_task_file(
        self,
        job_id: str,
        task_id: str,
        path: str,
        *,
        start: int = 0,
        unmodified_since: datetime | None = None,
        chunk_bytes: int = STREAM_CHUNK_BYTES,
    ) -> AbstractAsyncContextManager[FileStream]:
        """Opens a task file for streaming from byte `start` to its end.

        Usage::

            async with client.stream_task_file(job_id, task_id, "stdout.txt") as stream:
                async for chunk in stream.chunks():
                    ...

        Args:
            job_id: The job.
            task_id: The task.
            path: The file, relative to the task's directory.
            start: The first byte to send (a resumed download's bytes so far).
            unmodified_since: Sent as ``If-Unmodified-Since``: the service answers 412
                (`PreconditionFailed`) if the file changed after it, so a resumed download
                never joins two versions of a file.
            chunk_bytes: The most bytes per chunk.

        Raises:
            BatchError: The GET failed (after the client's retries).
        """
        url = self._t.url(f"{self._task_base(job_id, task_id)}/files/{file_path(path)}")
        return self._stream(url, start, unmodified_since, chunk_bytes)

    def stream_node_file(
        self,
        pool_id: str,
        node_id: str,
        path: str,
        *,
        start: int = 0,
        unmodified_since: datetime | None = None,
        chunk_bytes: int = STREAM_CHUNK_BYTES,
    ) -> AbstractAsyncContextManager[FileStream]:
        """Opens a node file for streaming from byte `start` to its end (as
        `stream_task_file`; `path` is relative to the node's root)."""
        url = self._t.url(f"{self._node_base(pool_id, node_id)}/files/{file_path(path)}")
        return self._stream(url, start, unmodified_since, chunk_bytes)
