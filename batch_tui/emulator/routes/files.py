"""Provides the file operations of tasks and nodes: list, get, properties (HEAD) and delete.

They work over the engine's file trees; GET honours `ocp-range`. A GET opens the file once and
takes its Content-Length and its body from that one open file, so a file a task is still
writing (its `stdout.txt`) is served whole: exactly the bytes announced.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.base.times import iso
from batch_tui.emulator.node.files import FileEntry, FileTree, OpenFile, byte_span
from batch_tui.emulator.ops.entities import get_node, get_task
from batch_tui.emulator.query.filter_tables import FILE_FILTER
from batch_tui.emulator.routes import conditions
from batch_tui.emulator.routes.common import Call, ListSpec, RouteTable, list_response
from batch_tui.emulator.routes.wire import base_headers, empty_response, rfc1123

FILE_LIST = ListSpec("files", FILE_FILTER)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _tree(call: Call) -> tuple[FileTree, str]:
    """Returns the file tree the URL names and the URL its file names hang off."""
    if "task_id" in call.params:
        task = get_task(call.emu, call.params["job_id"], call.params["task_id"])
        job_id = call.emu.store.jobs[task.job_key].id
        return call.emu.engine.task_files(task), call.emu.urls.task(job_id, task.id) + "/files"
    node = get_node(call.emu, call.params["pool_id"], call.params["node_id"])
    pool_id = call.emu.store.pools[node.pool_key].id if node.pool_key else call.params["pool_id"]
    return call.emu.engine.node_files(node), call.emu.urls.node(pool_id, node.id) + "/files"


def clean_path(raw: str) -> str:
    """Normalizes a file path from the URL (backslashes as on Windows nodes are accepted) and
    refuses any path that climbs out of the tree."""
    parts = [p for p in raw.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ServiceError(400, "InvalidUri", "The file path is not valid.", {"FilePath": raw})
    return "/".join(parts)


def _content_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def _item(entry: FileEntry, base: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": entry.name,
        "url": f"{base}/{entry.name}",
        "isDirectory": entry.is_directory,
    }
    if entry.is_directory:
        return item
    # The live service sends contentLength as a JSON string (recordings); so does the emulator.
    props: dict[str, Any] = {
        "creationTime": iso(entry.creation_time),
        "lastModified": iso(entry.last_modified),
        "contentLength": str(entry.size),
        "contentType": _content_type(entry.name),
    }
    if entry.mode:
        props["fileMode"] = entry.mode
    item["properties"] = props
    return item


async def _list(call: Call) -> Response:
    tree, base = _tree(call)
    entries = tree.list(call.bool_param("recursive"))
    return list_response(
        call, entries, FILE_LIST, key=lambda e: e.name, render=lambda e, _: _item(e, base)
    )


def _file_headers(call: Call, entry: FileEntry, url: str) -> dict[str, str]:
    headers = {
        **base_headers(call.request),
        "Content-Type": _content_type(entry.name),
        "Last-Modified": rfc1123(entry.last_modified),
        "ocp-creation-time": rfc1123(entry.creation_time),
        # The live service writes .NET booleans and a URL-encoded URL (recordings).
        "ocp-batch-file-isdirectory": "True" if entry.is_directory else "False",
        "ocp-batch-file-url": quote(url, safe=""),
    }
    if entry.mode:
        headers["ocp-batch-file-mode"] = entry.mode
    return headers


def _located(call: Call) -> tuple[FileTree, str, str]:
    """Returns the tree, the URL its file names hang off, and the file's path in the tree."""
    tree, base = _tree(call)
    return tree, base, clean_path(call.params["file_path"])


def _check_dates(call: Call, entry: FileEntry) -> None:
    read = call.request.method in ("GET", "HEAD")
    conditions.check_dates(call.request.headers, entry.last_modified, read=read)


async def _properties(call: Call) -> Response:
    tree, base, path = _located(call)
    entry = tree.stat(path)
    _check_dates(call, entry)
    headers = _file_headers(call, entry, f"{base}/{entry.name}")
    headers["Content-Length"] = str(entry.size)
    return Response(b"", status_code=200, headers=headers)


def _range(header: str | None, size: int) -> tuple[int, int | None]:
    """Parses `ocp-range: bytes=a-b` (also `a-` and the suffix form `-n`) into (start, end)."""
    if header is None:
        return 0, None
    m = _RANGE.fullmatch(header.strip())
    if not m or m.groups() == ("", ""):
        raise ServiceError(
            400,
            "InvalidHeaderValue",
            "The value for one of the HTTP headers is not in the correct format.",
            {"HeaderName": "ocp-range", "HeaderValue": header},
        )
    first, last = m.groups()
    if not first:
        return max(0, size - int(last)), None
    start, end = int(first), int(last) if last else None
    if (end is not None and end < start) or (size > 0 and start >= size):
        raise ServiceError(
            416,
            "InvalidRange",
            "The range specified is invalid for the current size of the resource.",
            {"RangeStart": str(start), "FileSize": str(size)},
        )
    return start, end


async def _get(call: Call) -> Response:
    tree, base, path = _located(call)
    opened = tree.open(path)
    try:
        return _serve(call, opened, f"{base}/{opened.entry.name}")
    except BaseException:
        opened.close()
        raise


def _serve(call: Call, opened: OpenFile, url: str) -> Response:
    """Returns the response that streams `opened`: its headers from the open file's entry, its
    body read from that same file up to exactly the length announced."""
    entry = opened.entry
    _check_dates(call, entry)
    if entry.is_directory:
        raise ServiceError(
            400, "InvalidUri", "The path names a directory, not a file.", {"FilePath": entry.name}
        )
    start, end = _range(call.request.headers.get("ocp-range"), entry.size)
    begin, stop = byte_span(entry.size, start, end)  # the span `read` serves, to the byte
    headers = _file_headers(call, entry, url)
    headers["Content-Length"] = str(stop - begin)
    chunks: Iterator[bytes] = opened.read(start, end)
    return StreamingResponse(chunks, status_code=200, headers=headers)


async def _delete(call: Call) -> Response:
    tree, _ = _tree(call)
    tree.delete(clean_path(call.params["file_path"]), call.bool_param("recursive"))
    return empty_response(call.request, 200)


_TASK_FILES = "/jobs/{job_id}/tasks/{task_id}/files"
_NODE_FILES = "/pools/{pool_id}/nodes/{node_id}/files"
ROUTES: RouteTable = [
    ("GET", _TASK_FILES, _list),
    ("GET", f"{_TASK_FILES}/{{file_path:path}}", _get),
    ("HEAD", f"{_TASK_FILES}/{{file_path:path}}", _properties),
    ("DELETE", f"{_TASK_FILES}/{{file_path:path}}", _delete),
    ("GET", _NODE_FILES, _list),
    ("GET", f"{_NODE_FILES}/{{file_path:path}}", _get),
    ("HEAD", f"{_NODE_FILES}/{{file_path:path}}", _properties),
    ("DELETE", f"{_NODE_FILES}/{{file_path:path}}", _delete),
]
