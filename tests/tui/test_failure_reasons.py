"""Why an export failed, in the app: Canvas keeps the reason only in ``Progress.message``
("Unexpected error, ID: …"), so the history's detail shows it for every failed export, not only
for one the app watched: one that had failed before the app opened, or found failed on a reload."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_exports.model import ContentExportState, ContextType, ProgressState
from tui_exports.tui.format import shown_state, was_canceled

from .conftest import make_app, wait_for
from .test_flow import started

pytestmark = pytest.mark.anyio
SIZE = (100, 30)
REASON = "Unexpected error, ID: 424242"


def failed_as_canvas_says(backend, message: str | None) -> int:
    """A zip of course 1 that failed as a Canvas instance reports it: the export ``failed`` with
    no errors of its own, its Progress ``failed`` with the reason as message (one transaction:
    no runner sees it queued)."""
    service = backend.service
    with service.library.transaction():
        ce = service.create_content_export(1, ContextType.COURSE, 1, "zip")
        service.store.update_content_export(ce.id, workflow_state=ContentExportState.FAILED)
        service.store.update_progress(ce.progress_id, workflow_state=ProgressState.FAILED, message=message)
    return ce.id


def detail(app) -> str:
    return str(app.main.query_one("#detail-summary").render())


async def test_an_export_that_failed_before_the_app_opened_shows_its_reason(home: Path, backend) -> None:
    export_id = failed_as_canvas_says(backend, REASON)
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        table = app.main.history
        await wait_for(pilot, lambda: table.row_count, what="the history")
        assert int(table.get_row_at(0)[0]) == export_id and "✗ failed" in str(table.get_row_at(0)[2])
        await wait_for(pilot, lambda: REASON in detail(app), what="the Progress message in the detail")
        assert f"✗ {REASON}" in detail(app)


async def test_an_export_found_failed_on_a_reload_shows_its_reason(home: Path, backend) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        table = app.main.history
        rows = table.row_count
        export_id = failed_as_canvas_says(backend, REASON)  # failed elsewhere, never watched here
        await pilot.press("r")
        await wait_for(pilot, lambda: table.row_count > rows, what="the new row")
        assert int(table.get_row_at(0)[0]) == export_id and "✗ failed" in str(table.get_row_at(0)[2])
        await wait_for(pilot, lambda: f"✗ {REASON}" in detail(app), what="the Progress message")


async def test_an_export_canceled_on_canvas_reads_canceled_without_a_bar(
    home: Path, backend, monkeypatch
) -> None:
    """Canvas's progress#cancel leaves the export ``exporting`` and fails its Progress (message
    null when none was sent): the row and the detail say canceled, with no bar running on."""
    export_id = failed_as_canvas_says(backend, None)
    real = backend.content_exports

    def as_canvas_leaves_it(*args, **kwargs):
        exports, pages = real(*args, **kwargs)
        return [dict(e, workflow_state="exporting") if e["id"] == export_id else e for e in exports], pages

    monkeypatch.setattr(backend, "content_exports", as_canvas_leaves_it)
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        table = app.main.history
        await wait_for(pilot, lambda: table.row_count, what="the history")
        await wait_for(pilot, lambda: "canceled" in str(table.get_row_at(0)[2]), what="the canceled row")
        row = table.get_row_at(0)
        assert str(row[2]) == "⊘ canceled" and "▰" not in str(row[4]) and "▱" not in str(row[4])
        assert "progress: 0% canceled" in detail(app) and "✗" not in detail(app)
        assert not app.main.query_one("#detail-bar").display


def test_a_progress_failed_while_its_export_runs_was_canceled() -> None:
    """Canvas's progress#cancel fails the Progress and leaves the export exporting: canceled."""
    exporting = {"workflow_state": "exporting"}
    assert was_canceled(exporting, {"workflow_state": "failed", "message": None})
    assert shown_state(exporting, {"workflow_state": "failed"}) == "canceled"
    assert not was_canceled(exporting, {"workflow_state": "running"})
    assert was_canceled({"workflow_state": "generating"}, {"workflow_state": "failed"}, "epub")
    failed = {"workflow_state": "failed", "errors": []}
    assert not was_canceled(failed, {"workflow_state": "failed", "message": REASON})
