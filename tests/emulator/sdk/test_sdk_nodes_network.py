"""Tests, with the official `azure-batch` SDK over a real loopback port, what a node is made of
as the service builds it: endpoints from the pool's inbound NAT pools, IPv6 on a dual-stack
pool and the remote login settings they give, the service's own `batchNodeExtension`, and the
Batch service logs uploaded to a container.

The server and client fixtures are `tests/fixtures/sdk.py`'s, with its data dir under
`tmp_path / "emulator"`.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from azure.batch import BatchClient
from azure.batch import models as m

from tests.emulator.sdk_support import pool_options, wait_for

pytestmark = pytest.mark.parametrize("endpoint", ["simulated"], indirect=True)


def dual_stack_pool(client: BatchClient, pool_id: str) -> list[m.BatchNode]:
    """Creates a dual-stack pool of two nodes with two NAT pools; returns them, idle, by IP."""
    options = pool_options(pool_id)
    options.target_dedicated_nodes = 2
    options.network_configuration = m.NetworkConfiguration(
        endpoint_configuration=m.BatchPoolEndpointConfiguration(
            inbound_nat_pools=[
                m.BatchInboundNatPool(
                    name="web",
                    protocol=m.InboundEndpointProtocol.UDP,
                    backend_port=8080,
                    frontend_port_range_start=15000,
                    frontend_port_range_end=15100,
                ),
                m.BatchInboundNatPool(
                    name="sshpool",
                    protocol=m.InboundEndpointProtocol.TCP,
                    backend_port=22,
                    frontend_port_range_start=40000,
                    frontend_port_range_end=40500,
                ),
            ]
        ),
        public_ip_address_configuration=m.BatchPublicIpAddressConfiguration(
            ip_families=[m.IPFamily.IPV4, m.IPFamily.IPV6]
        ),
    )
    client.create_pool(options)

    def idle() -> list[m.BatchNode] | None:
        nodes = list(client.list_nodes(pool_id))
        ready = len(nodes) == 2 and all(n.state == m.BatchNodeState.IDLE for n in nodes)
        return sorted(nodes, key=lambda n: n.ip_address or "") if ready else None

    return wait_for(idle, f"2 idle nodes in {pool_id}")


def test_sdk_sees_endpoints_ipv6_and_remote_login_from_the_network_configuration(
    client: BatchClient,
) -> None:
    nodes = dual_stack_pool(client, "netpool")
    for index, listed in enumerate(nodes):
        assert listed.id is not None
        node = client.get_node("netpool", listed.id)
        assert node.ipv6_address == f"fd00::{index + 4:x}"
        assert node.endpoint_configuration is not None
        rows = [
            (e.name, e.protocol, e.public_ip_address, e.frontend_port, e.backend_port)
            for e in node.endpoint_configuration.inbound_endpoints
        ]
        assert rows == [
            (f"web.{index}", "udp", "127.0.0.1", 15000 + index, 8080),
            (f"web-ipv6.{index}", "udp", "::1", 15000 + index, 8080),
            (f"sshpool.{index}", "tcp", "127.0.0.1", 40000 + index, 22),
            (f"sshpool-ipv6.{index}", "tcp", "::1", 40000 + index, 22),
        ]
        login = client.get_node_remote_login_settings("netpool", listed.id)
        assert (login.remote_login_ip_address, login.remote_login_port) == (
            "127.0.0.1",
            40000 + index,
        )
        assert (login.ipv6_remote_login_ip_address, login.ipv6_remote_login_port) == (
            "::1",
            40000 + index,
        )


def test_sdk_lists_and_gets_the_batch_node_extension(client: BatchClient) -> None:
    options = pool_options("extpool")
    options.target_dedicated_nodes = 1
    assert options.virtual_machine_configuration is not None
    options.virtual_machine_configuration.extensions = [
        m.VMExtension(
            name="secretext", publisher="Microsoft.Azure.KeyVault", type="KeyVaultForLinux"
        )
    ]
    client.create_pool(options)
    node_id = wait_for(
        lambda: next(
            (n.id for n in client.list_nodes("extpool") if n.state == m.BatchNodeState.IDLE), None
        ),
        "an idle node",
    )

    listed = list(client.list_node_extensions("extpool", node_id))
    assert [e.vm_extension.name for e in listed if e.vm_extension] == [
        "batchNodeExtension",
        "secretext",
    ]
    own = client.get_node_extension("extpool", node_id, "batchNodeExtension")
    assert own.provisioning_state == "Succeeded"
    assert own.vm_extension is not None
    assert (own.vm_extension.publisher, own.vm_extension.type) == (
        "Microsoft.Azure.Extensions",
        "CustomScript",
    )
    assert (own.vm_extension.type_handler_version, own.vm_extension.auto_upgrade_minor_version) == (
        "2.0",
        True,
    )
    assert own.instance_view is not None and own.instance_view.statuses
    status = own.instance_view.statuses[0]
    assert (status.code, status.level) == ("ProvisioningState/succeeded", "Info")


def test_sdk_uploads_the_batch_service_logs_to_a_container(
    client: BatchClient, tmp_path: Path
) -> None:
    options = pool_options("logpool")
    options.target_dedicated_nodes = 1
    client.create_pool(options)
    node_id = wait_for(
        lambda: next(
            (n.id for n in client.list_nodes("logpool") if n.state == m.BatchNodeState.IDLE), None
        ),
        "an idle node",
    )
    # As the SDK's own live test asks: the last six minutes, into a container.
    since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=6)
    container = "http://127.0.0.1:10000/devstoreaccount1/batchlogs?sv=2023-11-03&sig=x"
    result = client.upload_node_logs(
        "logpool",
        node_id,
        m.UploadBatchServiceLogsOptions(container_url=container, start_time=since),
    )
    assert result.number_of_files_uploaded > 0
    assert result.virtual_directory_name.split("/")[1:3] == ["logpool", node_id]
    where = tmp_path / "emulator" / "containers" / "batchlogs" / result.virtual_directory_name
    uploaded = [p for p in where.iterdir() if p.is_file()]
    assert len(uploaded) == result.number_of_files_uploaded
    assert "idle" in "".join(p.read_text() for p in uploaded)
