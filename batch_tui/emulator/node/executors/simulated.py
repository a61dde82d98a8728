"""Provides the `simulated` executor: no processes, deterministic results, virtual files.

So that 100,000-task jobs cost little, a simulated run starts no process. Its result follows a
documented, deterministic rule (`plan_run`):

- exit code: the last `exit N` in the command line, if any. Otherwise a job task (`kind`
  "task") fails with exit code 1 when a hash of its job id and task id falls in the bottom
  `FAIL_PER_MILLE` of 1000 (a stable ~3% of tasks); start, preparation and release tasks
  succeed.
- duration: `sleep N` in the command line makes it N seconds scaled by
  `mean_seconds / REFERENCE_MEAN_SECONDS` (so the default timings run `sleep 10` in 10 s and
  fast test timings shrink it); otherwise it is between 0.5 and 1.5 times `mean_seconds`,
  chosen by the hash.
- output: `stdout.txt` holds a start line, the text of every `echo` in the command line and a
  few progress lines; `stderr.txt` is empty unless the exit code is nonzero. While the run goes
  on, the files show a prefix proportional to the time elapsed, so a follow-mode viewer sees
  them grow. Content is generated on read; nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from batch_tui.emulator.base.clock import Clock
from batch_tui.emulator.node.executors import (
    CallLater,
    Executor,
    ExitCallback,
    Outcome,
    RunHandle,
    RunSpec,
)
from batch_tui.emulator.node.files import NODE_DIRS, FileTree, VirtualFile, VirtualTree, split_path

FAIL_PER_MILLE = 30
"""How many job tasks in 1000 fail when the command line does not say (a stable 3%)."""

REFERENCE_MEAN_SECONDS = 2.0
"""The default `Timings.simulated_task_seconds`; `sleep N` is scaled relative to it."""

_EXIT = re.compile(r"\bexit\s+(-?\d+)")
_SLEEP = re.compile(r"\bsleep\s+(\d+(?:\.\d+)?)")
_ECHO = re.compile(r"\becho\s+([^;&|]*)")


def _hash(*parts: str) -> int:
    digest = hashlib.sha256("\n".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class RunPlan:
    """The deterministic result of a simulated run."""

    duration: float
    exit_code: int
    stdout: list[str]
    stderr: list[str]


def plan_run(spec: RunSpec, mean_seconds: float) -> RunPlan:
    """Returns what a simulated run of `spec` does (see the module docstring for the rule)."""
    h = _hash(spec.job_id, spec.task_id, spec.kind, spec.command_line)
    identity = _hash(spec.job_id, spec.task_id)
    exits = _EXIT.findall(spec.command_line)
    if exits:
        exit_code = int(exits[-1])
    elif spec.kind == "task" and identity % 1000 < FAIL_PER_MILLE:
        exit_code = 1
    else:
        exit_code = 0
    sleeps = _SLEEP.findall(spec.command_line)
    if sleeps:
        duration = float(sleeps[-1]) * mean_seconds / REFERENCE_MEAN_SECONDS
    else:
        duration = mean_seconds * (0.5 + (h % 1000) / 1000)
    return RunPlan(duration, exit_code, _stdout(spec, h), _stderr(spec, exit_code))


def _stdout(spec: RunSpec, h: int) -> list[str]:
    name = f"task {spec.task_id} of job {spec.job_id}" if spec.task_id else f"{spec.kind} task"
    lines = [f"{name} started on node {spec.node_id}"]
    lines += [match.strip().strip("'\"") for match in _ECHO.findall(spec.command_line)]
    steps = 3 + h % 8
    lines += [f"step {i} of {steps} done" for i in range(1, steps + 1)]
    return lines


def _stderr(spec: RunSpec, exit_code: int) -> list[str]:
    if exit_code == 0:
        return []
    return [f"error: {spec.command_line!r} exited with code {exit_code}"]


@dataclass
class _Output:
    """The files of one run: what it prints, and how much of it is visible at a time."""

    plan: RunPlan
    started: datetime
    ended: datetime | None = None
    finished: bool = False
    """True when the run ran to its end (not killed): all its output is then visible."""

    def _visible(self, lines: list[str], now: datetime) -> bytes:
        if self.finished:
            shown = lines
        else:
            at = min(now, self.ended) if self.ended is not None else now
            elapsed = (at - self.started).total_seconds()
            duration = self.plan.duration
            fraction = 1.0 if duration <= 0 else min(1.0, elapsed / duration)
            shown = lines[: max(1, int(len(lines) * fraction))]
        return "".join(f"{line}\n" for line in shown).encode("utf-8")

    def stdout(self, now: datetime) -> bytes:
        return self._visible(self.plan.stdout, now)

    def stderr(self, now: datetime) -> bytes:
        return self._visible(self.plan.stderr, now) if self.finished else b""

    def modified(self, now: datetime) -> datetime:
        return self.ended or now


@dataclass
class _Node:
    """A simulated node's disk: the outputs of the runs it hosted."""

    created: datetime
    outputs: dict[str, _Output] = field(default_factory=dict)
    """Run directory (relative to the node root) -> its output."""
    deleted: set[str] = field(default_factory=set)


