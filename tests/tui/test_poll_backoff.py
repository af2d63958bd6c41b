"""An idle app reads the history less and less often; r reads it at once."""

from __future__ import annotations

from pathlib import Path

import pytest

import tui_exports.tui.app as appmod
from tui_exports.tui.app import next_pause

from .conftest import make_app, wait_for
from .test_flow import started


def test_pauses_back_off_while_idle_and_nothing_changes() -> None:
    pauses, pause = [], appmod.IDLE_SECONDS
    for _ in range(7):
        pause = next_pause(False, False, pause)
        pauses.append(pause)
    assert pauses == [4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert next_pause(False, True, 60.0) == appmod.IDLE_SECONDS  # something changed
    assert next_pause(True, False, 60.0) == appmod.BUSY_SECONDS  # something runs


@pytest.mark.slow
@pytest.mark.anyio
async def test_idle_app_backs_off_and_r_refreshes(home: Path, backend, monkeypatch) -> None:
    monkeypatch.setattr(appmod, "IDLE_SECONDS", 0.05)
    monkeypatch.setattr(appmod, "IDLE_MAX_SECONDS", 0.4)
    pauses: list[float] = []
    real = appmod.next_pause
    monkeypatch.setattr(appmod, "next_pause", lambda *a: pauses.append(real(*a)) or pauses[-1])
    app = make_app(backend, home)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot, app)
        await wait_for(pilot, lambda: pauses[-3:] == [0.4] * 3, what="the poller to back off and stay")
        before = len(pauses)
        await pilot.press("r")
        await wait_for(pilot, lambda: 0.05 in pauses[before:], what="a reading at once on r")
        await wait_for(pilot, lambda: pauses[-1] == 0.4, what="backing off again")


@pytest.mark.anyio
async def test_an_export_started_by_another_program_shows_without_waiting_for_the_poll(
    home: Path, backend, monkeypatch
) -> None:
    """The local library tells the app when another connection committed: an export queued by
    another program appears at once, though the idle poller would not read for a minute."""
    from tui_exports.engine import ExportService
    from tui_exports.model import ContextType
    from tui_exports.paths import Home

    monkeypatch.setattr(appmod, "IDLE_SECONDS", 60.0)
    app = make_app(backend, home)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot, app)
        table = app.main.history
        course = app.main.history.course_id
        await wait_for(pilot, lambda: app.poll_pause == 60.0, what="the poller to rest")
        before = table.row_count
        other = ExportService.open(Home.from_env(home))  # another program: its own connection
        try:
            other.create_content_export(backend.user_id, ContextType.COURSE, course, "zip")
        finally:
            other.close()
        await wait_for(pilot, lambda: table.row_count == before + 1, what="the new export's row")
