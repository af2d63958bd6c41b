"""The help screen and README's key table say the keys the bindings have, as people type them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.widgets import DataTable

from tui_exports.tui.app import ExportsApp, MainScreen
from tui_exports.tui.screens import HelpScreen
from tui_exports.tui.widgets import ContentTree

from .conftest import make_app, wait_for
from .test_flow import started

pytestmark = pytest.mark.anyio
README = Path(__file__).resolve().parents[2] / "README.md"


def key_table() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("| key | does |")
    return text[start : text.index("\n\n", start)]


async def test_help_shows_keys_as_typed_and_the_config_table(home: Path, backend) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot, app)
        await pilot.press("question_mark")
        helps = await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen, what="help")
        assert "[keys] table of config.toml" in str(helps.query_one("#help-title").render())
        table = helps.query_one(DataTable)
        rows = {str(table.get_row_at(i)[3]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert rows["help"] == "? / F1"
        assert rows["filter"] == "/"
        assert rows["quit_ctrl"] == "ctrl+q"
        assert rows["open_branch"] == "→ / l"
        assert not [k for k in rows.values() if re.search(r"question_mark|slash|\bf1\b", k)]


def test_readme_key_table_names_every_key_of_the_main_screen_and_picker() -> None:
    app = ExportsApp.__new__(ExportsApp)  # only its key display, no app to run
    table = key_table()
    missing = []
    for cls in (ExportsApp, MainScreen, ContentTree):
        for b in cls.BINDINGS:
            if not isinstance(b, Binding) or b.key == "escape" or (cls is ContentTree and not b.show):
                continue
            for key in b.key.split(","):
                shown = ExportsApp.keys_display(app, key)
                if f"`{shown}`" not in table:
                    missing.append(f"{b.id}: `{shown}`")
    assert missing == []
