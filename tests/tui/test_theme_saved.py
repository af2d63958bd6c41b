"""A theme chosen in the command palette is kept in config.toml for the next start."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from .conftest import make_app, wait_for
from .test_flow import started

pytestmark = pytest.mark.anyio


@pytest.mark.slow
async def test_theme_chosen_in_the_palette_survives_a_restart(home: Path, backend) -> None:
    config = home / "config.toml"
    config.write_text('# mine\n[keys]\nnew_export = "N"\n', encoding="utf-8")
    app = make_app(backend, home)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"theme", "enter")  # the palette's "Theme" command lists the themes
        await pilot.pause(0.2)
        await pilot.press(*"textual-light", "enter")
        await wait_for(pilot, lambda: app.theme == "textual-light", what="the theme")
        await wait_for(pilot, lambda: "theme" in tomllib.loads(config.read_text()), what="saved")
    data = tomllib.loads(config.read_text())
    assert data == {"theme": "textual-light", "keys": {"new_export": "N"}}
    again = make_app(backend, home)
    async with again.run_test(size=(100, 30)) as pilot:
        await started(pilot, again)
        assert again.theme == "textual-light"


async def test_a_broken_config_is_not_written_over(home: Path, backend) -> None:
    config = home / "config.toml"
    config.write_text("theme = 3\n", encoding="utf-8")
    app = make_app(backend, home)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot, app)
        app.theme = "textual-light"
        await wait_for(
            pilot, lambda: any("not saved" in n.message for n in app._notifications), what="the warning"
        )
    assert config.read_text() == "theme = 3\n"
