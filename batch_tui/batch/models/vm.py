"""How a pool's nodes are built: VM image and disks, network, mounts, identity, upgrades.

Secrets the service accepts in these objects (account keys, SAS keys, passwords, private
keys, protected extension settings) are not modelled, so they can never reach the screen.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec

from batch_tui.batch.models.common import (
    BatchModel,
    ContainerRegistry,
    IdentityReference,
    ImageReference,
)


class WindowsConfiguration(BatchModel, frozen=True, kw_only=True):
    """``WindowsConfiguration``."""

    enable_automatic_updates: bool | None = None


class DataDisk(BatchModel, frozen=True, kw_only=True):
    """``DataDisk``: a data disk attached to each node."""

    lun: int = 0
    disk_size_gb: int = msgspec.field(default=0, name="diskSizeGB")
    caching: str | None = None
    storage_account_type: str | None = None


class ContainerConfiguration(BatchModel, frozen=True, kw_only=True):
    """``ContainerConfiguration``: container support on a pool's nodes."""

    type: str = ""
    container_image_names: tuple[str, ...] = ()
    container_registries: tuple[ContainerRegistry, ...] = ()


class DiskEncryptionConfiguration(BatchModel, frozen=True, kw_only=True):
    """``DiskEncryptionConfiguration``: ``osdisk`` and/or ``temporarydisk``."""

    targets: tuple[str, ...] = ()


class NodePlacementConfiguration(BatchModel, frozen=True, kw_only=True):
    """``NodePlacementConfiguration``: ``regional`` or ``zonal``."""

    policy: str | None = None


class VMExtension(BatchModel, frozen=True, kw_only=True):
    """``VMExtension``, without ``protectedSettings``.

    ``settings`` is free-form JSON: an object per the spec, but the spec's own example sends
    a JSON document inside a string, so both decode.
    """

    name: str = ""
    publisher: str = ""
    type: str = ""
    type_handler_version: str | None = None
    auto_upgrade_minor_version: bool | None = None
    enable_automatic_upgrade: bool | None = None
    settings: dict[str, Any] | str | None = None
    provision_after_extensions: tuple[str, ...] = ()


class DiffDiskSettings(BatchModel, frozen=True, kw_only=True):
    """``DiffDiskSettings``: where an ephemeral OS disk lives."""

    placement: str | None = None


class VMDiskSecurityProfile(BatchModel, frozen=True, kw_only=True):
    """``VMDiskSecurityProfile``."""

    security_encryption_type: str | None = None


class ManagedDisk(BatchModel, frozen=True, kw_only=True):
    """``ManagedDisk``."""

    storage_account_type: str | None = None
    security_profile: VMDiskSecurityProfile | None = None


class OSDisk(BatchModel, frozen=True, kw_only=True):
    """``OSDisk``."""

    ephemeral_os_disk_settings: DiffDiskSettings | None = msgspec.field(
        default=None, name="ephemeralOSDiskSettings"
    )
    caching: str | None = None
    managed_disk: ManagedDisk | None = None
    disk_size_gb: int | None = msgspec.field(default=None, name="diskSizeGB")
    write_accelerator_enabled: bool | None = None


class UefiSettings(BatchModel, frozen=True, kw_only=True):
    """``UefiSettings``."""

    secure_boot_enabled: bool | None = None
    vtpm_enabled: bool | None = msgspec.field(default=None, name="vTpmEnabled")


class SecurityProfile(BatchModel, frozen=True, kw_only=True):
    """``SecurityProfile``: trusted launch or confidential VMs."""

    security_type: str | None = None
    encryption_at_host: bool | None = None
    uefi_settings: UefiSettings | None = None


class ServiceArtifactReference(BatchModel, frozen=True, kw_only=True):
    """``ServiceArtifactReference``: the gallery image version used for all nodes."""

    id: str = ""


class VirtualMachineConfiguration(BatchModel, frozen=True, kw_only=True):
    """``VirtualMachineConfiguration``: the image and VM settings of a pool's nodes."""

    image_reference: ImageReference | None = None
    node_agent_sku_id: str = msgspec.field(default="", name="nodeAgentSKUId")
    windows_configuration: WindowsConfiguration | None = None
    data_disks: tuple[DataDisk, ...] = ()
    license_type: str | None = None
    container_configuration: ContainerConfiguration | None = None
    disk_encryption_configuration: DiskEncryptionConfiguration | None = None
    node_placement_configuration: NodePlacementConfiguration | None = None
    extensions: tuple[VMExtension, ...] = ()
    os_disk: OSDisk | None = None
    security_profile: SecurityProfile | None = None
    service_artifact_reference: ServiceArtifactReference | None = None


class NetworkSecurityGroupRule(BatchModel, frozen=True, kw_only=True):
    """``NetworkSecurityGroupRule`` of an inbound NAT pool."""

    priority: int = 0
    access: str = ""
    source_address_prefix: str = ""
    source_port_ranges: tuple[str, ...] = ()


class InboundNATPool(BatchModel, frozen=True, kw_only=True):
    """``InboundNATPool``: public ports mapped to a port on every node (e.g. SSH)."""

    name: str = ""
    protocol: str = ""
    backend_port: int = 0
    frontend_port_range_start: int = 0
    frontend_port_range_end: int = 0
    network_security_group_rules: tuple[NetworkSecurityGroupRule, ...] = ()


