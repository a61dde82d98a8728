"""Compute nodes: ``ComputeNode`` (every field of 20.0), node counts, users, extensions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from batch_tui.batch.models.common import (
    BatchModel,
    CertificateReference,
    ImageReference,
    NameValuePair,
    StartTask,
    StartTaskInfo,
)
from batch_tui.batch.models.task import TaskExecutionInfo
from batch_tui.batch.models.vm import VMExtension


class RecentTask(BatchModel, frozen=True, kw_only=True):
    """``TaskInformation``: a task that ran recently on a node (``task_state``: ``TaskState``)."""

    task_url: str | None = None
    job_id: str | None = None
    task_id: str | None = None
    subtask_id: int | None = None
    task_state: str = ""
    execution_info: TaskExecutionInfo | None = None


class NodeError(BatchModel, frozen=True, kw_only=True):
    """``ComputeNodeError``: why a node is unusable or its start task failed."""

    code: str | None = None
    message: str | None = None
    error_details: tuple[NameValuePair, ...] = ()


class InboundEndpoint(BatchModel, frozen=True, kw_only=True):
    """``InboundEndpoint``: a public port mapped to the node (e.g. ``SSHRule.0`` to 22)."""

    name: str = ""
    protocol: str = ""
    public_ip_address: str | None = msgspec.field(default=None, name="publicIPAddress")
    public_fqdn: str | None = msgspec.field(default=None, name="publicFQDN")
    frontend_port: int = 0
    backend_port: int = 0


class NodeEndpointConfiguration(BatchModel, frozen=True, kw_only=True):
    """``ComputeNodeEndpointConfiguration``."""

    inbound_endpoints: tuple[InboundEndpoint, ...] = ()


class NodeAgentInfo(BatchModel, frozen=True, kw_only=True):
    """``NodeAgentInformation``: the Batch agent's version on a node."""

    version: str = ""
    last_update_time: datetime | None = None


class VirtualMachineInfo(BatchModel, frozen=True, kw_only=True):
    """``VirtualMachineInfo``: the image a node actually runs."""

    image_reference: ImageReference | None = None
    scale_set_vm_resource_id: str | None = None


class Node(BatchModel, frozen=True, kw_only=True):
    """``ComputeNode``. ``state`` is a ``NodeState``, ``scheduling_state`` a ``SchedulingState``."""

    id: str = ""
    url: str = ""
    state: str = ""
    scheduling_state: str = ""
    state_transition_time: datetime | None = None
    last_boot_time: datetime | None = None
    allocation_time: datetime | None = None
    ip_address: str | None = None
    affinity_id: str | None = None
    vm_size: str = ""
    total_tasks_run: int = 0
    running_tasks_count: int = 0
    running_task_slots_count: int = 0
    total_tasks_succeeded: int = 0
    recent_tasks: tuple[RecentTask, ...] = ()
    start_task: StartTask | None = None
    start_task_info: StartTaskInfo | None = None
    certificate_references: tuple[CertificateReference, ...] = ()
    errors: tuple[NodeError, ...] = ()
    is_dedicated: bool | None = None
    endpoint_configuration: NodeEndpointConfiguration | None = None
    node_agent_info: NodeAgentInfo | None = None
    virtual_machine_info: VirtualMachineInfo | None = None


class NodeCounts(BatchModel, frozen=True, kw_only=True):
    """``NodeCounts``: nodes of one priority in a pool, by state (camelCase on the wire)."""

    creating: int = 0
    idle: int = 0
    offline: int = 0
    preempted: int = 0
    rebooting: int = 0
    reimaging: int = 0
    running: int = 0
    starting: int = 0
    start_task_failed: int = 0
    leaving_pool: int = 0
    unknown: int = 0
    unusable: int = 0
    waiting_for_start_task: int = 0
    upgrading_os: int = msgspec.field(default=0, name="upgradingOS")
    deallocated: int = 0
    deallocating: int = 0
    total: int = 0


class PoolNodeCounts(BatchModel, frozen=True, kw_only=True):
    """``PoolNodeCounts``: one item of ``/nodecounts``."""

    pool_id: str = ""
    dedicated: NodeCounts | None = None
    low_priority: NodeCounts | None = None


class NodeUser(BatchModel, frozen=True, kw_only=True):
    """``ComputeNodeUser``: the body of "add user" (the service never returns users).

    The only model that holds a secret, so its repr masks ``password``.
    """

    name: str = ""
    is_admin: bool | None = None
    expiry_time: datetime | None = None
    password: str | None = None
    ssh_public_key: str | None = None

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"NodeUser({fields})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [(name, self._shown(name)) for name in self.__struct_fields__]

    def _shown(self, name: str) -> Any:
        value = getattr(self, name)
        return "***" if name == "password" and value is not None else value


class RemoteLoginSettings(BatchModel, frozen=True, kw_only=True):
    """``ComputeNodeGetRemoteLoginSettingsResult``: where to SSH/RDP to a node."""

    remote_login_ip_address: str = msgspec.field(default="", name="remoteLoginIPAddress")
    remote_login_port: int = 0


class InstanceViewStatus(BatchModel, frozen=True, kw_only=True):
    """``InstanceViewStatus`` of a VM extension (``level``: ``Error|Info|Warning``)."""

    code: str | None = None
    display_status: str | None = None
    level: str | None = None
    message: str | None = None
    time: str | None = None


class ExtensionInstanceView(BatchModel, frozen=True, kw_only=True):
    """``VMExtensionInstanceView``."""

    name: str | None = None
    statuses: tuple[InstanceViewStatus, ...] = ()
    sub_statuses: tuple[InstanceViewStatus, ...] = ()


class NodeVMExtension(BatchModel, frozen=True, kw_only=True):
    """``NodeVMExtension``: an extension on a node and how its provisioning went."""

    provisioning_state: str | None = None
    vm_extension: VMExtension | None = None
    instance_view: ExtensionInstanceView | None = None


class UploadLogsResult(BatchModel, frozen=True, kw_only=True):
    """``UploadBatchServiceLogsResult``."""

    virtual_directory_name: str = ""
    number_of_files_uploaded: int = 0
