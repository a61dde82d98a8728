"""Tests, through the official SDK 15.x (api-version 2025-06-01), what its own live tests found
different from the service: 2025-06-01's pool bodies, values echoed as sent, and resource ids.
"""

from __future__ import annotations

import pytest
from azure.batch import BatchClient
from azure.batch import models as m
from azure.core.exceptions import HttpResponseError

from batch_tui.emulator.base.settings import DEFAULT_SUBSCRIPTION_ID

pytestmark = pytest.mark.parametrize("endpoint", ["simulated"], indirect=True)

IMAGE = m.BatchVmImageReference(
    publisher="canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts"
)


def vm(**changes: object) -> m.VirtualMachineConfiguration:
    return m.VirtualMachineConfiguration(
        image_reference=IMAGE, node_agent_sku_id="batch.node.ubuntu 22.04", **changes
    )


def pool(pool_id: str, **changes: object) -> m.BatchPoolCreateOptions:
    """A pool of no nodes (nothing to allocate), with `changes`."""
    base: dict[str, object] = {"vm_size": "standard_d2s_v3", "virtual_machine_configuration": vm()}
    return m.BatchPoolCreateOptions(id=pool_id, **{**base, **changes})


def test_replace_pool_properties_needs_no_certificates(client: BatchClient) -> None:
    client.create_pool(pool("p1"))
    options = m.BatchPoolReplaceOptions(
        application_package_references=[],
        metadata=[m.BatchMetadataItem(name="team", value="render")],
        start_task=m.BatchStartTask(command_line="/bin/true"),
    )
    client.replace_pool_properties("p1", options)
    got = client.get_pool("p1")
    assert [(i.name, i.value) for i in got.metadata or []] == [("team", "render")]
    assert got.start_task is not None and got.start_task.command_line == "/bin/true"


def test_a_managed_data_disk_round_trips(client: BatchClient) -> None:
    disk = m.DataDisk(
        logical_unit_number=0,
        disk_size_gb=64,
        managed_disk=m.ManagedDisk(storage_account_type=m.StorageAccountType.PREMIUM_LRS),
    )
    client.create_pool(pool("p1", virtual_machine_configuration=vm(data_disks=[disk])))
    disks = client.get_pool("p1").virtual_machine_configuration.data_disks
    assert disks is not None and disks[0].managed_disk is not None
    assert disks[0].managed_disk.storage_account_type == m.StorageAccountType.PREMIUM_LRS
    assert disks[0].disk_size_gb == 64


def test_a_confidential_vm_security_type_comes_back_as_sent(client: BatchClient) -> None:
    profile = m.SecurityProfile(
        security_type=m.SecurityTypes.CONFIDENTIAL_VM,
        encryption_at_host=True,
        uefi_settings=m.BatchUefiSettings(secure_boot_enabled=True, vtpm_enabled=True),
    )
    client.create_pool(pool("p1", virtual_machine_configuration=vm(security_profile=profile)))
    got = client.get_pool("p1").virtual_machine_configuration.security_profile
    assert got is not None
    assert got.security_type == m.SecurityTypes.CONFIDENTIAL_VM


def test_2025_additions_round_trip(client: BatchClient) -> None:
    policy = m.BatchTaskSchedulingPolicy(
        node_fill_type=m.BatchNodeFillType.SPREAD,
        job_default_order=m.BatchJobDefaultOrder.CREATION_TIME,
    )
    public = m.BatchPublicIpAddressConfiguration(
        ip_address_provisioning_type=m.IpAddressProvisioningType.BATCH_MANAGED,
        ip_families=[m.IPFamily.IPV4, m.IPFamily.IPV6],
        ip_tags=[m.IPTag(ip_tag_type="FirstPartyUsage", tag="/NonProd")],
    )
    proxy = m.ProxyAgentSettings(
        enabled=True, imds=m.HostEndpointSettings(mode=m.HostEndpointSettingsModeTypes.AUDIT)
    )
    client.create_pool(
        pool(
            "p1",
            task_scheduling_policy=policy,
            network_configuration=m.NetworkConfiguration(public_ip_address_configuration=public),
            virtual_machine_configuration=vm(
                security_profile=m.SecurityProfile(proxy_agent_settings=proxy)
            ),
        )
    )
    got = client.get_pool("p1")
    assert got.task_scheduling_policy is not None
    assert got.task_scheduling_policy.job_default_order == m.BatchJobDefaultOrder.CREATION_TIME
    network = got.network_configuration
    assert network is not None and network.public_ip_address_configuration is not None
    assert network.public_ip_address_configuration.ip_families == ["IPv4", "IPv6"]
    assert network.public_ip_address_configuration.ip_tags[0].tag == "/NonProd"
    assert network.dynamic_vnet_assignment_scope == m.DynamicVNetAssignmentScope.NONE
    security = got.virtual_machine_configuration.security_profile
    assert security is not None and security.proxy_agent_settings is not None
    assert security.proxy_agent_settings.imds.mode == m.HostEndpointSettingsModeTypes.AUDIT


def test_the_service_defaults_are_filled_in(client: BatchClient) -> None:
    client.create_pool(pool("p1"))
    got = client.get_pool("p1")
    assert got.virtual_machine_configuration.image_reference.version == "latest"
    assert got.task_scheduling_policy is not None
    assert got.task_scheduling_policy.job_default_order == m.BatchJobDefaultOrder.NONE


def _error_values(err: HttpResponseError) -> dict[str, str]:
    model = err.model
    assert isinstance(model, m.BatchError)
    return {v.key or "": v.value or "" for v in model.error_values or []}


def test_a_subnet_in_another_subscription_is_refused_with_its_values(client: BatchClient) -> None:
    subnet = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/test"
        "/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/subnet1"
    )
    options = pool("p1", network_configuration=m.NetworkConfiguration(subnet_id=subnet))
    with pytest.raises(HttpResponseError) as raised:
        client.create_pool(options)
    assert raised.value.error is not None
    assert raised.value.error.code == "InvalidPropertyValue"
    values = _error_values(raised.value)
    assert values["PropertyName"] == "subnetId"
    assert values["PropertyValue"] == subnet
    assert DEFAULT_SUBSCRIPTION_ID in values["Reason"]


def test_an_image_id_with_gallery_not_galleries_is_refused(client: BatchClient) -> None:
    image = m.BatchVmImageReference(
        virtual_machine_image_id="/subscriptions/00000000-0000-0000-0000-000000000000"
        "/resourceGroups/test/providers/Microsoft.Compute/gallery/FakeGallery/images/FakeImage"
        "/versions/version"
    )
    config = m.VirtualMachineConfiguration(
        image_reference=image, node_agent_sku_id="batch.node.ubuntu 22.04"
    )
    with pytest.raises(HttpResponseError) as raised:
        client.create_pool(pool("p1", virtual_machine_configuration=config))
    assert raised.value.error is not None
    assert raised.value.error.code == "InvalidPropertyValue"
    assert _error_values(raised.value)["PropertyName"] == "virtualMachineImageId"