class PoolEndpointConfiguration(BatchModel, frozen=True, kw_only=True):
    """``PoolEndpointConfiguration``."""

    inbound_nat_pools: tuple[InboundNATPool, ...] = msgspec.field(
        default=(), name="inboundNATPools"
    )


class PublicIPAddressConfiguration(BatchModel, frozen=True, kw_only=True):
    """``PublicIPAddressConfiguration``."""

    provision: str | None = None
    ip_address_ids: tuple[str, ...] = ()


class NetworkConfiguration(BatchModel, frozen=True, kw_only=True):
    """``NetworkConfiguration`` of a pool."""

    subnet_id: str | None = None
    dynamic_vnet_assignment_scope: str | None = msgspec.field(
        default=None, name="dynamicVNetAssignmentScope"
    )
    endpoint_configuration: PoolEndpointConfiguration | None = None
    public_ip_address_configuration: PublicIPAddressConfiguration | None = msgspec.field(
        default=None, name="publicIPAddressConfiguration"
    )
    enable_accelerated_networking: bool | None = None


class TaskSchedulingPolicy(BatchModel, frozen=True, kw_only=True):
    """``TaskSchedulingPolicy``: ``spread`` or ``pack`` tasks over a pool's task slots."""

    node_fill_type: str = ""


class LinuxUserConfiguration(BatchModel, frozen=True, kw_only=True):
    """``LinuxUserConfiguration``, without the SSH private key."""

    uid: int | None = None
    gid: int | None = None


class WindowsUserConfiguration(BatchModel, frozen=True, kw_only=True):
    """``WindowsUserConfiguration``."""

    login_mode: str | None = None


class UserAccount(BatchModel, frozen=True, kw_only=True):
    """``UserAccount`` created on every node of a pool, without its password."""

    name: str = ""
    elevation_level: str | None = None
    linux_user_configuration: LinuxUserConfiguration | None = None
    windows_user_configuration: WindowsUserConfiguration | None = None


class AzureBlobFileSystemConfiguration(BatchModel, frozen=True, kw_only=True):
    """``AzureBlobFileSystemConfiguration`` (blobfuse), without account or SAS keys."""

    account_name: str = ""
    container_name: str = ""
    relative_mount_path: str = ""
    blobfuse_options: str | None = None
    identity_reference: IdentityReference | None = None


class NFSMountConfiguration(BatchModel, frozen=True, kw_only=True):
    """``NFSMountConfiguration``."""

    source: str = ""
    relative_mount_path: str = ""
    mount_options: str | None = None


class CIFSMountConfiguration(BatchModel, frozen=True, kw_only=True):
    """``CIFSMountConfiguration``, without the password."""

    username: str = ""
    source: str = ""
    relative_mount_path: str = ""
    mount_options: str | None = None


class AzureFileShareConfiguration(BatchModel, frozen=True, kw_only=True):
    """``AzureFileShareConfiguration``, without the account key."""

    account_name: str = ""
    azure_file_url: str = ""
    relative_mount_path: str = ""
    mount_options: str | None = None


class MountConfiguration(BatchModel, frozen=True, kw_only=True):
    """``MountConfiguration``: exactly one of the file systems is set."""

    azure_blob_file_system_configuration: AzureBlobFileSystemConfiguration | None = None
    nfs_mount_configuration: NFSMountConfiguration | None = None
    cifs_mount_configuration: CIFSMountConfiguration | None = None
    azure_file_share_configuration: AzureFileShareConfiguration | None = None


class UserAssignedIdentity(BatchModel, frozen=True, kw_only=True):
    """``UserAssignedIdentity``."""

    resource_id: str = ""
    client_id: str | None = None
    principal_id: str | None = None


class PoolIdentity(BatchModel, frozen=True, kw_only=True):
    """``BatchPoolIdentity``: ``UserAssigned`` or ``None``."""

    type: str = ""
    user_assigned_identities: tuple[UserAssignedIdentity, ...] = ()


class AutomaticOSUpgradePolicy(BatchModel, frozen=True, kw_only=True):
    """``AutomaticOSUpgradePolicy``."""

    disable_automatic_rollback: bool | None = None
    enable_automatic_os_upgrade: bool | None = msgspec.field(
        default=None, name="enableAutomaticOSUpgrade"
    )
    use_rolling_upgrade_policy: bool | None = None
    os_rolling_upgrade_deferral: bool | None = None


class RollingUpgradePolicy(BatchModel, frozen=True, kw_only=True):
    """``RollingUpgradePolicy``."""

    enable_cross_zone_upgrade: bool | None = None
    max_batch_instance_percent: int | None = None
    max_unhealthy_instance_percent: int | None = None
    max_unhealthy_upgraded_instance_percent: int | None = None
    pause_time_between_batches: timedelta | None = None
    prioritize_unhealthy_instances: bool | None = None
    rollback_failed_instances_on_policy_breach: bool | None = None


class UpgradePolicy(BatchModel, frozen=True, kw_only=True):
    """``UpgradePolicy``: ``automatic``, ``manual`` or ``rolling`` OS upgrades."""

    mode: str = ""
    automatic_os_upgrade_policy: AutomaticOSUpgradePolicy | None = msgspec.field(
        default=None, name="automaticOSUpgradePolicy"
    )
    rolling_upgrade_policy: RollingUpgradePolicy | None = None
