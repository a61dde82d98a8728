"""Tests that the wire check of ``tests/batch/strategies.py`` has teeth: it fails on a closed enum
and on a wire name the model does not declare."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from hypothesis import given, settings

from batch_tui.batch import models as m
from batch_tui.batch.models import BatchModel, decode
from tests.batch.strategies import FLOATS, Want, assert_decoded, obj, unknown_state

# --- The check has teeth ---------------------------------------------------------------------


class _ClosedNode(BatchModel, frozen=True, kw_only=True):
    """A node whose state is a closed set: what the rule "states are strings" forbids."""

    id: str = ""
    state: Literal["idle", "running"] = "idle"


@settings(max_examples=20, deadline=None)
@given(unknown_state("idle", "running"))
def test_a_closed_enum_fails_the_check(state: str) -> None:
    body = json.dumps({"id": "n1", "state": state}).encode()
    with pytest.raises(AssertionError, match="state"):
        assert_decoded(decode(body, _ClosedNode), Want(_ClosedNode, {"id": "n1", "state": state}))


def test_a_name_the_model_does_not_declare_fails_at_once() -> None:
    with pytest.raises(KeyError, match="readIoGib"):  # the spec spells it readIOGiB
        obj(m.JobStatistics, {}, {"readIoGib": FLOATS})
