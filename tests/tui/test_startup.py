"""What the app's start costs: the first frame before the library is opened, the collector
paused, the footer built again only when its keys change."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cli_run import run_cli
from textual.widgets._footer import FooterKey

from tui_exports.backends.base import BackendError
from tui_exports.backends.local import LocalBackend
from tui_exports.tui.app import ExportsApp

from .conftest import make_app, wait_for
from .test_flow import started

pytestmark = pytest.mark.anyio


def screen_text(app) -> str:
    return app.export_screenshot().replace("&#160;", " ")


def footer_text(app) -> str:
    return " ".join(f"{k.key_display} {k.description}" for k in app.screen.query(FooterKey) if k.display)


async def test_the_footer_is_built_again_only_when_its_keys_change(home: Path, backend) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot, app)
        await pilot.pause(0.2)
        keys = list(app.main.query(FooterKey))
        shown = footer_text(app)
        assert "n New export" in shown and "q Quit" in shown
        # the list and the history show the same keys: moving between them keeps the footer
        for _ in range(2):
            app.main.history.focus()
            await pilot.pause()
            app.main.courses.focus()
            await pilot.pause()
        app.main.refresh_bindings()
        await pilot.pause(0.1)
        assert list(app.main.query(FooterKey)) == keys and footer_text(app) == shown
        # the detail panel has a key of its own: the footer says it
        app.main.query_one("#detail").focus()
        await wait_for(pilot, lambda: "Back to history" in footer_text(app), what="the detail's key")
        app.main.courses.focus()
        await wait_for(pilot, lambda: footer_text(app) == shown, what="the list's keys again")


async def test_the_first_frame_is_drawn_before_the_library_is_opened(home: Path, demo_home) -> None:
    """``tui-exports`` opens the library (engine, store) once the screen is up: the panes are
    drawn first, keys that need the library say it is opening, then the courses appear."""
    release, opened = threading.Event(), []

    def opener() -> LocalBackend:
        assert release.wait(10)
        backend = LocalBackend.open(jobs="inprocess")
        opened.append(backend)
        return backend

    app = ExportsApp(opener=opener, config_file=home / "config.toml")
    gc.disable()  # as run_tui pauses it for the start: the app turns it on once the list is shown
    try:
        await first_frame_then_list(app, release, opened)
    finally:
        gc.enable()
        release.set()
        for backend in opened:
            backend.close()


async def first_frame_then_list(app: ExportsApp, release: threading.Event, opened: list) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        assert not opened and app.backend is None
        screen = screen_text(app)
        assert "Courses" in screen and "Exports" in screen and "ASTR 101" not in screen
        await pilot.press("e")  # the ePub screen needs the library
        assert app.screen is app.main
        assert any("Opening the library" in n.message for n in app._notifications)
        release.set()
        await started(pilot, app)
        await wait_for(pilot, gc.isenabled, what="the collector on again")
        assert app.backend is opened[0] and "ASTR 101" in screen_text(app)
        assert "local library · as" in str(app.main.query_one("#status").render())
        await pilot.press("e")
        await wait_for(pilot, lambda: app.screen is not app.main, what="the ePub screen")


async def test_a_library_that_cannot_be_opened_ends_the_app(home: Path) -> None:
    def opener():
        raise BackendError("no user 'nobody' in this library")

    app = ExportsApp(opener=opener, config_file=home / "config.toml")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app._exit, what="the app to end")
    assert app.return_code == 2 and str(app.open_error) == "no user 'nobody' in this library"


def test_the_command_says_why_the_library_did_not_open(home: Path, capsys, monkeypatch) -> None:
    """``tui-exports --as nobody``: the app ends, and the reason is one line, exit 2."""
    import tui_exports.tui.app as tui_app

    def run_tui(backend=None, *, opener=None):
        assert backend is None  # the app opens the library itself, after its first frame
        opener()

    monkeypatch.setattr(tui_app, "run_tui", run_tui)
    code, _, err = run_cli(capsys, "--as", "nobody")
    assert code == 2 and err.startswith("error:") and "nobody" in err


HEAVY = ("tui_exports.engine.service", "tui_exports.store", "tui_exports.exporters", "tui_exports.importers")
HEAVY_LIBS = ("sqlite_utils", "lxml", "httpx", "ebooklib")

PROGRAM = f"""
import sys
import tui_exports.tui.app as app

def first_frame(self):  # what is imported when the app starts drawing
    heavy = sorted(m for m in sys.modules if m.startswith({HEAVY!r}) or m.split(".")[0] in {HEAVY_LIBS!r})
    print("heavy:", heavy)

app.ExportsApp.run = first_frame
from tui_exports.cli import main
sys.exit(main([]))
"""


@pytest.mark.slow  # a subprocess: the program's own imports, not the test process's
def test_the_app_starts_drawing_without_the_engine_or_the_store(home: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "heavy: []" in out, out


def test_opening_the_library_looks_for_no_plugins(demo_home: Path, monkeypatch) -> None:
    """sqlite-utils looked through every installed package for plugins at the first open."""
    import sqlite_utils.db

    from tui_exports.engine import ExportService
    from tui_exports.paths import Home

    def scan() -> None:
        raise AssertionError("the installed packages were scanned for sqlite-utils plugins")

    monkeypatch.setattr(sqlite_utils.db, "ensure_plugins_loaded", scan)
    service = ExportService.open(Home.from_env(demo_home))
    try:
        assert [c.course_code for c, _ in service.courses(service.owner_id())][:1] == ["ASTR 101"]
    finally:
        service.close()
