"""Tests LogView against in-memory byte sources, including a generated 5 GB file."""

from __future__ import annotations

from batch_tui.ui.widgets.log_buffer import CHUNK_SIZE, MAX_WINDOW, LineWindow, looks_binary
from tests.ui.widget_apps import LINE, GeneratedSource, ViewApp, line_number, settle


class MemorySource:
    """A file in memory that tests can append to, truncate or break."""

    def __init__(self, data: bytes = b"") -> None:
        self.data = bytearray(data)
        self.bytes_read = 0
        self.fail = False

    async def size(self) -> int:
        if self.fail:
            raise ConnectionError("link down")
        return len(self.data)

    async def read(self, start: int, end: int) -> bytes:
        if self.fail:
            raise ConnectionError("link down")
        chunk = bytes(self.data[start : end + 1])
        self.bytes_read += len(chunk)
        return chunk


FIVE_GB = 5 * 10**9
LAST_LINE = FIVE_GB // LINE - 1


async def test_opens_5gb_file_at_the_tail_reading_under_1mb() -> None:
    source = GeneratedSource(FIVE_GB)
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        assert source.bytes_read <= CHUNK_SIZE < 1_000_000
        assert line_number(view.visible_lines[-1]) == LAST_LINE
        assert view.position_text.startswith("bytes 4.7 GiB–4.7 GiB of 4.7 GiB")


async def test_scrolling_up_loads_earlier_chunks_and_memory_stays_bounded() -> None:
    source = GeneratedSource(FIVE_GB)
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        await pilot.press("pageup", "pageup", "up")
        assert line_number(view.visible_lines[0]) == LAST_LINE - 23 - 2 * 24 - 1
        for _ in range(12):  # to the top of the window: each time one more chunk loads
            view.scroll_to(y=0, animate=False, force=True)
            await settle(pilot)
        lines = [line_number(line) for line in view.visible_lines]
        assert lines == list(range(lines[0], lines[0] + 24))
        assert view.window.start <= FIVE_GB - 12 * CHUNK_SIZE
        assert len(view.window.data) <= MAX_WINDOW
        assert source.bytes_read <= 13 * CHUNK_SIZE
        await pilot.press("down")
        assert line_number(view.visible_lines[0]) == lines[1]


async def test_go_top_and_go_end() -> None:
    source = GeneratedSource(FIVE_GB)
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        view = await settle(pilot)
        assert line_number(view.visible_lines[0]) == 0
        assert view.position_text.startswith("bytes 0 B–1.5 KiB of")
        await pilot.press("pagedown", "pagedown", "down")
        assert line_number(view.visible_lines[0]) == 2 * 24 + 1
        for _ in range(6):  # to the bottom of the window: each time one more chunk loads
            view.scroll_to(y=view.max_scroll_y, animate=False, force=True)
            await settle(pilot)
        assert view.window.start > 0 and len(view.window.data) <= MAX_WINDOW
        lines = [line_number(line) for line in view.visible_lines]
        assert lines == list(range(lines[0], lines[0] + 24)) and lines[0] > 5 * CHUNK_SIZE // LINE
        await pilot.press("G")
        await settle(pilot)
        assert line_number(view.visible_lines[-1]) == LAST_LINE


async def test_follow_appends_only_new_bytes_and_sticks_to_the_bottom() -> None:
    source = MemorySource(b"".join(b"old %d\n" % i for i in range(100)))
    app = ViewApp(source, follow=True, poll_interval=0.01)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        assert view.visible_lines[-1] == "old 99"
        assert "following" in view.position_text
        read_before = source.bytes_read
        source.data += b"new 1\nnew 2\n"
        for _ in range(500):
            if view.visible_lines[-1] == "new 2":
                break
            await app.wait_for_refresh()
            await settle(pilot)
        assert view.visible_lines[-2:] == ["new 1", "new 2"]
        assert source.bytes_read - read_before == len(b"new 1\nnew 2\n")


async def test_poll_joins_a_line_split_across_reads() -> None:
    source = MemorySource(b"first\nsecond half")
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        source.data += b" continues\r\nthird\rfourth\n"
        view.poll()
        await settle(pilot)
        assert view.window.lines == ["first", "second half continues", "third", "fourth"]


