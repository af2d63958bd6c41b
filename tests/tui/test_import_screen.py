"""``i`` imports a package into the local library: the path completes with tab, a bar runs,
the report says what was kept, and the new course is highlighted; a bad path is said in the
dialog, which stays open for another try."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from tui_exports.engine.generated import course_spec, write_course_folder
from tui_exports.tui.screens import ImportScreen
from tui_exports.tui.screens.imports import complete_path

from .conftest import make_app, wait_for

pytestmark = pytest.mark.anyio


def screen_text(app) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query("Static, Label"))


def test_complete_path(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "courses").mkdir()
    (tmp_path / "course-a.imscc").write_bytes(b"")
    (tmp_path / ".hidden").mkdir()
    assert complete_path(f"{tmp_path}/cou") == f"{tmp_path}/course-a.imscc"  # first by name
    assert complete_path(f"{tmp_path}/cours") == f"{tmp_path}/course-a.imscc"
    assert complete_path(f"{tmp_path}/coursesx") is None
    assert complete_path(f"{tmp_path}/.h") == f"{tmp_path}/.hidden/"
    assert complete_path(f"{tmp_path}/") == f"{tmp_path}/course-a.imscc"  # hidden ones only on a dot
    monkeypatch.chdir(tmp_path)
    assert complete_path("courses") == "courses/"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert complete_path("~/courses") == "~/courses/"
    assert complete_path("") is None and complete_path(f"{tmp_path}/nothing/x") is None


async def test_import_a_course_folder_and_see_it_highlighted(home: Path, backend, tmp_path: Path) -> None:
    spec = course_spec(pages=2, quizzes=1, questions_per_quiz=2, files=1, file_mb=0.01, modules=1, seed=5)
    folder = write_course_folder(spec, tmp_path / "pkgs" / "biology")
    app = make_app(backend, home)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.main.courses.option_count, what="courses")
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportScreen), what="the import dialog")
        box = app.screen.query_one("#import-path", Input)
        box.value = f"{tmp_path}/pkgs/bi"  # the long part at once; the last key typed
        box.cursor_position = len(box.value)
        await pilot.press("o")
        await wait_for(pilot, lambda: box._suggestion == f"{folder}/", what="the completion")
        await pilot.press("tab")
        assert box.value == f"{folder}/"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Added course" in screen_text(app), what="the report")
        text = screen_text(app)
        assert "from course folder" in text and "2 pages" in text and "1 quiz" in text
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.main, what="back on the courses")
        new_id = max(c.id for c in backend.courses())
        await wait_for(
            pilot, lambda: app.main.course and app.main.course.id == new_id, what="the new course highlighted"
        )


async def test_a_path_that_is_not_a_package_is_said_in_the_dialog(
    home: Path, backend, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("words", encoding="utf-8")
    app = make_app(backend, home)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.main.courses.option_count, what="courses")
        before = app.main.courses.option_count
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportScreen), what="the import dialog")
        box = app.screen.query_one("#import-path", Input)
        box.value = f"{tmp_path}/notes.txt"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Not imported" in screen_text(app), what="the reason")
        assert "not a package" in screen_text(app)
        assert not box.disabled and box.has_focus  # another try, at once
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, what="back on the courses")
        assert app.main.courses.option_count == before
