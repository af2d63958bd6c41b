"""Snapshots of each screen at 80×24 and 120×40, on a fresh library with frozen times and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_exports.model import ContextType
from tui_exports.tui.screens import EpubScreen, NewExportScreen, PickerScreen
from tui_exports.tui.widgets import ContentTree

from .conftest import FrozenBackend, make_app, still, tick, wait_done, wait_for

# 80x24 is the size the app is made for; the wide layout is checked in the full suite
SIZES = [(80, 24), pytest.param((120, 40), marks=pytest.mark.slow)]


@pytest.fixture
def frozen(home: Path, backend) -> FrozenBackend:
    """Two finished zips of ASTR 101; times, uuids and paths frozen for stable pictures."""
    content = backend.content_list(1)
    backend.create_content_export(ContextType.COURSE, 1, "zip", {"files": [content["attachments"][0]["id"]]})
    wait_done(backend, 1)
    backend.create_content_export(ContextType.COURSE, 1, "zip")
    wait_done(backend, 1)
    return FrozenBackend(backend, home)


async def loaded(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.main.history.row_count == 2, what="history rows")
    await still(pilot)


async def press_for(pilot, key: str, screen_type: type):
    """From the loaded main screen, press ``key`` and return the screen it opens."""
    await loaded(pilot)
    await pilot.press(key)
    return await wait_for(pilot, lambda: isinstance(pilot.app.screen, screen_type) and pilot.app.screen)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare, frozen, home, size) -> None:
    assert snap_compare(make_app(frozen, home), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_new_export_dialog(snap_compare, frozen, home, size) -> None:
    async def run_before(pilot) -> None:
        dialog = await press_for(pilot, "n", NewExportScreen)
        await wait_for(
            pilot, lambda: dialog.errors == [] and "accepts" in str(dialog.query_one("#validation").render())
        )
        await still(pilot)

    assert snap_compare(make_app(frozen, home), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_content_picker(snap_compare, frozen, home, size) -> None:
    async def run_before(pilot) -> None:
        dialog = await press_for(pilot, "n", NewExportScreen)
        await pilot.press("down", "down", "p")  # zip of files (the arrows choose), then the picker
        picker = await wait_for(
            pilot, lambda: isinstance(pilot.app.screen, PickerScreen) and pilot.app.screen
        )
        tree = await wait_for(pilot, lambda: picker.query(ContentTree) and picker.query_one(ContentTree))
        content = frozen.content_list(1)
        for key in [("folders", content["folders"][1]["id"]), ("files", content["attachments"][-1]["id"])]:
            await tick(pilot, tree, key)
        await wait_for(pilot, lambda: "accepts" in str(picker.query_one("#select-validation").render()))
        assert dialog.kind == "zip" and tree.model.ticked
        await still(pilot)

    assert snap_compare(make_app(frozen, home), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_epub_screen(snap_compare, frozen, home, size) -> None:
    async def run_before(pilot) -> None:
        screen = await press_for(pilot, "e", EpubScreen)
        await wait_for(pilot, lambda: screen.query_one("#epubs").row_count == 3)
        await still(pilot)

    assert snap_compare(make_app(frozen, home), terminal_size=size, run_before=run_before)


@pytest.fixture
def running(home: Path, backend) -> FrozenBackend:
    """As ``frozen``, with export 2 pictured running at 45 %."""
    content = backend.content_list(1)
    backend.create_content_export(ContextType.COURSE, 1, "zip", {"files": [content["attachments"][0]["id"]]})
    wait_done(backend, 1)
    backend.create_content_export(ContextType.COURSE, 1, "zip")
    wait_done(backend, 1)
    return FrozenBackend(backend, home, fake_running={2: 45.0})


@pytest.mark.parametrize("size", [(80, 24), (60, 16)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen_while_an_export_runs(snap_compare, running, home, size) -> None:
    async def run_before(pilot) -> None:
        await loaded(pilot)
        pilot.app.main.history.focus()
        await still(pilot)

    assert snap_compare(make_app(running, home), terminal_size=size, run_before=run_before)
