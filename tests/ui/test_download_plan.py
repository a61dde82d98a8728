"""Tests the plan of a download: untrusted names made safe or refused, clashes refused, the
default folder named after the task or node."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_tui.batch.models import FileProperties, NodeFile
from batch_tui.ui.byte_sources import NodeFiles, TaskFiles
from batch_tui.ui.download_plan import UnsafeName, default_folder, local_parts, plan_download


def test_names_are_made_safe_or_refused() -> None:
    assert local_parts("wd/out/r.txt", ("wd",)) == ("out", "r.txt")
    assert local_parts("wd\\out\\r.txt") == ("wd", "out", "r.txt")
    assert local_parts("/etc/passwd") == ("etc", "passwd")  # under the folder, not at /
    assert local_parts("C:\\Users\\x") == ("C:", "Users", "x")
    assert local_parts("bell\x07\x1b[2J.txt") == ("bell__[2J.txt",)
    assert local_parts("lone\ud800.txt") == ("lone_.txt",)
    for hostile in ("../../x", "a/../../b", "wd\\..\\..\\x", "./x", "x/..", "a" * 300):
        with pytest.raises(UnsafeName):
            local_parts(hostile)
    with pytest.raises(UnsafeName):
        local_parts("elsewhere/x", ("wd",))


def test_a_plan_refuses_names_that_clash() -> None:
    def file(name: str, size: int = 1) -> NodeFile:
        return NodeFile(name=name, properties=FileProperties(content_length=size))

    files = [file("x/y"), file("x\\y"), file("x"), file("z"), file("z/w"), file("../up"),
             NodeFile(name="dir", is_directory=True)]  # fmt: skip
    plan = plan_download(NodeFiles("p", "n"), files)
    assert [f.local for f in plan.files] == [("x", "y"), ("z",)]
    assert [r.remote for r in plan.refused] == ["x\\y", "x", "z/w", "../up"]
    assert plan.total_bytes == 2


def test_default_folder_is_named_after_the_owner(tmp_path: Path) -> None:
    assert default_folder(TaskFiles("job-1", "t/7"), tmp_path) == tmp_path / "job-1.t_7"
    assert default_folder(NodeFiles("pool", ".."), tmp_path) == tmp_path / "pool._"
