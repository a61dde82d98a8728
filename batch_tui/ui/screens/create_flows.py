"""Provides the flows that create a task or a job from an edited JSON body: `a` and `C`.

Each opens `JsonEditorScreen` at once, so the keys typed next go into it, and the editor
loads its text: a template naming a free id (and, for a job, an existing pool), or a task's
own body under a new id (``<id>-rerun-1``, the next free one) with the cursor on its command
line. What the text becomes and how it is sent is the API layer's (`add_bodies`,
`BatchClient.add_task` / `add_job`). Once the service accepted it, the new task or job opens
and a toast says it was added.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from itertools import count, islice
from typing import TYPE_CHECKING, Final

from batch_tui.batch.add_bodies import (
    EditorText,
    job_add_template,
    parse_job_add,
    parse_task_add,
    rerun_ids,
    task_add_body_from,
    task_add_template,
)
from batch_tui.batch.errors import NotFound
from batch_tui.batch.models.constants import PoolState
from batch_tui.ui.actions import ACTIONS
from batch_tui.ui.routes import route
from batch_tui.ui.sanitize import sanitize_text
from batch_tui.ui.screens.json_editor import Creation, JsonEditorScreen

if TYPE_CHECKING:
    from batch_tui.batch.client import BatchClient
    from batch_tui.batch.models.task import Task
    from batch_tui.ui.screens.base import BatchScreen

MAX_ID_PROBES: Final = 10
"""Ids tried for a free one (a GET each). Past them the last is proposed anyway: the
service's 409 (TaskExists) then shows in the editor, and the id can be changed there."""

POOL_PLACEHOLDER: Final = "POOL-ID"
"""The pool a new job's template names when the account has none."""


async def free_id(candidates: Iterable[str], exists: Callable[[str], Awaitable[bool]]) -> str:
    """The first candidate id that `exists` says is free, trying at most `MAX_ID_PROBES`."""
    last = ""
    for candidate in islice(candidates, MAX_ID_PROBES):
        if not await exists(candidate):
            return candidate
        last = candidate
    return last


def _task_exists(client: BatchClient, job_id: str) -> Callable[[str], Awaitable[bool]]:
    async def exists(task_id: str) -> bool:
        try:
            await client.get_task(job_id, task_id, select=["id"])
        except NotFound:
            return False
        return True

    return exists


async def _job_exists_in(client: BatchClient, job_id: str) -> bool:
    try:
        await client.get_job(job_id, select=["id"])
    except NotFound:
        return False
    return True


def _added(
    screen: BatchScreen, toast: Callable[[str], str], opened: Callable[[str], None]
) -> Callable[[str | None], None]:
    """The editor's callback: once it created something, a toast and its screen."""

    def done(created: str | None) -> None:
        if created is None:
            return
        screen.cache.invalidate()
        screen.notify(sanitize_text(toast(created)), markup=False)
        opened(created)

    return done


def _task_editor(
    screen: BatchScreen, job_id: str, title: str, load: Callable[[], Awaitable[EditorText]]
) -> None:
    client = screen.client

    def prepare(text: str) -> Creation:
        body = parse_task_add(text)
        return Creation(
            ACTIONS["task.add"], body.id, f"job {job_id}", lambda: client.add_task(job_id, body)
        )

    def opened(task_id: str) -> None:
        screen.batch_app.open(route("task", job_id, task_id))

    def toast(task_id: str) -> str:
        return f"Added task {task_id} to job {job_id}"

    editor = JsonEditorScreen(title, load, prepare)
    screen.app.push_screen(editor, callback=_added(screen, toast, opened))


def add_task(screen: BatchScreen, job_id: str) -> None:
    """Opens the editor on a Task Add template (`a` on the job screen)."""
    client = screen.client

    async def load() -> EditorText:
        ids = (f"task-{number}" for number in count(1))
        return task_add_template(await free_id(ids, _task_exists(client, job_id)))

    _task_editor(screen, job_id, f"Add a task to job {job_id}", load)


def clone_task(screen: BatchScreen, job_id: str, task_id: str, task: Task | None = None) -> None:
    """Opens the editor on a task's body under a new id, the cursor on its command line
    (`C`): the usual rerun of a failed task after a fix.

    Args:
        screen: The screen it starts from.
        job_id: The task's job.
        task_id: The task to clone.
        task: The task as last fetched whole, if at hand (a list's rows are partial).
    """
    client = screen.client

    async def load() -> EditorText:
        model = task if task is not None else await client.get_task(job_id, task_id)
        new_id = await free_id(rerun_ids(task_id), _task_exists(client, job_id))
        return task_add_body_from(model, new_id)

    _task_editor(screen, job_id, f"Clone task {task_id} of job {job_id}", load)


def add_job(screen: BatchScreen) -> None:
    """Opens the editor on a Job Add template naming an existing pool (`a` on the job list)."""
    client = screen.client

    async def load() -> EditorText:
        pools = await client.list_pools(select=["id", "state"])
        active = sorted(pool.id for pool in pools if pool.state == PoolState.ACTIVE)
        ids = (f"job-{number}" for number in count(1))
        job_id = await free_id(ids, lambda candidate: _job_exists_in(client, candidate))
        return job_add_template(job_id, active[0] if active else POOL_PLACEHOLDER)

    def prepare(text: str) -> Creation:
        body = parse_job_add(text)
        where = f"pool {body.pool_id}" if body.pool_id else ""
        return Creation(ACTIONS["job.add"], body.id, where, lambda: client.add_job(body))

    def opened(job_id: str) -> None:
        screen.batch_app.open(route("job", job_id))

    def toast(job_id: str) -> str:
        return f"Added job {job_id}"

    editor = JsonEditorScreen("Add a job", load, prepare)
    screen.app.push_screen(editor, callback=_added(screen, toast, opened))
