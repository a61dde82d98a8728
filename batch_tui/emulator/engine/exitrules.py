"""Provides how a task's end is recorded and judged: its result and its exit conditions.

A completed task carries `exitCode` (absent when it never started), `result` and, on failure,
a `failureInfo`. Its `exitConditions` then map the exit code (or a pre-processing error: the
task could not start; or a file upload error) to a job action and a dependency action, with the
service's defaults: `none`/`satisfy` for exit code 0, `terminate`/`block` for anything else.
"""

from __future__ import annotations

from typing import Any

from batch_tui.emulator.engine.runtime import EXIT_CODE_FAILURE, failure
from batch_tui.emulator.state.store import TaskRecord


def set_result(info: dict[str, Any], code: int | None, fail: dict[str, Any] | None) -> None:
    """Writes an ended run into an execution info: exit code, result and failureInfo.

    Args:
        info: The task's (or start task's) execution info, changed in place.
        code: The exit code, or None when the task never ran a process.
        fail: The failureInfo, or None to derive it (a nonzero exit code is a
            `FailureExitCode`).
    """
    if code is None:
        info.pop("exitCode", None)
    else:
        info["exitCode"] = code
    if fail is None and code == 0:
        info["result"] = "success"
        info.pop("failureInfo", None)
    else:
        info["result"] = "failure"
        info["failureInfo"] = fail or failure(*EXIT_CODE_FAILURE)


def _listed_options(conditions: dict[str, Any], exit_code: int) -> dict[str, Any] | None:
    for mapping in conditions.get("exitCodes") or []:
        if int(mapping.get("code", 0)) == exit_code:
            return dict(mapping.get("exitOptions") or {})
    for span in conditions.get("exitCodeRanges") or []:
        if int(span.get("start", 0)) <= exit_code <= int(span.get("end", 0)):
            return dict(span.get("exitOptions") or {})
    return None


def _matching_options(conditions: dict[str, Any], exit_code: int) -> dict[str, Any] | None:
    listed = _listed_options(conditions, exit_code)
    return listed if listed is not None or exit_code == 0 else conditions.get("default")


def exit_options(
    task: TaskRecord, exit_code: int | None, *, upload_failed: bool = False
) -> tuple[str, str]:
    """Returns the (jobAction, dependencyAction) the task's exit conditions give.

    Args:
        task: The task.
        exit_code: Its exit code, or None for a pre-processing error (it could not start).
        upload_failed: Whether its output files failed to upload; an exit code listed in
            `exitCodes`/`exitCodeRanges` still takes precedence over `fileUploadError` (spec).
    """
    conditions = task.data.get("exitConditions") or {}
    if exit_code is None:
        options = conditions.get("preProcessingError") or conditions.get("default")
    elif upload_failed:
        options = _listed_options(conditions, exit_code)
        options = options or conditions.get("fileUploadError") or conditions.get("default")
    else:
        options = _matching_options(conditions, exit_code)
    success = exit_code == 0 and not upload_failed
    options = options or {}
    job_action = options.get("jobAction") or ("none" if success else "terminate")
    dependency = options.get("dependencyAction") or ("satisfy" if success else "block")
    return str(job_action), str(dependency)
