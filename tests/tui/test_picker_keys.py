"""The content picker from the keyboard alone: open and close branches, tick, tick all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_exports.tui.screens import NewExportScreen, PickerScreen
from tui_exports.tui.widgets import ContentTree

from .conftest import make_app, settle, wait_for
from .test_flow import open_dialog, started, text_of

pytestmark = pytest.mark.anyio
SIZE = (100, 30)


async def picker_of(pilot, app, cursor: bool = True) -> tuple[PickerScreen, ContentTree]:
    picker = await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen) and app.screen, what="picker")
    tree = await wait_for(
        pilot, lambda: picker.query(ContentTree) and picker.query_one(ContentTree), what="tree"
    )
    if cursor:
        await wait_for(pilot, lambda: tree.cursor_node is not None, what="a cursor")
    await pilot.pause()
    return picker, tree


def footer_keys(screen) -> str:
    from textual.widgets._footer import FooterKey

    return " ".join(f"{k.key_display} {k.description}" for k in screen.query(FooterKey))


async def test_one_quiz_in_three_keys_after_p(home: Path, backend) -> None:
    """Canvas's quiz-export page is a list of quiz checkboxes: here the Quizzes branch is
    open and highlighted at once, so `down space enter` ticks the second quiz and returns."""
    quizzes = backend.content_list(1)["quizzes"]
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        dialog = await open_dialog(pilot, app, "qti")
        await pilot.press("p")
        picker, tree = await picker_of(pilot, app)
        assert tree.cursor_node.data == ("quizzes", quizzes[0]["id"])  # visible from the start
        await pilot.press("down", "space", "enter")
        await wait_for(pilot, lambda: app.screen is dialog, what="back to the dialog")
        assert dialog.select == {"quizzes": [quizzes[1]["id"]]}
        await settle(pilot, app)
        assert "quizzes ×1" in text_of(dialog, "#content-summary")


@pytest.mark.slow
async def test_arrows_and_vim_keys_open_and_close_branches(home: Path, backend) -> None:
    content = backend.content_list(1)
    module = content["context_modules"][0]
    first_item = next(t for t in content["content_tags"] if t["module_id"] == module["id"])
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await open_dialog(pilot, app, "common_cartridge")
        await pilot.press("p")
        picker, tree = await picker_of(pilot, app)
        keys = footer_keys(picker)
        for shown in ("→ Open", "← Close", "space Tick", "a Tick all"):
            assert shown in keys
        assert tree.cursor_node.data == "modules"  # a cartridge carries everything: no branch opened
        assert not tree.cursor_node.is_expanded
        await pilot.press("right")
        assert tree.cursor_node.is_expanded and tree.cursor_node.data == "modules"
        await pilot.press("right")  # on an open branch: into it
        assert tree.cursor_node.data == ("modules", module["id"])
        await pilot.press("l", "l")  # vim keys too: open the module, then go into it
        assert tree.cursor_node.data == ("module_items", first_item["id"])
        await pilot.press("space")
        assert picker.select == {"module_items": [first_item["id"]]}
        await pilot.press("h")  # a leaf: to its parent
        assert tree.cursor_node.data == ("modules", module["id"]) and tree.cursor_node.is_expanded
        await pilot.press("left")  # an open branch: closed
        assert not tree.cursor_node.is_expanded
        await pilot.press("left", "left")  # to the heading, then closed
        assert tree.cursor_node.data == "modules" and not tree.cursor_node.is_expanded


@pytest.mark.slow
async def test_zip_opens_the_files_branch(home: Path, backend) -> None:
    content = backend.content_list(1)
    root = next(f for f in content["folders"] if f["parent_id"] is None)
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await open_dialog(pilot, app, "zip")
        await pilot.press("p")
        picker, tree = await picker_of(pilot, app)
        node = tree.cursor_node
        assert node.data == ("folders", root["id"])
        assert node.parent.data == "folders" and node.is_expanded  # a lone top folder is open too


@pytest.mark.slow
async def test_tick_all_ticks_only_what_the_type_carries(home: Path, backend) -> None:
    quizzes = sorted(q["id"] for q in backend.content_list(1)["quizzes"])
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        dialog = await open_dialog(pilot, app, "qti")
        await pilot.press("p")
        picker, tree = await picker_of(pilot, app, cursor=False)
        await pilot.press("a")
        assert picker.select == {"quizzes": quizzes}
        await wait_for(pilot, lambda: "accepts" in text_of(picker, "#select-validation"), what="verdict")
        pages = next(n for n in tree._tree_nodes.values() if n.data == "pages")
        label = tree.render_label(pages, tree.rich_style, tree.rich_style)
        assert "qti exports only quizzes" in label.plain and "☐" in label.plain
        assert any(span.style == "dim" or "dim" in str(span.style) for span in label.spans)
        await pilot.press("a")  # again: unticked
        assert picker.select is None
        await pilot.press("a", "enter")
        await wait_for(pilot, lambda: app.screen is dialog, what="the dialog")
        assert dialog.select == {"quizzes": quizzes}
        assert isinstance(dialog, NewExportScreen)
