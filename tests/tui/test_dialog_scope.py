"""The new-export dialog offers only the scopes the chosen type can be made in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_exports.model import ContextType

from .conftest import make_app, settle, wait_for
from .test_flow import open_dialog, started

pytestmark = pytest.mark.anyio
SIZE = (100, 30)


@pytest.mark.slow
async def test_epub_offers_no_scope_and_starts_only_a_course_epub(home: Path, backend) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        dialog = await open_dialog(pilot, app, "zip")
        await pilot.press("tab", "down")  # scope: my user files (zip can be made there)
        assert dialog.context == (ContextType.USER, app.user.id)
        await pilot.press("shift+tab", "down")  # type: ePub
        await wait_for(pilot, lambda: not dialog.query_one("#scope").display, what="no scope")
        assert dialog.kind == "epub"
        assert "only for courses" in str(dialog.query_one("#scope-note").render())
        assert dialog.request().context_type is ContextType.COURSE
        await pilot.press("up")  # back to zip: the scopes are offered again, the course chosen
        await wait_for(pilot, lambda: dialog.query_one("#scope").display, what="the scopes")
        assert dialog.query_one("#scope").display and not dialog.query_one("#scope-note").display
        assert dialog.context == (ContextType.COURSE, 1)
        await pilot.press("up", "up")  # a cartridge: only the course
        await wait_for(pilot, lambda: dialog.query_one("#scope-user").disabled, what="no user scope")
        assert dialog.kind == "common_cartridge"
        assert dialog.query_one("#scope-user").disabled and not dialog.query_one("#scope-course").disabled
        await pilot.press("down", "down", "down", "enter")  # an ePub of the course
        await wait_for(pilot, lambda: app.screen is app.main, what="main screen")
        await settle(pilot, app)
    epubs = [e for e in backend.epub_exports() if e.get("epub_export")]
    assert [e["id"] for e in epubs] == [1]
