"""A copied path pastes into a shell as one word, and the notice names what was copied."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tui_exports.backends.local import LocalBackend
from tui_exports.model import ContextType
from tui_exports.tui.format import path_of

from .conftest import make_app, wait_done, wait_for
from .test_flow import started

pytestmark = pytest.mark.anyio


@pytest.mark.slow
async def test_copied_path_is_shell_quoted(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "my exports & more"
    monkeypatch.setenv("TUI_EXPORTS_HOME", str(home))
    backend = LocalBackend.open(jobs="inprocess")
    try:
        backend.create_content_export(ContextType.COURSE, 1, "zip")
        path = path_of(wait_done(backend, 1)[0])
        assert " & " in path
        app = make_app(backend, home)
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot, app)
            await wait_for(pilot, lambda: app.main.history.row_count, what="the export")
            app.main.history.focus()
            await pilot.press("c")
            note = await wait_for(
                pilot, lambda: [n for n in app._notifications if "Copied" in (n.title or "")], what="notice"
            )
            assert shlex.split(app.clipboard) == [path]
            assert note[0].title == "Copied the path of export 1 (shell-quoted)"
            assert note[0].message == app.clipboard
    finally:
        backend.close()
