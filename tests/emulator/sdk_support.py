"""Helpers of the SDK tests: a bounded wait for what the official client sees, and a pool's
create options."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from azure.batch import models as m

from tests.polling import wait_until

T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    """Polls `probe` until it returns something truthy (a bounded condition wait)."""
    return wait_until(probe, seconds=timeout, every=0.02, what=f"timed out waiting for {what}")


def pool_options(pool_id: str) -> m.BatchPoolCreateOptions:
    """A Linux pool of 3 dedicated nodes with 4 task slots each and a start task."""
    image = m.BatchVmImageReference(
        publisher="canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts"
    )
    return m.BatchPoolCreateOptions(
        id=pool_id,
        vm_size="standard_d2s_v3",
        virtual_machine_configuration=m.VirtualMachineConfiguration(
            image_reference=image, node_agent_sku_id="batch.node.ubuntu 22.04"
        ),
        target_dedicated_nodes=3,
        task_slots_per_node=4,
        start_task=m.BatchStartTask(command_line="/bin/sh -c 'echo started'"),
    )
