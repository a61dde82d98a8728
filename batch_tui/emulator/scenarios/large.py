"""Provides the `large` scenario: 2,000+ nodes and a 100,000-task job in mixed states, seeded fast.

`add_pool` and `add_job` create the pools and jobs as the REST routes do. Nodes and tasks are
then built in bulk, in the wire shape the routes and the engine produce (`build_node`,
`build_task`), and patched into their final states with timings spread over the past hours of
the emulator clock, so nothing waits for a node to boot. The engine learns about them through
the hooks the routes use: each node through the node manager's `sync` (the scheduler records
its free slots) and each job's tasks through `tasks_added` (active ones are queued). On its
first tick the scheduler places waiting tasks on the free slots; they run under the
`simulated` executor for the minutes their `sleep` says, finish, and the next ones start.

Tasks seeded as completed never ran under the executor; the failed ones have the output files
their kind of failure wrote (`scenario_large_failures`), the others none. Nodes
are seeded by `scenario_large_nodes`, tasks by `scenario_large_tasks`; this module holds the
plan (which pools and jobs, in what proportions) and runs it.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.scenarios.large_nodes import PoolPlan, seed_pool
from batch_tui.emulator.scenarios.large_tasks import JobPlan, seed_job
from batch_tui.emulator.scenarios.shell import sh
from batch_tui.emulator.state.store import NodeRecord

LARGE_JOB = "big-render"
"""The id of the scenario's 100,000-task job (benchmarks list it)."""

MILLION_TASKS = 1_000_000
"""The size of `big-render` in the `large-1m` scenario (ten times the `large` one)."""

POOL_PLANS = (
    PoolPlan(
        "render-large", "Frame rendering (large)", "standard_d4s_v3", 0.6, slots=2,
        low_priority=0.15, start_failed=0.01, offline=0.01, unusable=0.003, preempted=0.05,
    ),
    PoolPlan("etl-large", "ETL workers", "standard_e8s_v3", 0.2, slots=4, offline=0.02),
    PoolPlan(
        "spot-large", "Parameter sweeps (spot)", "standard_f4s_v2", 0.15,
        low_priority=1.0, unusable=0.01, preempted=0.04,
    ),
    PoolPlan(
        "gpu-large", "Model training (GPU)", "standard_nc6s_v3", 0.05,
        start_failed=0.3, unusable=0.02,
        start_task=sh("echo checking GPU driver; nvidia-smi; sleep 20"),
    ),
)  # fmt: skip
"""The scenario's pools, in the order `seed_large(pools=N)` takes them."""


FAILED_SHARE = 1 / 6
"""The part of the big job's completed tasks that failed: 10,000 of its 60,000 (triage's
benchmark groups them)."""

JOB_PLANS = (
    JobPlan(
        LARGE_JOB, "Feature render, all shots", 0, 1.0, 0.6, FAILED_SHARE,
        extra={"priority": 100, "constraints": {"maxTaskRetryCount": 2}},
    ),
    JobPlan(
        "etl-nightly", "Nightly ETL", 1, 0.02, 1.0, 0.01,
        extra={"onAllTasksComplete": "terminatejob"},
    ),
    JobPlan("spot-sweep", "Hyper-parameter sweep", 2, 0.03, 0.5, 0.08),
    JobPlan("gpu-train", "Training epochs", 3, 0.0002, 0.25, 0.0, minimum=24),
)  # fmt: skip
"""The scenario's jobs: the big one, then a few smaller ones."""


@dataclass(frozen=True)
class LargeSummary:
    """What `seed_large` created."""

    pools: dict[str, int]
    """Pool id -> node count."""
    jobs: dict[str, int]
    """Job id -> task count."""
    seconds: float
    """How long seeding took (wall time)."""