class _SimRun(RunHandle):
    def __init__(self, output: _Output, clock: Clock) -> None:
        self.output = output
        self.clock = clock
        self.cancel: Callable[[], None] | None = None

    def kill(self) -> None:
        if self.cancel is not None:
            self.cancel()
            self.cancel = None
            if self.output.ended is None:
                self.output.ended = self.clock.now()


class SimulatedExecutor(Executor):
    """Synthesises runs on the engine's clock.

    Args:
        clock: The emulator clock, for file times.
        call_later: Schedules a run's end on the engine's timers.
        mean_seconds: The mean duration of a task (`Timings.simulated_task_seconds`).
    """

    def __init__(self, clock: Clock, call_later: CallLater, mean_seconds: float) -> None:
        self.clock = clock
        self.call_later = call_later
        self.mean_seconds = mean_seconds
        self._nodes: dict[str, _Node] = {}

    def _node(self, node_id: str) -> _Node:
        node = self._nodes.get(node_id)
        if node is None:
            node = self._nodes[node_id] = _Node(self.clock.now())
        return node

    async def launch(self, spec: RunSpec, on_exit: ExitCallback) -> RunHandle:
        plan = plan_run(spec, self.mean_seconds)
        node = self._node(spec.node_id)
        run_dir = "/".join(split_path(spec.task_dir))
        node.deleted = {p for p in node.deleted if not _under(p, run_dir)}
        output = _Output(plan, self.clock.now())
        node.outputs[run_dir] = output
        run = _SimRun(output, self.clock)

        def finish() -> None:
            run.cancel = None
            output.ended = self.clock.now()
            output.finished = True
            on_exit(Outcome(plan.exit_code))

        run.cancel = self.call_later(plan.duration, finish)
        return run

    def tree(self, node_id: str, subdir: str = "") -> FileTree:
        node = self._node(node_id)
        prefix = "/".join(split_path(subdir))
        now = self.clock.now()
        files: dict[str, VirtualFile] = {}
        dirs = set(NODE_DIRS)
        for run_dir, output in node.outputs.items():
            if prefix and not _under(run_dir, prefix):
                continue
            dirs.add(f"{run_dir}/wd")
            files[f"{run_dir}/stdout.txt"] = _file(output, now, output.stdout)
            files[f"{run_dir}/stderr.txt"] = _file(output, now, output.stderr)
        return VirtualTree(files, dirs, node.created, node.deleted, prefix)

    def record_past_run(
        self,
        node_id: str,
        task_dir: str,
        ran: tuple[datetime, datetime],
        exit_code: int,
        output: tuple[list[str], list[str]],
    ) -> None:
        """Records a run that ended before the emulator started (a seeded scenario's history),
        so that its `stdout.txt` and `stderr.txt` are served like those of a run of this one.

        Args:
            node_id: The node it ran on.
            task_dir: Its directory, relative to the node root.
            ran: When it started and ended.
            exit_code: Its exit code.
            output: Its stdout and stderr lines.
        """
        plan = RunPlan(0.0, exit_code, output[0], output[1])
        run_dir = "/".join(split_path(task_dir))
        self._node(node_id).outputs[run_dir] = _Output(plan, ran[0], ran[1], finished=True)

    def node_created(self, node_id: str) -> None:
        self._node(node_id)

    def node_reimaged(self, node_id: str) -> None:
        node = self._node(node_id)
        node.outputs.clear()
        node.deleted.clear()

    def node_removed(self, node_id: str) -> None:
        self._nodes.pop(node_id, None)

    def delete_dir(self, node_id: str, subdir: str) -> None:
        node = self._nodes.get(node_id)
        prefix = "/".join(split_path(subdir))
        if node is None or not prefix:
            return
        for run_dir in [d for d in node.outputs if _under(d, prefix)]:
            del node.outputs[run_dir]

    async def shutdown(self) -> None:
        return None


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(f"{prefix}/")


def _file(output: _Output, now: datetime, content: Callable[[datetime], bytes]) -> VirtualFile:
    return VirtualFile(
        created=output.started,
        modified=output.modified(now),
        content=lambda: content(now),
    )
