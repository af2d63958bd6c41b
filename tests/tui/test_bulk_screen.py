"""The Bulk screen (``b``): runs of ``tui-exports bulk`` with their items live, filtered by state,
and the failed items of a run retried from there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_exports.engine import bulk
from tui_exports.tui.screens import BulkScreen

from .conftest import make_app, wait_for
from .test_flow import started

pytestmark = pytest.mark.anyio


def rows(screen: BulkScreen, table_id: str) -> list[list[str]]:
    table = screen.query_one(table_id)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_bulk_screen_lists_runs_filters_items_and_retries_failed(home: Path, backend, tmp_path) -> None:
    service = backend.service
    out = tmp_path / "out"
    out.mkdir()
    blocker = out / "CS_110-3"
    blocker.write_text("where course 3's folder goes")
    planned = bulk.plan(service, bulk.BulkRequest(formats=("zip",), out=out, courses="all"))
    run_id = bulk.create_run(service, planned)
    bulk.Coordinator(service, run_id, bulk.InlinePool(), max_attempts=1).run()
    app = make_app(backend, home)
    async with app.run_test(size=(160, 40)) as pilot:
        await started(pilot, app)
        await pilot.press("b")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, BulkScreen) and app.screen, what="bulk")
        runs = await wait_for(pilot, lambda: rows(screen, "#bulk-runs"), what="runs")
        assert runs[0][0] == str(run_id) and "failed" in runs[0][1] and runs[0][3] == "2 exported, 1 failed"
        items = await wait_for(
            pilot, lambda: len(rows(screen, "#bulk-items")) == 3 and rows(screen, "#bulk-items")
        )
        assert [r[2] for r in items] == ["ASTR 101-1", "HIST 390-2", "CS 110-3"]
        await pilot.press("f")  # failed only
        await wait_for(pilot, lambda: len(rows(screen, "#bulk-items")) == 1, what="the failed item alone")
        failed = rows(screen, "#bulk-items")[0]
        assert failed[2] == "CS 110-3" and "FileExistsError" in failed[5]
        blocker.unlink()
        await pilot.press("t")
        await wait_for(
            pilot, lambda: "exported" in rows(screen, "#bulk-runs")[0][1], timeout=20, what="the retried run"
        )
        await wait_for(pilot, lambda: not rows(screen, "#bulk-items"), what="no failed item left")
        assert "3 exported" in rows(screen, "#bulk-runs")[0][3]
        await pilot.press("escape")
        assert not isinstance(app.screen, BulkScreen)
