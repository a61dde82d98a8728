"""Provides the label/value blocks of the detail screens and panels (pure Content building).

- `section(title, fields)`: a titled block of "label  value" lines (pool, node, task detail);
- `field_lines(pairs)`: aligned "label  value" lines without a title (the job panel);
- the values they show: `styled_state`, `when`, `image_text`, `failure_text`,
  `start_task_fields`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textual.content import Content

from batch_tui.batch.models import ImageReference, StartTask, StartTaskInfo, TaskFailureInfo
from batch_tui.ui.formatting import FAILED, MISSING, format_age, format_time, state_style
from batch_tui.ui.sanitize import sanitize_content, sanitize_text

Value = str | Content | None
"""A field's value: text from the service, styled Content built from it, or missing.

Both are sanitized here (Content keeps its styles), so callers may pass service text as is.
"""

LABEL_WIDTH = 20
"""Cells for a field's label: the longest label ("Allocation state") and a gap."""


def value_content(value: Value) -> Content:
    """Returns a value as sanitized Content (styles kept); None shows as "-"."""
    if value is None or value == "":
        return Content.styled(MISSING, "dim")
    if isinstance(value, Content):
        return sanitize_content(value)
    return Content(sanitize_text(value))


def section(title: str, fields: Sequence[tuple[str, Value]]) -> Content:
    """Renders a titled block of "label  value" lines.

    Title, labels and values may all be service text (a pool id, an environment variable's
    name, its value): each is sanitized.
    """
    lines = [Content.styled(sanitize_text(title), "bold $accent")]
    for label, value in fields:
        shown = f"  {sanitize_text(label):<{LABEL_WIDTH - 2}}"
        lines.append(Content.styled(shown, "$text-muted") + value_content(value))
    return Content("\n").join(lines)


def styled_state(kind: str, state: str) -> Content:
    """A state in its colour (see `formatting.state_style`)."""
    return Content.styled(sanitize_text(state), state_style(kind, state))


def when(moment: datetime | None, now: datetime) -> str:
    """A time with its age: "14:03:27 (3m12s ago)"."""
    if moment is None:
        return MISSING
    return f"{format_time(moment, now)} ({format_age(moment, now)} ago)"


def image_text(image: ImageReference | None) -> str | None:
    """An image as publisher:offer:sku:version, or its gallery/custom id."""
    if image is None:
        return None
    if image.virtual_machine_image_id or image.shared_gallery_image_id:
        return image.virtual_machine_image_id or image.shared_gallery_image_id
    if image.community_gallery_image_id:
        return image.community_gallery_image_id
    version = image.exact_version or image.version
    parts = (image.publisher, image.offer, image.sku, version)
    return ":".join(part or "?" for part in parts)


def failure_text(failure: TaskFailureInfo | None) -> Content | None:
    """A failure as one red line: "usererror FailureExitCode: ..."."""
    if failure is None:
        return None
    text = " ".join(part for part in (failure.category, failure.code, failure.message) if part)
    return Content.styled(sanitize_text(text), FAILED)


def start_task_fields(
    task: StartTask | None, info: StartTaskInfo | None, now: datetime
) -> list[tuple[str, Value]]:
    """The start task's settings and its last run on a node (info may be None for a pool)."""
    if task is None:
        return [("Start task", "none")]
    fields: list[tuple[str, Value]] = [
        ("Command line", task.command_line),
        ("Wait for success", "yes" if task.wait_for_success else "no"),
        (
            "Max retries",
            str(task.max_task_retry_count) if task.max_task_retry_count is not None else None,
        ),
    ]
    if info is None:
        return fields
    failed = info.result == "failure" or bool(info.exit_code)
    result = Content.styled(info.result or info.state, FAILED if failed else "ansi_green")
    fields += [
        ("State", info.state),
        ("Result", result),
        ("Exit code", Content.styled(str(info.exit_code), FAILED if failed else "")
         if info.exit_code is not None else None),
        ("Started", when(info.start_time, now)),
        ("Ended", when(info.end_time, now)),
        ("Retries", str(info.retry_count)),
        ("Failure", failure_text(info.failure_info)),
    ]  # fmt: skip
    return fields


def field_lines(pairs: Sequence[tuple[str, Value]], *, width: int = 14) -> Content:
    """Renders "label  value" lines; values are sanitized, missing ones show as "-".

    Args:
        pairs: (label, value) in display order; a `Content` value keeps its styles.
        width: The label column's width.

    Returns:
        One line per pair.
    """
    lines = []
    for label, value in pairs:
        if value is None or value == "":
            shown = Content(MISSING)
        elif isinstance(value, Content):
            shown = Content(sanitize_text(value.plain)) if _unsafe(value) else value
        else:
            shown = Content(sanitize_text(value))
        lines.append(Content.assemble((f"{label:<{width}}", "bold"), shown))
    return Content("\n").join(lines)


def _unsafe(value: Content) -> bool:
    return sanitize_text(value.plain) != value.plain
