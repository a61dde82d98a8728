"""Provides the lookups every operation starts with: a pool, node, job or task by id, or the
service's 404 for the one missing."""

from __future__ import annotations

from batch_tui.emulator.base.errors import not_found
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.state.store import NodeRecord, Record, TaskRecord


def get_pool(emu: Emulator, pool_id: str) -> Record:
    """Returns a pool or raises 404 PoolNotFound."""
    pool = emu.store.pools.get(pool_id.lower())
    if pool is None:
        raise not_found("Pool")
    return pool


def get_node(emu: Emulator, pool_id: str, node_id: str) -> NodeRecord:
    """Returns a node of a pool or raises 404 PoolNotFound / NodeNotFound."""
    pool = get_pool(emu, pool_id)
    node = emu.store.pool_nodes(pool.id.lower()).get(node_id.lower())
    if node is None:
        raise not_found("Node")
    return node


def get_job(emu: Emulator, job_id: str) -> Record:
    """Returns a job or raises 404 JobNotFound."""
    job = emu.store.jobs.get(job_id.lower())
    if job is None:
        raise not_found("Job")
    return job


def get_task(emu: Emulator, job_id: str, task_id: str) -> TaskRecord:
    """Returns a task or raises 404 JobNotFound / TaskNotFound."""
    job = get_job(emu, job_id)
    task = emu.store.job_tasks(job.id.lower()).get(task_id.lower())
    if task is None:
        raise not_found("Task")
    return task
