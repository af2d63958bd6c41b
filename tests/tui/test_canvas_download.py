"""On a Canvas profile, an export made earlier (by the CLI, another run, Canvas's pages) is
downloaded from its row with `d`, or with `enter` on the detail's file line."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tui_exports.backends.canvas import CanvasBackend
from tui_exports.backends.local import LocalBackend
from tui_exports.backends.profiles import open_profile
from tui_exports.model import ContextType
from tui_exports.paths import Home
from tui_exports.tui.app import ExportsApp

from .conftest import wait_for

pytestmark = pytest.mark.anyio


def made_earlier(home: Path, n: int = 1) -> tuple[int, list[int]]:
    """``n`` finished zips of the student's first course, made over HTTP and not downloaded."""
    remote = open_profile("school", Home.from_env(home))
    try:
        course = remote.courses()[0].id
        ids = []
        for _ in range(n):
            export = remote.create_content_export(ContextType.COURSE, course, "zip", None)
            final = remote.follow("content", ContextType.COURSE, course, export, interval=0.05, timeout=20)
            assert final["workflow_state"] == "exported" and final["attachment"].get("url")
            assert not final["attachment"].get("path")
            ids.append(int(final["id"]))
        return course, ids
    finally:
        remote.close()


async def on_school(pilot, app: ExportsApp, local, course: int, ids: list[int]) -> None:
    await wait_for(pilot, lambda: app.main.courses.option_count, what="local courses")
    app.use_source("school")
    await wait_for(pilot, lambda: app.backend is not local, what="the Canvas backend")
    await wait_for(
        pilot,
        lambda: app.main.course and app.main.course.id == course and app.main.history.row_count == len(ids),
        what="the earlier exports",
    )


def detail_file(app: ExportsApp) -> str:
    return str(app.main.query_one("#detail-file").render())


@pytest.mark.slow
async def test_d_downloads_an_export_made_earlier(home: Path, school: str, monkeypatch) -> None:
    course, ids = made_earlier(home)
    half_way = threading.Event()
    real = CanvasBackend.fetch_file

    def held(self, attachment, dest_dir=None, progress=None):
        if progress:
            progress(50, 100)
        half_way.wait(10)  # until the test has seen the bar
        return real(self, attachment, dest_dir, progress)

    monkeypatch.setattr(CanvasBackend, "fetch_file", held)
    local = LocalBackend.open(jobs="inprocess")
    app = ExportsApp(local, home=Home.from_env(home), config_file=home / "config.toml")
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await on_school(pilot, app, local, course, ids)
            table = app.main.history
            await wait_for(pilot, lambda: table.selected_key == str(ids[0]), what="the row highlighted")
            assert "not on this disk yet" in detail_file(app) and "none yet" not in detail_file(app)
            table.focus()
            await pilot.press("d")
            await wait_for(pilot, lambda: "50%" in str(table.get_row_at(0)[4]), what="the bar")
            assert "downloading" in detail_file(app)
            half_way.set()
            path = await wait_for(
                pilot, lambda: (table.selected or {}).get("attachment", {}).get("path"), what="the download"
            )
            assert Path(path).is_file() and Path(path).is_relative_to(Home.from_env(home).downloads)
            assert f"file: {path}" in detail_file(app)
            await wait_for(  # the row may be read again (the poller) before the notice is posted
                pilot,
                lambda: any(
                    path in n.message and "Downloaded" in (n.title or "") for n in app._notifications
                ),
                what="the notice",
            )
            app.wake_poller()  # the next listing still knows where it is
            shown = table.selected
            await wait_for(pilot, lambda: table.selected is not shown, what="a refresh")
            assert table.selected["attachment"]["path"] == path
    finally:
        for backend in app.sources.values():
            backend.close()


@pytest.mark.slow
async def test_enter_on_the_file_line_downloads_it(home: Path, school: str) -> None:
    course, ids = made_earlier(home)
    local = LocalBackend.open(jobs="inprocess")
    app = ExportsApp(local, home=Home.from_env(home), config_file=home / "config.toml")
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await on_school(pilot, app, local, course, ids)
            app.main.history.focus()
            await pilot.press("enter")  # from the history to the detail: the file line has the focus
            assert app.focused is app.main.query_one("#detail-file")
            await pilot.press("enter")
            await wait_for(pilot, lambda: "file: /" in detail_file(app), what="the path")
            path = Path(detail_file(app).split("file: ", 1)[1].strip())
            assert path.is_file() and path.suffix == ".zip"
    finally:
        for backend in app.sources.values():
            backend.close()
