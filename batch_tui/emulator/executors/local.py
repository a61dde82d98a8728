"""Provides the `local` executor: each task is a real process in its node's directory tree.

As on a Batch node, the command line does not run under a shell: it is split with `shlex` and
executed directly (`/bin/sh -c '...'` works as on Linux nodes). The process runs in the task's
working directory under `<data_dir>/nodes/<nodeId>/`, writes `stdout.txt` and `stderr.txt` in
the task directory, and sees the `AZ_BATCH_*` variables but none of the emulator's own
environment (which may hold account keys). Each run gets its own process group, so killing a
task kills everything it started.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

from batch_tui.emulator.executors import (
    Executor,
    ExitCallback,
    Outcome,
    RunHandle,
    RunSpec,
)
from batch_tui.emulator.nodefs import NODE_DIRS, STARTUP_DIR, DiskTree, FileTree, split_path

log = logging.getLogger(__name__)

PROGRAM_NOT_FOUND = {
    "category": "usererror",
    "code": "CommandProgramNotFound",
    "message": "The specified command program is not found.",
}
"""The failureInfo the service gives when the command's program does not exist."""

LAUNCH_FAILED = {
    "category": "usererror",
    "code": "CommandLaunchFailed",
    "message": "Failed to launch the specified command line.",
}
"""The failureInfo the service gives when the command line cannot be started."""


def launch_failure(base: dict[str, str], detail: str) -> dict[str, object]:
    """Returns a failureInfo with the OS's reason as a `Message` detail."""
    return {**base, "details": [{"name": "Message", "value": detail}]}


def exit_code_of(returncode: int) -> int:
    """Maps a Python return code to what a Linux node reports: 128 + N for a signal N."""
    return 128 - returncode if returncode < 0 else returncode


class _LocalRun(RunHandle):
    """A running process group and the watcher that reports its exit."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.killed = False
        self.watcher: asyncio.Task[None] | None = None

    def kill(self) -> None:
        if self.killed or self.process.returncode is not None:
            self.killed = True
            return
        self.killed = True
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # already gone


class _FailedRun(RunHandle):
    """A run whose command could not start: there is nothing to kill."""

    def kill(self) -> None:
        return None


class LocalExecutor(Executor):
    """Runs tasks as real processes under `<data_dir>/nodes/<nodeId>/`.

    Args:
        data_dir: The emulator's data directory.
    """

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "nodes"
        self._runs: set[_LocalRun] = set()

    def node_root(self, node_id: str) -> Path:
        """Returns a node's root directory (`AZ_BATCH_NODE_ROOT_DIR`)."""
        return self.root / node_id

    def _dir(self, node_id: str, subdir: str) -> Path:
        return self.node_root(node_id).joinpath(*split_path(subdir))

    def environment(self, spec: RunSpec) -> dict[str, str]:
        """Returns the process environment of `spec`: base, task settings, then directories."""
        node = self.node_root(spec.node_id)
        task = self._dir(spec.node_id, spec.task_dir)
        wd = task / "wd"
        env = {
            "PATH": f"{os.environ.get('PATH', os.defpath)}:{node / 'shared'}:{wd}",
            "HOME": str(wd),
            "LANG": "C.UTF-8",
            **spec.env,
            "AZ_BATCH_NODE_ROOT_DIR": str(node),
            "AZ_BATCH_NODE_SHARED_DIR": str(node / "shared"),
            "AZ_BATCH_NODE_STARTUP_DIR": str(node / STARTUP_DIR),
            "AZ_BATCH_NODE_STARTUP_WORKING_DIR": str(node / STARTUP_DIR / "wd"),
            "AZ_BATCH_NODE_MOUNTS_DIR": str(node / "fsmounts"),
            "AZ_BATCH_TASK_DIR": str(task),
            "AZ_BATCH_TASK_WORKING_DIR": str(wd),
        }
        if spec.prep_dir:
            prep = self._dir(spec.node_id, spec.prep_dir)
            env["AZ_BATCH_JOB_PREP_DIR"] = str(prep)
            env["AZ_BATCH_JOB_PREP_WORKING_DIR"] = str(prep / "wd")
        return env

    async def launch(self, spec: RunSpec, on_exit: ExitCallback) -> RunHandle:
        task = self._dir(spec.node_id, spec.task_dir)
        wd = task / "wd"
        wd.mkdir(parents=True, exist_ok=True)
        try:
            argv = shlex.split(spec.command_line)
            if not argv:
                raise ValueError("the command line is empty")
        except ValueError as exc:
            on_exit(Outcome(None, launch_failure(LAUNCH_FAILED, str(exc))))
            return _FailedRun()
        try:
            process = await self._spawn(argv, task, wd, self.environment(spec))
        except FileNotFoundError as exc:
            on_exit(Outcome(None, launch_failure(PROGRAM_NOT_FOUND, str(exc))))
            return _FailedRun()
        except OSError as exc:
            on_exit(Outcome(None, launch_failure(LAUNCH_FAILED, str(exc))))
            return _FailedRun()
        run = _LocalRun(process)
        self._runs.add(run)
        run.watcher = asyncio.create_task(self._watch(run, on_exit))
        return run

    async def _spawn(
        self, argv: list[str], task: Path, wd: Path, env: dict[str, str]
    ) -> asyncio.subprocess.Process:
        # The files are handed to the child and closed here: the child keeps its own copies.
        with (task / "stdout.txt").open("wb") as out, (task / "stderr.txt").open("wb") as err:
            return await asyncio.create_subprocess_exec(
                *argv,
                cwd=wd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    async def _watch(self, run: _LocalRun, on_exit: ExitCallback) -> None:
        try:
            returncode = await run.process.wait()
        finally:
            self._runs.discard(run)
            run.watcher = None  # no cycle run -> task -> coroutine -> run left behind
        if not run.killed:
            on_exit(Outcome(exit_code_of(returncode)))

    def tree(self, node_id: str, subdir: str = "") -> FileTree:
        return DiskTree(self._dir(node_id, subdir))

    def node_created(self, node_id: str) -> None:
        root = self.node_root(node_id)
        for name in NODE_DIRS:
            (root / name).mkdir(parents=True, exist_ok=True)

    def node_reimaged(self, node_id: str) -> None:
        self.node_removed(node_id)
        self.node_created(node_id)

    def node_removed(self, node_id: str) -> None:
        shutil.rmtree(self.node_root(node_id), ignore_errors=True)

    def delete_dir(self, node_id: str, subdir: str) -> None:
        if split_path(subdir):
            shutil.rmtree(self._dir(node_id, subdir), ignore_errors=True)

    async def shutdown(self) -> None:
        runs = list(self._runs)
        for run in runs:
            run.kill()
        watchers = [run.watcher for run in runs if run.watcher is not None]
        if watchers:
            await asyncio.gather(*watchers, return_exceptions=True)
