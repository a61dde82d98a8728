"""Provides the account-level routes: node counts, images, applications, usage metrics."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from starlette.responses import Response

from batch_tui.emulator.base.errors import not_found
from batch_tui.emulator.base.times import iso, parse_iso
from batch_tui.emulator.ops.account import node_counts
from batch_tui.emulator.ops.emulator import Emulator
from batch_tui.emulator.query.filter import invalid_query
from batch_tui.emulator.query.filter_tables import (
    NODE_COUNTS_FILTER,
    SUPPORTED_IMAGES_FILTER,
    USAGE_METRICS_FILTER,
)
from batch_tui.emulator.query.paging import NODE_COUNTS_MAX_RESULTS
from batch_tui.emulator.routes.common import Call, ListSpec, RouteTable, list_response
from batch_tui.emulator.routes.wire import json_response

NODE_COUNTS_LIST = ListSpec("poolnodecounts", NODE_COUNTS_FILTER, maximum=NODE_COUNTS_MAX_RESULTS)
IMAGES_LIST = ListSpec("supportedimages", SUPPORTED_IMAGES_FILTER)
APPLICATIONS_LIST = ListSpec("applications")
USAGE_LIST = ListSpec("poolusagemetrics", USAGE_METRICS_FILTER)
USAGE_INTERVAL = timedelta(minutes=30)
"""The aggregation interval of usage metrics (spec example: half-hour intervals)."""


def _image(
    agent: str,
    publisher: str,
    offer: str,
    sku: str,
    os_type: str,
    capabilities: list[str] | None = None,
) -> dict[str, Any]:
    image: dict[str, Any] = {
        "nodeAgentSKUId": agent,
        "imageReference": {"publisher": publisher, "offer": offer, "sku": sku, "version": "latest"},
        "verificationType": "verified",
        "osType": os_type,
    }
    if capabilities:
        image["capabilities"] = capabilities
    return image


SUPPORTED_IMAGES = [
    _image(
        "batch.node.ubuntu 22.04", "canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", "linux"
    ),
    _image(
        "batch.node.ubuntu 22.04",
        "microsoft-azure-batch",
        "ubuntu-server-container",
        "22-04-lts",
        "linux",
        ["DockerCompatible"],
    ),
    _image(
        "batch.node.ubuntu 20.04", "canonical", "0001-com-ubuntu-server-focal", "20_04-lts", "linux"
    ),
    _image("batch.node.el 9", "almalinux", "almalinux-x86_64", "9-gen2", "linux"),
    _image("batch.node.debian 12", "debian", "debian-12", "12", "linux"),
    _image(
        "batch.node.windows amd64",
        "microsoftwindowsserver",
        "windowsserver",
        "2022-datacenter",
        "windows",
    ),
    _image(
        "batch.node.windows amd64",
        "microsoftwindowsserver",
        "windowsserver",
        "2019-datacenter",
        "windows",
    ),
]
"""A realistic subset of the images the service lists (publishers, offers, SKUs, agents)."""


async def _node_counts(call: Call) -> Response:
    pools = list(call.emu.store.pools.values())
    return list_response(
        call,
        pools,
        NODE_COUNTS_LIST,
        key=lambda p: p.id.lower(),
        render=lambda p, _: node_counts(call.emu, p),
    )


async def _supported_images(call: Call) -> Response:
    return list_response(
        call,
        SUPPORTED_IMAGES,
        IMAGES_LIST,
        key=lambda i: f"{i['nodeAgentSKUId']}|{i['imageReference']['sku']}",
        render=lambda i, _: i,
    )


async def _applications(call: Call) -> Response:
    apps = list(call.emu.store.applications.values())
    return list_response(
        call, apps, APPLICATIONS_LIST, key=lambda a: str(a["id"]).lower(), render=lambda a, _: a
    )


async def _application(call: Call) -> Response:
    app = call.emu.store.applications.get(call.params["application_id"].lower())
    if app is None:
        raise not_found("Application")
    return json_response(call.request, app, metadata="applications/@Element")


def _cores(vm_size: str) -> int:
    """Guesses the vCPUs of a VM size from its name (`standard_d4s_v3` has 4)."""
    m = re.search(r"_[a-z]+(\d+)", vm_size)
    return int(m.group(1)) if m else 1


def _time_param(call: Call, name: str, default: datetime) -> datetime:
    raw = call.query.get(name)
    if raw is None:
        return default
    try:
        return parse_iso(raw)
    except ValueError as exc:
        raise invalid_query(name, raw, "The value is not an ISO-8601 timestamp.") from exc


def _usage(emu: Emulator, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Core hours of each pool's nodes per half-hour interval, from their allocation times."""
    items: list[dict[str, Any]] = []
    slot = start
    while slot < end:
        slot_end = slot + USAGE_INTERVAL
        for pool in emu.store.pools.values():
            hours = 0.0
            for node in emu.store.pool_nodes(pool.id.lower()).values():
                allocated = parse_iso(node.data.get("allocationTime", iso(slot_end)))
                overlap = (slot_end - max(slot, allocated)).total_seconds()
                hours += max(0.0, min(overlap, USAGE_INTERVAL.total_seconds())) / 3600
            vm_size = pool.data.get("vmSize", "")
            items.append(
                {
                    "poolId": pool.id,
                    "startTime": iso(slot),
                    "endTime": iso(slot_end),
                    "vmSize": vm_size,
                    "totalCoreHours": hours * _cores(vm_size),
                }
            )
        slot = slot_end
    return items


async def _usage_metrics(call: Call) -> Response:
    now = call.emu.clock.now()
    last_end = now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0)
    start = _time_param(call, "starttime", last_end - USAGE_INTERVAL)
    end = _time_param(call, "endtime", last_end)
    if end - start > timedelta(days=7):
        raise invalid_query("endtime", iso(end), "The time range may not exceed 7 days.")
    items = _usage(call.emu, start, end)
    return list_response(
        call,
        items,
        USAGE_LIST,
        key=lambda u: f"{u['startTime']}|{str(u['poolId']).lower()}",
        render=lambda u, _: u,
    )


ROUTES: RouteTable = [
    ("GET", "/nodecounts", _node_counts),
    ("GET", "/supportedimages", _supported_images),
    ("GET", "/applications", _applications),
    ("GET", "/applications/{application_id}", _application),
    ("GET", "/poolusagemetrics", _usage_metrics),
]
