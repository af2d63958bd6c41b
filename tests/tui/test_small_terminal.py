"""80×24 and 60×16: the footer's keys fit, the detail has room, a running export stays in view."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from .conftest import FrozenBackend, make_app, wait_done, wait_for
from .test_flow import open_dialog, started

pytestmark = pytest.mark.anyio


@pytest.fixture
def running(home: Path, backend) -> FrozenBackend:
    from tui_exports.model import ContextType

    backend.create_content_export(ContextType.COURSE, 1, "zip")
    wait_done(backend, 1)
    backend.create_content_export(ContextType.COURSE, 1, "zip")
    wait_done(backend, 1)
    return FrozenBackend(backend, home, fake_running={2: 45.0})


async def test_80x24_footer_fits_and_the_detail_has_room(home: Path, running) -> None:
    app = make_app(running, home)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        await wait_for(pilot, lambda: app.main.history.row_count == 2, what="rows")
        wanted = ("n New export", "? Help", "q Quit")

        def footer_keys():
            keys = [k for k in app.main.query(FooterKey) if k.display and k.region.width > 0]
            shown = " ".join(f"{k.key_display} {k.description}" for k in keys)
            return keys if all(w in shown for w in wanted) else None

        for focus in ("#courses", "#history"):
            app.main.query_one(focus).focus()
            keys = await wait_for(  # the footer is composed again for the focused pane's keys
                pilot, footer_keys, what=f"the footer with {focus} focused to show {wanted}"
            )
            assert all(k.region.right <= 80 for k in keys), focus
        detail = app.main.query_one("#detail")
        assert detail.content_region.height >= 6
        assert "ctrl+p" in str(app.main.query_one("#status").render())


async def test_60x16_running_export_keeps_its_row(home: Path, running) -> None:
    app = make_app(running, home)
    async with app.run_test(size=(60, 16)) as pilot:
        await started(pilot, app)
        await wait_for(pilot, lambda: app.main.history.row_count == 2, what="rows")
        await pilot.pause(0.2)
        history = app.main.history
        assert history.content_region.height >= 2  # the header and the running export's row
        assert app.main.query_one("#detail").content_region.height >= 1


@pytest.mark.slow
async def test_picker_reasons_are_readable_whole(home: Path, backend) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        await open_dialog(pilot, app, "zip")
        await pilot.press("p")
        from tui_exports.tui.screens import PickerScreen

        picker = await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen) and app.screen)
        await wait_for(pilot, lambda: picker.query("#content-tree"), what="the tree")
        greyed = str(picker.query_one("#greyed").render())
        assert "Modules, Pages" in greyed and "zip exports only folders and files" in greyed
