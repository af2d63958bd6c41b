"""The ePub screen: regenerate asks, x cancels (asking), and the last good ePub stays shown."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tui_exports.tui.screens import AskScreen, EpubScreen

from .conftest import make_app, wait_for
from .test_flow import started

pytestmark = pytest.mark.anyio


def epub_of(backend, course_id: int) -> dict:
    return next(i for i in backend.epub_exports() if i["id"] == course_id).get("epub_export") or {}


def generated(backend, course_id: int) -> dict:
    backend.create_epub_export(course_id)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ep = epub_of(backend, course_id)
        if ep.get("workflow_state") in ("generated", "failed"):
            assert ep["workflow_state"] == "generated"
            return ep
        time.sleep(0.1)
    raise AssertionError("the ePub did not finish")


def cell(screen: EpubScreen, column: int) -> str:
    table = screen.query_one("#epubs")
    return str(table.get_row_at(table.cursor_row)[column])


@pytest.mark.slow
async def test_regenerate_asks_cancel_asks_and_the_last_good_epub_stays(
    home: Path, backend, monkeypatch
) -> None:
    good = generated(backend, 1)
    good_path = good["epub_attachment"]["path"]
    app = make_app(backend, home)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot, app)
        await pilot.press("e")
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, EpubScreen) and app.screen, what="ePubs"
        )
        await wait_for(pilot, lambda: screen.query_one("#epubs").row_count == 3, what="rows")
        assert screen.selected["id"] == 1 and cell(screen, 4) == good_path
        await pilot.press("g")
        ask = await wait_for(pilot, lambda: isinstance(app.screen, AskScreen) and app.screen, what="question")
        assert "Regenerate" in str(ask.query_one("#ask-title").render())
        await pilot.press("n")  # keep it: nothing starts
        await wait_for(pilot, lambda: app.screen is screen, what="the ePub screen")
        await pilot.pause(0.3)
        assert epub_of(backend, 1)["id"] == good["id"]

        release = threading.Event()
        import tui_exports.exporters.epub as epubmod

        def slow(snap, workdir, progress, **kwargs):
            for i in range(2000):
                progress(min(79.0, i / 20), "rendering")
                if release.wait(0.02):
                    break
            raise RuntimeError("released")

        monkeypatch.setattr(epubmod, "render_book", slow)
        try:
            await pilot.press("g")
            await wait_for(pilot, lambda: isinstance(app.screen, AskScreen), what="question")
            await pilot.press("g")  # regenerate
            await wait_for(pilot, lambda: app.screen is screen, what="the ePub screen")
            await wait_for(pilot, lambda: "exporting" in cell(screen, 1), timeout=20, what="a running ePub")
            assert cell(screen, 4) == f"last good: {good_path}"
            await pilot.press("x")
            ask = await wait_for(pilot, lambda: isinstance(app.screen, AskScreen) and app.screen, what="ask")
            assert "Cancel the ePub of" in str(ask.query_one("#ask-title").render())
            await pilot.press("y")
            await wait_for(pilot, lambda: "canceled" in cell(screen, 1), timeout=20, what="canceled")
        finally:
            release.set()
        assert cell(screen, 1) == "⊘ canceled"
        assert cell(screen, 4) == f"last good: {good_path}"
        detail = str(screen.query_one("#epub-detail").render())
        assert f"last good: ePub {good['id']}" in detail and good_path in detail
        await pilot.press("c")
        await wait_for(pilot, lambda: app.clipboard, what="a copy")
        assert good_path in app.clipboard


async def test_epubs_read_while_the_screen_is_built_or_taken_down_wait_for_the_next_reading(
    home: Path, backend
) -> None:
    """The poller's reading can reach the ePub screen before its table is composed, or after it
    is removed (the full suite under load met it): nothing breaks, the next reading shows them."""
    app = make_app(backend, home)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot, app)
        items = backend.epub_exports()
        screen = EpubScreen(backend, app.main.courses.courses)
        screen.show(items, {})  # not composed yet: no table to fill
        await app.push_screen(screen)
        await wait_for(pilot, lambda: screen.query_one("#epubs").row_count == len(items), what="the rows")
