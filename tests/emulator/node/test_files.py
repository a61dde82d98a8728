"""Tests the node file trees: listing, ranges, deletion, refusing paths out of the root, and
symlinks, which no step of a path on disk follows."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from batch_tui.emulator.base.errors import ServiceError
from batch_tui.emulator.node.disk_tree import DiskTree
from batch_tui.emulator.node.files import VirtualFile, VirtualTree, split_path, task_dir

T0 = datetime(2024, 10, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def disk(tmp_path: Path) -> DiskTree:
    root = tmp_path / "node"
    (root / "startup" / "wd").mkdir(parents=True)
    (root / "startup" / "stdout.txt").write_bytes(b"0123456789")
    (root / "startup" / "stderr.txt").write_bytes(b"")
    (root / "shared").mkdir()
    (tmp_path / "secret.txt").write_bytes(b"outside")
    return DiskTree(root)


@pytest.fixture
def virtual() -> VirtualTree:
    files = {
        "startup/stdout.txt": VirtualFile(T0, T0, lambda: b"0123456789"),
        "workitems/j/job-1/t/stdout.txt": VirtualFile(T0, T0, lambda: b"hello\n"),
        "workitems/j/job-1/t/stderr.txt": VirtualFile(T0, T0, lambda: b""),
    }
    return VirtualTree(files, {"shared", "workitems/j/job-1/t/wd"}, T0, set())


def names(entries: list) -> list[str]:
    return [e.name for e in entries]


def read(tree: DiskTree | VirtualTree, path: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join(tree.read(path, start, end))


def test_split_path_refuses_every_way_out() -> None:
    assert split_path("wd/./out.txt") == ("wd", "out.txt")
    assert split_path("workitems\\j\\job-1") == ("workitems", "j", "job-1")
    for bad in ("../x", "wd/../../x", "..\\..\\x", "/etc/passwd", "\\etc", "C:/x", "a\x00b"):
        with pytest.raises(ServiceError) as err:
            split_path(bad)
        assert err.value.status == 400


def test_task_dir_is_the_linux_node_layout() -> None:
    assert task_dir("job", "task") == "workitems/job/job-1/task"


@pytest.mark.parametrize("tree_name", ["disk", "virtual"])
def test_list_is_top_level_unless_recursive(tree_name: str, request: pytest.FixtureRequest) -> None:
    tree = request.getfixturevalue(tree_name)
    top = names(tree.list(False))
    assert "startup" in top and "shared" in top
    assert all("/" not in name for name in top)
    everything = tree.list(True)
    assert "startup/stdout.txt" in names(everything)
    depths = [e.name.count("/") for e in everything]
    assert depths == sorted(depths), "the service lists breadth first"
    stdout = next(e for e in everything if e.name == "startup/stdout.txt")
    assert (stdout.is_directory, stdout.size, stdout.mode) == (False, 10, "0o100644")


@pytest.mark.parametrize("tree_name", ["disk", "virtual"])
def test_read_ranges_are_inclusive_and_validated(
    tree_name: str, request: pytest.FixtureRequest
) -> None:
    tree = request.getfixturevalue(tree_name)
    assert read(tree, "startup/stdout.txt") == b"0123456789"
    assert read(tree, "startup/stdout.txt", 2, 4) == b"234"
    assert read(tree, "startup/stdout.txt", 7, 100) == b"789"
    with pytest.raises(ServiceError) as err:
        read(tree, "startup/stdout.txt", 10)
    assert err.value.status == 416
    with pytest.raises(ServiceError) as missing:
        tree.stat("startup/nope.txt")
    assert (missing.value.status, missing.value.code) == (404, "FileNotFound")


def test_empty_file_reads_empty(disk: DiskTree) -> None:
    assert read(disk, "startup/stderr.txt") == b""


@pytest.mark.parametrize("tree_name", ["disk", "virtual"])
def test_delete_needs_recursive_for_a_non_empty_directory(
    tree_name: str, request: pytest.FixtureRequest
) -> None:
    tree = request.getfixturevalue(tree_name)
    with pytest.raises(ServiceError) as err:
        tree.delete("startup", recursive=False)
    assert err.value.status == 409
    tree.delete("startup/stdout.txt", recursive=False)
    assert "startup/stdout.txt" not in names(tree.list(True))
    tree.delete("startup", recursive=True)
    assert not any(name.startswith("startup") for name in names(tree.list(True)))
    with pytest.raises(ServiceError):
        tree.delete("", recursive=True)


def test_disk_tree_never_follows_a_symlink_out(disk: DiskTree, tmp_path: Path) -> None:
    os.symlink(tmp_path / "secret.txt", disk.root / "shared" / "leak.txt")
    os.symlink(tmp_path, disk.root / "shared" / "up")
    listed = names(disk.list(True))
    assert "shared/leak.txt" not in listed and "shared/up" not in listed
    for path in ("shared/leak.txt", "shared/up/secret.txt"):
        with pytest.raises(ServiceError) as err:
            read(disk, path)
        assert err.value.status == 404
    with pytest.raises(ServiceError):
        disk.delete("shared/up/secret.txt", recursive=False)
    assert (tmp_path / "secret.txt").read_bytes() == b"outside"
    with pytest.raises(ServiceError):
        read(disk, "../secret.txt")


def test_disk_tree_of_a_missing_directory_is_empty(tmp_path: Path) -> None:
    assert DiskTree(tmp_path / "nothing").list(True) == []


def test_virtual_subtree_is_rooted_at_its_prefix() -> None:
    files = {"workitems/j/job-1/t/stdout.txt": VirtualFile(T0, T0, lambda: b"hi\n")}
    deleted: set[str] = set()
    tree = VirtualTree(files, {"workitems/j/job-1/t/wd"}, T0, deleted, "workitems/j/job-1/t")
    assert names(tree.list(True)) == ["stdout.txt", "wd"]
    assert read(tree, "stdout.txt") == b"hi\n"
    tree.delete("stdout.txt", recursive=False)
    assert deleted == {"workitems/j/job-1/t/stdout.txt"}
    with pytest.raises(ServiceError):
        tree.stat("../../../../startup")


@pytest.mark.parametrize("tree_name", ["disk", "virtual"])
def test_read_of_a_directory_is_refused(tree_name: str, request: pytest.FixtureRequest) -> None:
    tree = request.getfixturevalue(tree_name)
    with tree.open("shared") as opened:
        assert opened.entry.is_directory
        with pytest.raises(ServiceError) as err:
            opened.read(0, None)
    assert err.value.status == 400


def test_an_open_file_serves_the_size_it_announced(disk: DiskTree) -> None:
    stdout = disk.root / "startup" / "stdout.txt"
    with disk.open("startup/stdout.txt") as opened:
        assert opened.entry.size == 10
        with stdout.open("ab") as task:
            task.write(b"more output")
        assert b"".join(opened.read(0, None)) == b"0123456789"
    with disk.open("startup/stdout.txt") as opened:
        stdout.write_bytes(b"012")  # truncated by the task: the body ends short, never padded
        assert b"".join(opened.read(0, None)) == b"012"


def test_a_virtual_file_is_produced_once_per_open() -> None:
    calls: list[int] = []

    def growing() -> bytes:
        calls.append(1)
        return b"x" * 10 * len(calls)

    tree = VirtualTree({"f.txt": VirtualFile(T0, T0, growing)}, set(), T0, set())
    with tree.open("f.txt") as opened:
        assert opened.entry.size == len(b"".join(opened.read(0, None))) == 10
    assert len(calls) == 1


def test_a_symlink_is_no_part_of_the_tree_wherever_it_points(disk: DiskTree) -> None:
    shared = disk.root / "shared"
    (shared / "real").mkdir()
    (shared / "real" / "f.txt").write_bytes(b"inside")
    os.symlink(shared / "real", shared / "dir-link")
    os.symlink(shared / "real" / "f.txt", shared / "leaf-link")
    listed = names(disk.list(True))
    assert "shared/real/f.txt" in listed
    assert not [name for name in listed if "link" in name]
    for path in ("shared/dir-link/f.txt", "shared/leaf-link", "shared/dir-link"):
        for attempt in (disk.stat, lambda p: read(disk, p), lambda p: disk.delete(p, True)):
            with pytest.raises(ServiceError) as err:
                attempt(path)
            assert err.value.status == 404, path
    assert (shared / "real" / "f.txt").read_bytes() == b"inside"
    assert (shared / "dir-link").is_symlink() and (shared / "leaf-link").is_symlink()


def test_a_task_directory_swapped_for_a_link_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "node"
    task = root / "workitems" / "j" / "job-1" / "t"
    task.mkdir(parents=True)
    (task / "stdout.txt").write_bytes(b"task output")
    tree = DiskTree(root, "workitems/j/job-1/t")
    assert read(tree, "stdout.txt") == b"task output"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "stdout.txt").write_bytes(b"outside")
    (root / "workitems" / "j").rename(tmp_path / "j-away")
    os.symlink(tmp_path / "j-away", root / "workitems" / "j")
    assert tree.list(True) == []
    with pytest.raises(ServiceError) as err:
        read(tree, "stdout.txt")
    assert err.value.status == 404


def test_a_deeper_tree_than_python_recurses_lists_and_deletes(disk: DiskTree) -> None:
    depth = 1100
    fd = os.open(disk.root / "shared", os.O_RDONLY)
    for _ in range(depth):  # os.makedirs itself recurses too deep for this
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(os.open("f.txt", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    os.close(fd)
    deepest = "/".join(["shared", *["d"] * depth, "f.txt"])
    try:
        assert deepest in names(disk.list(True))
        disk.delete("shared/d", recursive=True)
        assert names(disk.list(True)).count("shared") == 1
        assert not (disk.root / "shared" / "d").exists()
    finally:
        # Whatever happened, no tree this deep is left behind: pytest's own clean-up of old
        # temp folders recurses, and would fail every later run with a RecursionError.
        subprocess.run(["rm", "-rf", str(disk.root / "shared" / "d")], check=True)
