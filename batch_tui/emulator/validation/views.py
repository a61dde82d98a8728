"""Provides an entity as a client of one api-version is shown it, and as the service spells it.

The emulator stores one entity for every client, with whatever any version's client sent. A
property one version defines and another does not is left out of what the other's clients see
(a 2025-06-01 client is never shown a pool's `certificateReferences`; a 2024-07-01.20.0 client
never sees `jobDefaultOrder`). The definitions of the request schemas say which properties each
version has, so the stored data is walked along them.

Secrets are never shown (a pool's user account passwords). The service also writes a few enum
values in its own spelling, not the request's: the recordings
show `taskSchedulingPolicy.nodeFillType` as `Spread` and `Pack`, in pools and in auto pool
specifications alike. The emulator stores the spec's lowercase value (its scheduler reads it)
and writes the service's on the way out.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from batch_tui.emulator.validation.schemas import (
    API_2024,
    API_2025,
    Schemas,
    schemas_for,
    version_group,
)

WIRE_SPELLING: Mapping[tuple[str, str], Mapping[str, str]] = {
    ("TaskSchedulingPolicy", "nodeFillType"): {"spread": "Spread", "pack": "Pack"},
}
"""Enum values the service writes in its own spelling (recordings), by definition and property."""

HIDDEN: Mapping[str, frozenset[str]] = {
    "UserAccount": frozenset({"password"}),
    "LinuxUserConfiguration": frozenset({"sshPrivateKey"}),
}
"""Secrets a request sets and no answer shows: a pool's user accounts are listed without their
passwords (recording), nor their SSH private keys."""

RESPONSE_ONLY: Mapping[str, Mapping[str, frozenset[str]]] = {
    API_2024: {"PoolAddParameter": frozenset({"currentNodeCommunicationMode"})},
    API_2025: {"PoolAddParameter": frozenset()},
}
"""Read-only properties (in no request body) that only some versions have."""

ENTITY_DEFINITIONS = {
    "pool": "PoolAddParameter",
    "job": "JobAddParameter",
    "task": "TaskAddParameter",
    "jobschedule": "JobScheduleAddParameter",
}
"""The request definition whose properties (plus read-only ones) an entity's data holds."""


@dataclass
class _Plan:
    """What to change in one object of a definition, for one version."""

    drop: frozenset[str] = frozenset()
    respell: dict[str, Mapping[str, str]] = field(default_factory=dict)
    nested: dict[str, tuple[_Plan, bool]] = field(default_factory=dict)
    """Property -> (the plan of its value, whether the value is a list of objects)."""

    def empty(self) -> bool:
        return not (self.drop or self.respell or self.nested)

    def apply(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """Returns `data` as shown (itself when nothing changes: lists of 100,000 tasks)."""
        out: dict[str, Any] | None = None
        for name in self.drop:
            if name in data:
                out = out if out is not None else dict(data)
                del out[name]
        for name, spelling in self.respell.items():
            value = data.get(name)
            if isinstance(value, str) and value in spelling:
                out = out if out is not None else dict(data)
                out[name] = spelling[value]
        for name, (plan, is_list) in self.nested.items():
            value = data.get(name)
            shown = _apply_nested(plan, value, is_list)
            if shown is not value:
                out = out if out is not None else dict(data)
                out[name] = shown
        return data if out is None else out


def _apply_nested(plan: _Plan, value: Any, is_list: bool) -> Any:
    if is_list and isinstance(value, list):
        items = [plan.apply(v) if isinstance(v, Mapping) else v for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if not is_list and isinstance(value, Mapping):
        return plan.apply(value)
    return value


def _all_groups() -> list[Schemas]:
    return [schemas_for(API_2024), schemas_for(API_2025)]


def _build(definition: str, group: str, seen: frozenset[str]) -> _Plan:
    schemas = schemas_for(group)
    fields = schemas.get(definition, {})
    known = {p for other in _all_groups() for p in other.get(definition, {})}
    other_only = {
        p for g, extra in RESPONSE_ONLY.items() if g != group for p in extra.get(definition, ())
    }
    hidden = HIDDEN.get(definition, frozenset())
    plan = _Plan(drop=frozenset((known - set(fields)) | other_only | hidden))
    for name, prop in fields.items():
        spelling = WIRE_SPELLING.get((definition, name))
        if spelling:
            plan.respell[name] = spelling
        base = prop.type.strip("[]")
        if base in schemas and base not in seen:
            sub = _build(base, group, seen | {definition})
            if not sub.empty():
                plan.nested[name] = (sub, prop.type.startswith("["))
    return plan


@functools.cache
def _plan(definition: str, group: str) -> _Plan:
    return _build(definition, group, frozenset())


def _unchanged(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return data


def viewer(entity: str, version: str | None) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
    """Returns `shown` for one kind of entity and version, worked out once: a list calls it
    on each of up to 1,000 items, and for most it changes nothing."""
    plan = _plan(ENTITY_DEFINITIONS[entity], version_group(version) or API_2025)
    return _unchanged if plan.empty() else plan.apply


def shown(data: Mapping[str, Any], entity: str, version: str | None) -> Mapping[str, Any]:
    """Returns an entity's stored data as a client of `version` is shown it.

    Args:
        data: The stored wire dict of a pool, job, task or job schedule (not changed).
        entity: `pool`, `job`, `task` or `jobschedule`.
        version: The request's api-version (None: the newest).

    Returns:
        `data` itself when nothing differs, otherwise a copy with the properties the version
        does not have left out and the service's spellings written.
    """
    group = version_group(version) or API_2025
    return _plan(ENTITY_DEFINITIONS[entity], group).apply(data)
