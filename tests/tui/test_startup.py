"""What the app's start costs: the footer is built again only when its keys change."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from .conftest import make_app, wait_for
from .test_flow import started

pytestmark = pytest.mark.anyio


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
