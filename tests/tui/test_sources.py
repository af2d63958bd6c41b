"""The app on a Canvas instance: switch to a profile from the command palette, export, download.

The instance is ``tui-exports serve`` on loopback (real HTTP), over a second library.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList

from tui_exports.backends.local import LocalBackend
from tui_exports.paths import Home
from tui_exports.tui.app import ExportsApp
from tui_exports.tui.screens import NewExportScreen

from .conftest import wait_for

pytestmark = pytest.mark.anyio


@pytest.mark.slow  # the app against a served instance over real HTTP
async def test_switch_to_a_profile_export_and_download(home: Path, school: str) -> None:
    local = LocalBackend.open(jobs="inprocess")
    app = ExportsApp(local, home=Home.from_env(home), config_file=home / "config.toml")
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.main.courses.option_count, what="local courses")
            assert "Use Canvas profile school" in [name for name, _, _ in app.palette_commands()]
            app.use_source("stale")  # a bad token: the app stays where it was, and says why
            await wait_for(
                pilot,
                lambda: any(
                    "rejected the access token" in n.message
                    for n in app._notifications
                    if n.severity == "error"
                ),
                what="the refusal",
            )
            assert app.backend is local and app.main.course.role == "teacher"
            assert "local library" in str(app.main.query_one("#status").render())
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: app.screen.query(OptionList), what="the palette")
            await pilot.press(*"profile school")
            await wait_for(
                pilot,
                lambda: (
                    [str(o.prompt).split("\n")[0] for o in app.screen.query_one(OptionList).options]
                    == ["Use Canvas profile school"]
                ),
                what="the profile, alone, in the palette",
            )
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.backend is not local, what="the Canvas backend")
            host = school.split("//", 1)[1]
            await wait_for(
                pilot,
                lambda: (
                    app.user
                    and app.user.key != "teacher"
                    and app.main.course
                    and app.main.course.role == "student"
                ),
                what="the student's courses",
            )
            assert host in str(app.main.query_one("#status").render())

            await pilot.press("n")
            dialog = await wait_for(
                pilot, lambda: isinstance(app.screen, NewExportScreen) and app.screen, what="dialog"
            )
            await pilot.pause()
            assert dialog.kind == "zip"  # a student may only zip
            await pilot.press("enter")
            table = app.main.history
            await wait_for(
                pilot,
                lambda: table.row_count and (table.selected or {}).get("attachment", {}).get("path"),
                timeout=20,
                what="the downloaded file",
            )
            path = Path(table.selected["attachment"]["path"])
            assert path.is_file() and path.suffix == ".zip" and not path.name.endswith(".part")
            assert path.is_relative_to(Home.from_env(home).downloads)
            await wait_for(  # the row can show the path (a poll) before the notice is posted
                pilot, lambda: any(str(path) in n.message for n in app._notifications), what="the notice"
            )
            shown = table.selected
            app.wake_poller()
            await wait_for(
                pilot, lambda: table.selected is not shown, what="a history refresh from the instance"
            )
            assert table.selected["attachment"]["path"] == str(path)  # the refresh keeps the download's path
            assert "Use Canvas profile school" not in [
                n for n, _, _ in app.palette_commands()
            ]  # already on it
            assert "Use the local library" in [n for n, _, _ in app.palette_commands()]
    finally:
        for backend in app.sources.values():
            backend.close()


@pytest.mark.slow
async def test_a_download_that_fails_says_so_and_leaves_no_bar(home: Path, school: str, monkeypatch) -> None:
    from tui_exports.backends.base import BackendError
    from tui_exports.backends.canvas import CanvasBackend

    def refused(self, attachment, dest_dir=None, progress=None):
        if progress:
            progress(10, 100)  # a bar was drawn before the connection went
        raise BackendError("the connection closed before the whole file arrived")

    monkeypatch.setattr(CanvasBackend, "fetch_file", refused)
    local = LocalBackend.open(jobs="inprocess")
    app = ExportsApp(local, home=Home.from_env(home), config_file=home / "config.toml")
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.main.courses.option_count, what="local courses")
            app.use_source("school")
            await wait_for(
                pilot,
                lambda: app.backend is not local and app.main.course and app.main.course.role == "student",
                what="the student's courses",
            )
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, NewExportScreen), what="dialog")
            await pilot.pause()
            await pilot.press("enter")
            await wait_for(
                pilot,
                lambda: any("could not be downloaded" in n.message for n in app._notifications),
                timeout=20,
                what="the download's failure",
            )
            table = app.main.history
            await wait_for(
                pilot, lambda: table.row_count and "KB" in str(table.get_row_at(0)[4]), what="size, no bar"
            )
            assert "exported" in str(table.get_row_at(0)[2]) and not str(table.get_row_at(0)[5])
    finally:
        for backend in app.sources.values():
            backend.close()
