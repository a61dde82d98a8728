"""Pools: ``CloudPool`` with its allocation state, resize errors, autoscale runs and stats."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from batch_tui.batch.models.common import (
    ApplicationPackageReference,
    BatchModel,
    CertificateReference,
    MetadataItem,
    NameValuePair,
    StartTask,
)
from batch_tui.batch.models.vm import (
    MountConfiguration,
    NetworkConfiguration,
    PoolIdentity,
    TaskSchedulingPolicy,
    UpgradePolicy,
    UserAccount,
    VirtualMachineConfiguration,
)


class ResizeError(BatchModel, frozen=True, kw_only=True):
    """``ResizeError``: why the last resize of a pool failed or fell short."""

    code: str = ""
    message: str | None = None
    values: tuple[NameValuePair, ...] = ()


class AutoScaleRunError(BatchModel, frozen=True, kw_only=True):
    """``AutoScaleRunError``: why an autoscale formula evaluation failed."""

    code: str = ""
    message: str | None = None
    values: tuple[NameValuePair, ...] = ()


class AutoScaleRun(BatchModel, frozen=True, kw_only=True):
    """``AutoScaleRun``: the last (or an on-demand) evaluation of the autoscale formula.

    ``results`` is the service's ``$name=value;...`` text of the formula's variables.
    """

    timestamp: datetime | None = None
    results: str | None = None
    error: AutoScaleRunError | None = None


class UsageStatistics(BatchModel, frozen=True, kw_only=True):
    """``UsageStatistics`` of a pool."""

    start_time: datetime | None = None
    last_update_time: datetime | None = None
    dedicated_core_time: timedelta | None = None


class ResourceStatistics(BatchModel, frozen=True, kw_only=True):
    """``ResourceStatistics`` of a pool (the service's odd capitalisation is kept on the wire)."""

    start_time: datetime | None = None
    last_update_time: datetime | None = None
    avg_cpu_percentage: float = msgspec.field(default=0.0, name="avgCPUPercentage")
    avg_memory_gib: float = msgspec.field(default=0.0, name="avgMemoryGiB")
    peak_memory_gib: float = msgspec.field(default=0.0, name="peakMemoryGiB")
    avg_disk_gib: float = msgspec.field(default=0.0, name="avgDiskGiB")
    peak_disk_gib: float = msgspec.field(default=0.0, name="peakDiskGiB")
    disk_read_iops: int = msgspec.field(default=0, name="diskReadIOps")
    disk_write_iops: int = msgspec.field(default=0, name="diskWriteIOps")
    disk_read_gib: float = msgspec.field(default=0.0, name="diskReadGiB")
    disk_write_gib: float = msgspec.field(default=0.0, name="diskWriteGiB")
    network_read_gib: float = msgspec.field(default=0.0, name="networkReadGiB")
    network_write_gib: float = msgspec.field(default=0.0, name="networkWriteGiB")


class PoolStatistics(BatchModel, frozen=True, kw_only=True):
    """``PoolStatistics`` (``$expand=stats``)."""

    url: str = ""
    start_time: datetime | None = None
    last_update_time: datetime | None = None
    usage_stats: UsageStatistics | None = None
    resource_stats: ResourceStatistics | None = None


class Pool(BatchModel, frozen=True, kw_only=True):
    """``CloudPool``. ``state`` is a ``PoolState``, ``allocation_state`` an ``AllocationState``.

    ``resize_timeout`` and ``auto_scale_evaluation_interval`` are durations. Node counts per
    state come from ``/nodecounts`` (``PoolNodeCounts``), not from the pool.
    """

    id: str = ""
    display_name: str | None = None
    url: str = ""
    e_tag: str | None = None
    last_modified: datetime | None = None
    creation_time: datetime | None = None
    state: str = ""
    state_transition_time: datetime | None = None
    allocation_state: str = ""
    allocation_state_transition_time: datetime | None = None
    vm_size: str = ""
    virtual_machine_configuration: VirtualMachineConfiguration | None = None
    resize_timeout: timedelta | None = None
    resize_errors: tuple[ResizeError, ...] = ()
    current_dedicated_nodes: int = 0
    current_low_priority_nodes: int = 0
    target_dedicated_nodes: int = 0
    target_low_priority_nodes: int = 0
    enable_auto_scale: bool = False
    auto_scale_formula: str | None = None
    auto_scale_evaluation_interval: timedelta | None = None
    auto_scale_run: AutoScaleRun | None = None
    enable_inter_node_communication: bool = False
    network_configuration: NetworkConfiguration | None = None
    start_task: StartTask | None = None
    certificate_references: tuple[CertificateReference, ...] = ()
    application_package_references: tuple[ApplicationPackageReference, ...] = ()
    task_slots_per_node: int = 1
    task_scheduling_policy: TaskSchedulingPolicy | None = None
    user_accounts: tuple[UserAccount, ...] = ()
    metadata: tuple[MetadataItem, ...] = ()
    stats: PoolStatistics | None = None
    mount_configuration: tuple[MountConfiguration, ...] = ()
    identity: PoolIdentity | None = None
    target_node_communication_mode: str | None = None
    current_node_communication_mode: str | None = None
    upgrade_policy: UpgradePolicy | None = None
    resource_tags: dict[str, str] | None = None


class PoolSpecification(BatchModel, frozen=True, kw_only=True):
    """``PoolSpecification``: the pool an auto-pool job or job schedule creates."""

    vm_size: str = ""
    display_name: str | None = None
    virtual_machine_configuration: VirtualMachineConfiguration | None = None
    task_slots_per_node: int | None = None
    task_scheduling_policy: TaskSchedulingPolicy | None = None
    resize_timeout: timedelta | None = None
    target_dedicated_nodes: int | None = None
    target_low_priority_nodes: int | None = None
    enable_auto_scale: bool | None = None
    auto_scale_formula: str | None = None
    auto_scale_evaluation_interval: timedelta | None = None
    enable_inter_node_communication: bool | None = None
    network_configuration: NetworkConfiguration | None = None
    start_task: StartTask | None = None
    certificate_references: tuple[CertificateReference, ...] = ()
    application_package_references: tuple[ApplicationPackageReference, ...] = ()
    user_accounts: tuple[UserAccount, ...] = ()
    metadata: tuple[MetadataItem, ...] = ()
    mount_configuration: tuple[MountConfiguration, ...] = ()
    target_node_communication_mode: str | None = None
    upgrade_policy: UpgradePolicy | None = None
    resource_tags: dict[str, str] | None = None


class PoolUsageMetrics(BatchModel, frozen=True, kw_only=True):
    """``PoolUsageMetrics`` (``/poolusagemetrics``, deprecated by the service)."""

    pool_id: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    vm_size: str = ""
    total_core_hours: float = 0.0