def seed_large(
    emu: Emulator,
    *,
    nodes: int = 2000,
    tasks: int = 100_000,
    pools: int = len(POOL_PLANS),
    seed: int = 42,
    big_job_tasks: int | None = None,
) -> LargeSummary:
    """Seeds an account with `nodes` nodes across `pools` pools and a `tasks`-task job.

    Args:
        emu: The emulator; use the `simulated` executor (the `local` one would run every
            placed task as a process).
        nodes: Nodes across the pools, shared as `POOL_PLANS` says.
        tasks: Tasks of the big job (`LARGE_JOB`); the smaller jobs are sized from it.
        pools: How many of `POOL_PLANS` to create (1 to 4); jobs of missing pools are skipped.
        seed: Makes every state, exit code and timing repeat.
        big_job_tasks: The big job's task count when it is not `tasks` (the `large-1m`
            scenario: a million tasks in it, the smaller jobs sized from `tasks` as usual).

    Returns:
        The pools and jobs created, and how long it took.
    """
    began = time.perf_counter()
    collecting = gc.isenabled()
    # The records are hundreds of thousands of small dicts that all stay alive: collecting
    # while they are made finds no garbage and costs a third of the seeding time.
    gc.disable()
    try:
        pools_made, jobs = _seed_all(emu, nodes, tasks, pools, seed, big_job_tasks)
    finally:
        if collecting:
            gc.enable()
    return LargeSummary(pools_made, jobs, time.perf_counter() - began)


def _seed_all(
    emu: Emulator, nodes: int, tasks: int, pools: int, seed: int, big_job_tasks: int | None
) -> tuple[dict[str, int], dict[str, int]]:
    plans = POOL_PLANS[: max(1, min(pools, len(POOL_PLANS)))]
    total = sum(plan.share for plan in plans)
    pool_nodes: dict[int, list[NodeRecord]] = {}
    for index, plan in enumerate(plans):
        count = max(1, round(nodes * plan.share / total))
        pool_nodes[index] = seed_pool(emu, plan, count, seed=seed)
    jobs: dict[str, int] = {}
    for job_plan in JOB_PLANS:
        if job_plan.pool in pool_nodes:
            count = max(job_plan.minimum, round(tasks * job_plan.share))
            if job_plan.id == LARGE_JOB and big_job_tasks is not None:
                count = big_job_tasks
            seed_job(emu, job_plan, count, pool_nodes[job_plan.pool], seed=seed)
            jobs[job_plan.id] = count
    return {plans[i].id: len(found) for i, found in pool_nodes.items()}, jobs


def keep_seeded(summary: LargeSummary) -> LargeSummary:
    """Hides what seeding made from the garbage collector for good (`gc.freeze`).

    An emulator serving a scenario keeps its records for its whole life, and collecting
    never frees them; but each full collection walks every one, and a page of 1,000 tasks
    allocates enough to set one off now and then: with a 1,000,000-task job that made a page
    take five times as long (the time shows up in whatever allocated). A record deleted later
    is still freed when nothing refers to it; only cycles among the frozen are never freed.
    Not done by `seed_large` itself: tests seed emulator after emulator in one process.
    """
    gc.collect()
    gc.freeze()
    return summary


def seed_large_scenario(emu: Emulator) -> None:
    """The `large` scenario's seeder: `seed_large` at its full size.

    Raises:
        ValueError: Unless the executor is `simulated`: the `local` one would start a real
            process for each of the 2,000-odd tasks that begin running at once.
    """
    if emu.settings.executor != "simulated":
        raise ValueError("the large scenario needs the simulated executor (--executor simulated)")
    keep_seeded(seed_large(emu))


def seed_million_scenario(emu: Emulator, *, tasks: int = MILLION_TASKS) -> None:
    """The `large-1m` scenario's seeder: the `large` scenario with a `tasks`-task big job.

    The smaller jobs stay at their size in the `large` scenario (a few thousand tasks each):
    only `big-render` grows, so the scenario is about one very big list, not ten times the
    account. Seeding takes about 30 s and the emulator about 2.8 GB for 1,000,000 tasks.

    Args:
        emu: The emulator (the `simulated` executor).
        tasks: The big job's task count; tests pass a small one.

    Raises:
        ValueError: Unless the executor is `simulated`.
    """
    if emu.settings.executor != "simulated":
        raise ValueError(
            "the large-1m scenario needs the simulated executor (--executor simulated)"
        )
    keep_seeded(seed_large(emu, big_job_tasks=tasks))


__all__ = [
    "JOB_PLANS",
    "LARGE_JOB",
    "MILLION_TASKS",
    "POOL_PLANS",
    "JobPlan",
    "LargeSummary",
    "PoolPlan",
    "keep_seeded",
    "seed_job",
    "seed_large",
    "seed_large_scenario",
    "seed_million_scenario",
    "seed_pool",
]
