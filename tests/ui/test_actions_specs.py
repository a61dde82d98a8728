"""Tests the pure action specs (allowed states, descriptions, summaries) and OSC 52."""

from __future__ import annotations

import base64

import pytest

from batch_tui.ui.action_runs import Outcome, summarize
from batch_tui.ui.actions import (
    ACTIONS,
    job_action_allowed,
    node_action_refusal,
    target_lines,
    task_action_allowed,
)
from batch_tui.ui.clipboard import osc52


@pytest.mark.parametrize(
    ("action", "state", "scheduling", "allowed"),
    [
        ("node.reboot", "idle", "enabled", True),
        ("node.reboot", "running", "enabled", True),
        ("node.reboot", "rebooting", "enabled", False),
        ("node.reimage", "starting", "enabled", False),
        ("node.deallocate", "idle", "disabled", True),
        ("node.start", "deallocated", "enabled", True),
        ("node.start", "idle", "enabled", False),
        ("node.disable-scheduling", "idle", "enabled", True),
        ("node.disable-scheduling", "offline", "disabled", False),
        ("node.enable-scheduling", "offline", "disabled", True),
        ("node.enable-scheduling", "idle", "enabled", False),
        ("node.remove", "unusable", "enabled", True),
        ("node.add-user", "idle", "enabled", True),
        ("node.add-user", "creating", "enabled", False),
        # The remedy where it is needed: the failed states take a reboot or a reimage.
        ("node.reboot", "starttaskfailed", "enabled", True),
        ("node.reboot", "unusable", "enabled", True),
        ("node.reboot", "offline", "disabled", True),
        ("node.reimage", "starttaskfailed", "enabled", True),
        ("node.reimage", "unusable", "enabled", True),
        ("node.reimage", "offline", "disabled", True),
        ("node.deallocate", "starttaskfailed", "enabled", False),
        ("node.add-user", "starttaskfailed", "enabled", True),
        ("node.disable-scheduling", "starttaskfailed", "enabled", True),
        ("node.enable-scheduling", "deallocated", "disabled", False),
    ],
)
def test_node_actions_follow_the_service_rules(action, state, scheduling, allowed):
    assert (node_action_refusal(action, state, scheduling) is None) is allowed


@pytest.mark.parametrize(
    ("action", "state", "allowed"),
    [
        ("job.terminate", "active", True),
        ("job.terminate", "completed", False),
        ("job.disable", "active", True),
        ("job.disable", "disabled", False),
        ("job.enable", "disabled", True),
        ("job.enable", "active", False),
        ("job.delete", "completed", True),
        ("job.delete", "deleting", False),
    ],
)
def test_job_actions(action, state, allowed):
    assert job_action_allowed(action, state) is allowed


@pytest.mark.parametrize(
    ("action", "state", "failed", "allowed"),
    [
        ("task.terminate", "running", False, True),
        ("task.terminate", "completed", True, False),
        ("task.reactivate", "completed", True, True),
        ("task.reactivate", "completed", False, False),
        ("task.reactivate", "active", False, False),
        ("task.delete", "running", False, True),
    ],
)
def test_task_actions(action, state, failed, allowed):
    assert task_action_allowed(action, state, failed) is allowed


def test_options_match_the_service():
    four = ("requeue", "terminate", "taskcompletion", "retaineddata")
    for action in ("node.reboot", "node.reimage", "node.deallocate", "node.remove"):
        assert ACTIONS[action].options == four
        assert ACTIONS[action].default_option == "requeue"
    assert ACTIONS["node.disable-scheduling"].options == four[:3]
    assert ACTIONS["job.disable"].options == ("requeue", "terminate", "wait")
    assert ACTIONS["node.start"].options == () and ACTIONS["node.start"].default_option is None
    assert "finish" in ACTIONS["job.disable"].option_help("wait")
    assert "retention" in ACTIONS["node.reboot"].option_help("retaineddata")


def test_target_lines_name_every_target_on_a_line_of_its_own():
    assert target_lines("node", ["tvm-1"]) == ["node tvm-1"]
    assert target_lines("task", ["a", "b"]) == ["2 tasks:", "a", "b"]
    many = target_lines("node", [f"n{i}" for i in range(20)])
    assert many[:3] == ["20 nodes:", "n0", "n1"] and many[-2:] == ["n7", "… and 12 more"]


def test_summarize_reports_each_failure():
    spec = ACTIONS["node.reboot"]
    assert summarize(spec, [Outcome("a")]) == ("Reboot: node a done", True)
    assert summarize(spec, [Outcome("a"), Outcome("b")]) == ("Reboot: 2 nodes done", True)
    text, ok = summarize(spec, [Outcome("a"), Outcome("b", "409 Conflict: busy")])
    assert not ok
    assert text == "Reboot: 1 of 2 nodes done, 1 failed: b: 409 Conflict: busy"


def test_summarize_never_calls_a_lost_answer_failed():
    spec = ACTIONS["node.reboot"]
    lost = Outcome("b", "no answer", unknown=True)
    text, ok = summarize(spec, [lost])
    assert not ok and "failed" not in text
    assert "outcome unknown" in text and "may have been applied" in text
    text, _ = summarize(spec, [Outcome("a"), lost, Outcome("c", "409 Conflict: busy")])
    assert text.startswith("Reboot: 1 of 3 nodes done, 1 unknown (answer lost, may have been")
    assert text.endswith("1 failed: c: 409 Conflict: busy")


def test_osc52_plain_and_in_tmux():
    payload = base64.b64encode(b"ssh u@h -p 5").decode()
    assert osc52("ssh u@h -p 5") == f"\x1b]52;c;{payload}\x07"
    wrapped = osc52("ssh u@h -p 5", tmux=True)
    assert wrapped == f"\x1bPtmux;\x1b\x1b]52;c;{payload}\x07\x1b\\"


def test_every_action_has_its_own_key_within_the_screens_that_show_it():
    from batch_tui.ui.actions import specs_of

    for kinds in (("node",), ("job",), ("task", "job"), ("task",)):
        keys = [spec.key for spec in specs_of(*kinds)]
        assert len(keys) == len(set(keys)), kinds
    assert all(spec.id.startswith(spec.kind + ".") for spec in ACTIONS.values())
