"""Tests the `:` command parser, its aliases and completion (pure)."""

from __future__ import annotations

import pytest

from batch_tui.ui.commands import SPECS, Command, CommandError, complete, parse_command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pools", Command("pools")),
        (":po", Command("pools")),
        ("  nodes   pool-a ", Command("nodes", ("pool-a",))),
        ("no pool-a", Command("nodes", ("pool-a",))),
        ("node pool-a tvm-1", Command("node", ("pool-a", "tvm-1"))),
        ("hm pool-a", Command("heatmap", ("pool-a",))),
        ("jobs", Command("jobs")),
        ("tasks job-1", Command("tasks", ("job-1",))),
        ("task job-1 t0", Command("task", ("job-1", "t0"))),
        ("ctx", Command("accounts")),
        ("q", Command("quit")),
        ("q!", Command("quit")),
        ("POOLS", Command("pools")),
    ],
)
def test_parse(text, expected):
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty command"),
        ("nodes", "usage: :nodes POOL"),
        ("node pool-a", "usage: :node POOL NODE"),
        ("jobs extra", "usage: :jobs"),
        ("launch", "unknown command :launch"),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(CommandError, match=message):
        parse_command(text)


def test_every_alias_is_unique():
    words = [word for spec in SPECS for word in (spec.name, *spec.aliases)]
    assert len(words) == len(set(words))


def known(kind):
    ids = {"pool": ["pool-a", "pool-b"], "job": ["job-1"], "node pool-a": ["tvm-1", "tvm-2"],
           "task job-1": ["render-7"]}  # fmt: skip
    return ids.get(kind, [])


@pytest.mark.parametrize(
    ("text", "completion"),
    [
        ("po", "pools"),
        ("he", "heatmap"),
        ("ta", "tasks"),
        ("nodes pool-b", None),
        ("nodes p", "nodes pool-a"),
        ("no pool-", "no pool-a"),
        ("heatmap pool-b", None),
        ("tasks j", "tasks job-1"),
        ("task j", "task job-1"),
        ("node pool-a t", "node pool-a tvm-1"),  # nodes complete within their pool
        ("node pool-b t", None),
        ("task job-1 r", "task job-1 render-7"),
        ("task job-2 r", None),
        ("zz", None),
        ("", None),
        ("jobs x", None),
    ],
)
def test_complete(text, completion):
    assert complete(text, known) == completion
