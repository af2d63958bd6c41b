"""Cancel and quit: a cancel asks first and reads as canceled; quit with exports running asks once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tui_exports.tui.format import shown_state, was_canceled
from tui_exports.tui.screens import AskScreen

from .conftest import make_app, wait_for
from .test_flow import open_dialog, started

pytestmark = pytest.mark.anyio
SIZE = (100, 30)


def test_one_helper_decides_what_a_cancel_looks_like() -> None:
    mine = {"workflow_state": "failed", "errors": ["canceled: canceled by the user"]}
    assert was_canceled(mine) and shown_state(mine) == "canceled"
    early = {"workflow_state": "failed", "errors": ["canceled before it started"]}
    assert was_canceled(early)
    # Canvas: no errors list; the Progress says canceled, or failed with the cancel message
    canvas = {"workflow_state": "failed"}
    assert was_canceled(canvas, {"workflow_state": "canceled", "message": None})
    assert was_canceled(canvas, {"workflow_state": "failed", "message": "Canceled by the user"})
    broken = {"workflow_state": "failed", "errors": ["the cartridge writer broke"]}
    assert not was_canceled(broken, {"workflow_state": "failed", "message": "the cartridge writer broke"})
    assert shown_state(broken) == "failed"
    assert not was_canceled({"workflow_state": "exported"}, {"workflow_state": "canceled"})
    assert not was_canceled({"workflow_state": "exported"}, {"workflow_state": "failed"})


@pytest.fixture
def slow_zip(monkeypatch):
    """A zip exporter that reports progress until it is canceled (or released)."""
    import tui_exports.exporters.zip as zipmod

    release = threading.Event()

    def slow(snapshot, workdir, progress):
        for i in range(2000):
            progress(min(99.0, i / 20), "copying files")  # a cancel is raised from here
            if release.wait(0.02):
                break
        raise RuntimeError("released")

    monkeypatch.setattr(zipmod, "export_zip", slow)
    yield release
    release.set()


async def running_zip(pilot, app) -> None:
    await started(pilot, app)
    await open_dialog(pilot, app, "zip")
    await pilot.press("enter")
    table = app.main.history
    await wait_for(
        pilot, lambda: table.row_count and "exporting" in str(table.get_row_at(0)[2]), what="a running zip"
    )
    table.focus()


@pytest.mark.slow
async def test_x_asks_and_a_cancel_reads_as_canceled(home: Path, backend, slow_zip) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await running_zip(pilot, app)
        table = app.main.history
        await pilot.press("x")
        ask = await wait_for(pilot, lambda: isinstance(app.screen, AskScreen) and app.screen, what="question")
        assert "Cancel the zip export" in str(ask.query_one("#ask-title").render())
        await pilot.press("n")  # keep it
        await wait_for(pilot, lambda: app.screen is app.main, what="main screen")
        await pilot.pause(0.3)
        assert "exporting" in str(table.get_row_at(0)[2])
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, AskScreen), what="question")
        await pilot.press("y")
        await wait_for(pilot, lambda: "canceled" in str(table.get_row_at(0)[2]), timeout=20, what="canceled")
        assert str(table.get_row_at(0)[2]) == "⊘ canceled"
        summary = str(app.main.query_one("#detail-summary").render())
        assert "⊘ canceled" in summary and "failed" not in summary and "✗" not in summary
        await wait_for(pilot, lambda: any("canceled" in (n.title or "") for n in app._notifications))
        assert not [n for n in app._notifications if n.severity == "error"]


@pytest.mark.slow
async def test_q_with_an_export_running_asks_once_background_the_default(
    home: Path, backend, slow_zip
) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await running_zip(pilot, app)
        await pilot.press("q")
        ask = await wait_for(pilot, lambda: isinstance(app.screen, AskScreen) and app.screen, what="question")
        text = str(ask.query_one("#ask-question").render()) + str(ask.query_one("#ask-answers").render())
        assert "1 export is still running" in text and "background" in text and "(default)" in text
        await pilot.press("s")  # stay
        await wait_for(pilot, lambda: app.screen is app.main, what="main screen")
        assert not app._exit
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, AskScreen), what="question again")
        slow_zip.set()
        await pilot.press("enter")  # the default: quit, the export goes on
        await wait_for(pilot, lambda: app._exit, what="the app to quit")


async def test_q_with_nothing_running_quits_at_once(home: Path, backend) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("q")
        await wait_for(pilot, lambda: app._exit, what="the app to quit")
