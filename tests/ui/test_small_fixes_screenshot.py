"""Tests the screenshot command's notice: where the SVG went, or why it could not be saved."""

from __future__ import annotations

from typing import Any

from batch_tui.ui import screenshot
from batch_tui.ui.screenshot import save_screenshot
from tests.ui.support import capture_notifications, pilot_settle


async def test_says_where_it_saved(make_app: Any, tmp_path: Any) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot_settle(pilot)
        seen = capture_notifications(app)
        saved = save_screenshot(app, "shot.svg", str(tmp_path))
        assert saved == tmp_path / "shot.svg"
        assert saved.read_text().startswith("<svg")
        assert seen == [(f"Screenshot saved to {tmp_path / 'shot.svg'}", "information")]


async def test_says_why_it_could_not_save(make_app: Any, tmp_path: Any) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot_settle(pilot)
        seen = capture_notifications(app)
        folder = tmp_path / "gone"
        assert save_screenshot(app, "shot.svg", str(folder)) is None
        text = f"Could not save the screenshot to {folder / 'shot.svg'}: No such file or directory"
        assert seen == [(text, "error")]


async def test_without_a_downloads_folder_saves_in_the_current_one(
    make_app: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(screenshot, "user_downloads_path", lambda: tmp_path / "Downloads")
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot_settle(pilot)
        saved = save_screenshot(app)
        assert saved is not None and saved.parent == tmp_path and saved.suffix == ".svg"