async def test_scrolling_up_stops_following_and_truncation_reloads() -> None:
    source = MemorySource(b"".join(b"row %d\n" % i for i in range(200)))
    app = ViewApp(source, follow=True, poll_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        await pilot.press("up")
        assert not view.following
        source.data = bytearray(b"rotated\n")
        await pilot.press("f")
        await settle(pilot)
        assert view.following and view.window.lines == ["rotated"]


async def test_search_finds_in_window_and_extends_backwards() -> None:
    source = GeneratedSource(FIVE_GB)
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        target = LAST_LINE - 50_000  # about 3 MB before the end: outside the tail window
        view.find(f"line {target:010d}", backwards=True)
        view = await settle(pilot)
        assert view.match is not None and view.match.offset == target * LINE
        assert any(line.startswith(f"line {target:010d}") for line in view.visible_lines)
        assert len(view.window.data) <= MAX_WINDOW

        view.find(r"line \d+5 ")  # regex, forwards from the match
        await settle(pilot)
        assert view.match is not None and view.match.offset == (target + 6) * LINE
        await pilot.press("N")
        await settle(pilot)
        assert view.match is not None and view.match.offset == (target - 4) * LINE
        await pilot.press("n")
        await settle(pilot)
        assert view.match is not None and view.match.offset == (target + 6) * LINE


async def test_search_reports_not_found_without_reading_everything() -> None:
    source = GeneratedSource(FIVE_GB)
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        view.find("no such text", backwards=True)
        await settle(pilot)
        assert view.match is None and view.notice == "not found: no such text"
        assert source.bytes_read < 20 * 2**20


async def test_invalid_regex_searches_literally() -> None:
    source = MemorySource(b"alpha\nfoo[1 bar\nomega\n")
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        view.find("foo[1", backwards=True)
        await settle(pilot)
        assert view.match is not None and (view.match.start, view.match.end) == (0, 5)
        row = view.visible_lines.index("foo[1 bar")
        segments = [segment for segment in view.render_line(row) if segment.text]
        assert segments[0].text == "foo[1"  # highlighted apart from the rest of the line
        assert segments[0].style != segments[1].style


async def test_binary_file_shows_only_its_size() -> None:
    source = MemorySource(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 100)
    app = ViewApp(source, follow=True)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        assert view.is_binary and not view.following
        assert view.visible_lines[0] == "binary file, 25,608 bytes"
        assert all(line == "" for line in view.visible_lines[1:])
        view.find("ELF")
        await settle(pilot)
        assert view.match is None


async def test_escape_sequences_never_reach_the_screen() -> None:
    hostile = (
        b"\x1b[31mred\x1b[0m\n\x1b]52;c;ZXZpbA==\x07\n\x1bP1;2|x\x1b\\\n\x9b2J\n\x1b_apc\x1b\\\n"
        b"bell\x07 del\x7f\n\xe2\x80\xaeevil\n"
    )
    source = MemorySource(hostile * 3)
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        for wrap in (False, True):
            text = "".join(view.visible_lines)
            assert "\x1b" not in text and "\x07" not in text and "\x7f" not in text
            assert not any("\x80" <= char <= "\x9f" for char in text)
            assert "␛]52;c;ZXZpbA==␇" in text and "red" in text and "<U+202E>evil" in text
            if not wrap:
                await pilot.press("w")


async def test_wrap_splits_long_lines_at_the_width() -> None:
    source = MemorySource(b"A" * 200 + b"\nshort\n")
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        width = view.scrollable_content_region.width
        assert view.visible_lines[0] == "A" * width
        await pilot.press("w")
        view = await settle(pilot)
        assert view.visible_lines[:4] == ["A" * 80, "A" * 80, "A" * 40, "short"]


async def test_megabyte_line_is_capped() -> None:
    source = MemorySource(b"B" * 3_000_000)
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        assert view.window.widths[0] < 10_100
        await pilot.press("w")
        view = await settle(pilot)
        assert view.virtual_size.height < 200
        await pilot.press("g")
        await settle(pilot)
        assert len(view.window.data) <= MAX_WINDOW


async def test_read_errors_are_reported_and_keep_the_view() -> None:
    source = MemorySource(b"kept\n")
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        source.fail = True
        view.poll()
        await settle(pilot)
        assert [type(error) for error in app.failures] == [ConnectionError]
        assert view.notice == "read failed: link down"
        assert view.visible_lines[0] == "kept"


async def test_empty_file() -> None:
    app = ViewApp(MemorySource())
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        assert view.is_open and view.visible_lines[0] == ""
        assert view.position_text == "bytes 0–0 of 0 B"


def test_line_window_merges_chunks_and_trims_whole_lines() -> None:
    window = LineWindow()
    window.reset(100, b"cd\nef\r\ngh\rij")
    assert window.lines == ["cd", "ef", "gh", "ij"]
    window.prepend(b"xx\nab")
    assert (window.start, window.lines) == (95, ["xx", "abcd", "ef", "gh", "ij"])
    window.append(b"kl\nmn\n")
    assert window.lines[-2:] == ["ijkl", "mn"]
    window.drop_front(8)
    assert (window.start, window.lines, bytes(window.data)) == (110, ["ijkl", "mn"], b"ijkl\nmn\n")
    window.drop_back(4)
    assert window.lines == ["ijkl"]


def test_line_window_joins_crlf_split_across_reads() -> None:
    window = LineWindow()
    window.reset(0, b"a\r")
    window.append(b"\nb")
    assert (window.offsets, window.lines) == ([0, 3], ["a", "b"])


def test_binary_detection() -> None:
    assert looks_binary(b"text\x00more")
    assert looks_binary(bytes(range(1, 32)) * 10)
    assert not looks_binary(b"\x1b[32mok\x1b[0m\ttab\r\n" * 100)
    assert not looks_binary("café, naïve — UTF-8 text\n".encode() * 100)
    assert not looks_binary(b"")


async def test_following_one_endless_line_keeps_memory_bounded() -> None:
    source = MemorySource(b"C" * 100)
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        for _ in range(8):
            source.data += b"C" * (MAX_WINDOW // 2)
            view.poll()
            await settle(pilot)
        assert len(view.window.data) <= MAX_WINDOW
        assert view.window.end == len(source.data)
        assert view.visible_lines[0].startswith("CCCC")


def test_line_window_trims_a_single_huge_line() -> None:
    window = LineWindow()
    window.reset(0, b"x" * 100)
    window.drop_front(40)
    assert (window.start, len(window.data), window.offsets) == (60, 40, [60])
    window.drop_back(10)
    assert (window.start, len(window.data), window.lines) == (60, 10, ["x" * 10])


async def test_search_wraps_round_a_file_held_whole_and_clears_a_stale_match() -> None:
    source = MemorySource(b"error: out of memory (tile 3)\nsecond\nthird (x)\n")
    app = ViewApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await settle(pilot)
        view.find("tile", backwards=True)
        await settle(pilot)
        assert view.match is not None and view.match.offset == 0
        await pilot.press("n")  # no later match: round to the top, the same line again
        await settle(pilot)
        assert view.match is not None and view.match.offset == 0
        assert view.notice == "search wrapped to the top"
        view.find("nowhere")
        await settle(pilot)
        assert view.match is None and view.notice == "not found: nowhere"
