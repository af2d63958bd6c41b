"""The new-export dialog chooses a Common Cartridge's version, 1.3 unless told otherwise."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tui_exports.tui.format import path_of

from .conftest import make_app, wait_for
from .test_flow import open_dialog, started

pytestmark = pytest.mark.anyio
SIZE = (100, 30)


def manifest_version(path: str) -> str:
    with zipfile.ZipFile(path) as z:
        text = z.read("imsmanifest.xml").decode()
    return text.split("<schemaversion>", 1)[1].split("</schemaversion>", 1)[0]


async def export_cartridge(pilot, app, *keys: str) -> tuple[str | None, str]:
    await started(pilot, app)
    dialog = await open_dialog(pilot, app, "common_cartridge")
    assert dialog.query_one("#version").display and dialog.version == "1.3.0"
    await pilot.press(*keys)
    version = dialog.version
    await pilot.press("enter")
    table = app.main.history
    await wait_for(
        pilot,
        lambda: table.row_count and path_of(table.selected or {}),
        timeout=30,
        what="the finished cartridge",
    )
    return version, path_of(table.selected)


async def test_cartridge_is_1_3_by_default(home: Path, backend) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        version, path = await export_cartridge(pilot, app)
    assert version == "1.3.0" and manifest_version(path) == "1.3.0"


@pytest.mark.slow
async def test_cartridge_version_can_be_1_1(home: Path, backend) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        version, path = await export_cartridge(pilot, app, "tab", "tab", "up")  # type → scope → version
    assert version == "1.1.0" and manifest_version(path) == "1.1.0"


async def test_no_version_choice_for_other_types(home: Path, backend) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        dialog = await open_dialog(pilot, app, "zip")
        await wait_for(pilot, lambda: not dialog.query_one("#version").display, what="no version")
        assert dialog.request().version is None
