"""Tests the export writers: CSV and JSON read back, private files, the CSV injection guard."""

from __future__ import annotations

import csv
import json
import stat
from datetime import datetime
from pathlib import Path

import pytest

from batch_tui.ui.export import (
    CLOCK_EVERY,
    default_export_name,
    export_format,
    export_steps,
    guard_cell,
    write_export,
    write_private_text,
)

HEADERS = ["Task", "State", "Exit"]
ROWS = [("t2", "completed", "0"), ("t1", "failed", "-3"), ("t0", "active", "-")]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-3", "'-3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\r=1", "'\r=1"),
        ("-", "-"),
        ("task-1", "task-1"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_written_as_text(cell: str, written: str) -> None:
    assert guard_cell(cell) == written


def test_csv_holds_the_headers_then_every_row_in_order_guarded(tmp_path: Path) -> None:
    path = tmp_path / "tasks.csv"
    assert write_export(path, HEADERS, ROWS) == 3
    assert read_csv(path) == [HEADERS, ["t2", "completed", "0"], ["t1", "failed", "'-3"],
                              ["t0", "active", "-"]]  # fmt: skip
    assert mode(path) == 0o600


def test_json_is_one_object_per_row_keyed_by_header(tmp_path: Path) -> None:
    path = tmp_path / "tasks.JSON"
    assert write_export(path, [*HEADERS, "State"], [(*row, "x") for row in ROWS]) == 3
    assert json.loads(path.read_text(encoding="utf-8")) == [
        {"Task": task, "State": state, "Exit": code, "State (2)": "x"} for task, state, code in ROWS
    ]
    assert mode(path) == 0o600
    empty = tmp_path / "empty.json"
    assert write_export(empty, HEADERS, []) == 0
    assert json.loads(empty.read_text(encoding="utf-8")) == []


def test_an_existing_file_is_kept_unless_overwrite_and_then_replaced_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tasks.csv"
    path.write_text("mine\n", encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(FileExistsError):
        write_export(path, HEADERS, ROWS)
    assert path.read_text(encoding="utf-8") == "mine\n"
    write_export(path, HEADERS, ROWS, overwrite=True)
    assert read_csv(path)[0] == HEADERS
    assert mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tasks.csv"]  # no temporary left


def test_a_failed_write_leaves_no_file_behind(tmp_path: Path) -> None:
    def rows():
        yield ("t0", "active", "0")
        raise OSError("disk full")

    for overwrite in (False, True):
        path = tmp_path / "tasks.csv"
        if overwrite:
            path.write_text("old\n", encoding="utf-8")
        with pytest.raises(OSError, match="disk full"):
            write_export(path, HEADERS, rows(), overwrite=overwrite)
        assert sorted(p.name for p in tmp_path.iterdir()) == (["tasks.csv"] if overwrite else [])
        if overwrite:
            assert path.read_text(encoding="utf-8") == "old\n"


def test_the_extension_picks_the_format(tmp_path: Path) -> None:
    assert export_format(Path("a.csv")) == "csv"
    assert export_format(Path("a.Json")) == "json"
    with pytest.raises(ValueError, match=r"\.csv or \.json"):
        export_format(Path("a.txt"))
    with pytest.raises(ValueError):
        write_export(tmp_path / "a.xlsx", HEADERS, ROWS)
    assert list(tmp_path.iterdir()) == []


def test_an_export_goes_a_step_at_a_time_and_stopped_leaves_nothing(tmp_path: Path) -> None:
    rows = [(f"t{i}", "active", "0") for i in range(2 * CLOCK_EVERY + 5)]
    path = tmp_path / "big.csv"
    steps = list(export_steps(path, HEADERS, rows, step_seconds=0))
    assert steps == [CLOCK_EVERY, 2 * CLOCK_EVERY, len(rows)]
    assert len(read_csv(path)) == len(rows) + 1
    assert list(export_steps(tmp_path / "one.csv", HEADERS, rows, step_seconds=60)) == [len(rows)]
    stopped = tmp_path / "stopped.json"
    steps_left = export_steps(stopped, HEADERS, rows, step_seconds=0)
    assert next(steps_left) == CLOCK_EVERY
    steps_left.close()  # the worker was cancelled
    assert not stopped.exists()


def test_a_private_text_file(tmp_path: Path) -> None:
    path = tmp_path / "task.json"
    assert write_private_text(path, '{"id": "é"}\n') == len('{"id": "é"}\n'.encode())
    assert mode(path) == 0o600
    with pytest.raises(FileExistsError):
        write_private_text(path, "{}")


def test_default_names_say_what_and_when() -> None:
    when = datetime(2026, 12, 8, 1, 2, 3)
    name = default_export_name(("tasks", "job/1 ..x"), when)
    assert name == "batch-tui-tasks-job_1_..x-20261208-010203.csv"
    assert default_export_name(("jobs",), when, "json").endswith("jobs-20261208-010203.json")
