"""The whole flow, driven with the pilot: pick, tick, start, follow, fail, refuse."""

from __future__ import annotations

import weakref
import zipfile
from pathlib import Path

import pytest

from tui_exports.model import ContextType
from tui_exports.tui.app import ExportsApp
from tui_exports.tui.format import path_of
from tui_exports.tui.screens import NewExportScreen, PickerScreen
from tui_exports.tui.widgets import MY_FILES, ContentTree

from .conftest import make_app, settle, tick, wait_for

pytestmark = pytest.mark.anyio
SIZE = (100, 30)


async def started(pilot, app: ExportsApp) -> None:
    await wait_for(pilot, lambda: app.main.courses.option_count, what="courses")
    await wait_for(pilot, lambda: app.main.history.course_id is not None, what="history")


async def open_dialog(pilot, app: ExportsApp, kind: str) -> NewExportScreen:
    await pilot.press("n")
    screen = await wait_for(
        pilot, lambda: isinstance(app.screen, NewExportScreen) and app.screen, what="dialog"
    )
    await pilot.pause()
    kinds = list(screen.query_one("#type").query("RadioButton"))
    index = [b.id for b in kinds].index(f"type-{kind}")
    await pilot.press(*["down"] * index)  # the arrows choose: no space needed
    assert screen.kind == kind
    return screen


async def open_picker(pilot, app: ExportsApp) -> tuple[PickerScreen, ContentTree]:
    await pilot.press("p")
    picker = await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen) and app.screen, what="picker")
    tree = await wait_for(
        pilot, lambda: picker.query(ContentTree) and picker.query_one(ContentTree), what="tree"
    )
    return picker, tree


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


@pytest.mark.slow
async def test_zip_of_two_files_and_a_folder(home: Path, backend) -> None:
    content = backend.content_list(1)
    folder = next(
        f
        for f in content["folders"]
        if f["parent_id"] is not None and any(a["folder_id"] == f["id"] for a in content["attachments"])
    )
    files = [a["id"] for a in content["attachments"] if a["folder_id"] != folder["id"]][:2]
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        dialog = await open_dialog(pilot, app, "zip")
        picker, tree = await open_picker(pilot, app)
        for key in [("folders", folder["id"]), ("files", files[0]), ("files", files[1])]:
            await tick(pilot, tree, key)
        preview = text_of(picker, "#select-preview")
        assert f'"folders": [{folder["id"]}]' in preview
        assert f'"files": {sorted(files)}' in preview
        await wait_for(pilot, lambda: "accepts" in text_of(picker, "#select-validation"), what="validation")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is dialog, what="back to the dialog")
        assert dialog.select == {"folders": [folder["id"]], "files": sorted(files)}
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.main, what="main screen")
        table = app.main.history
        await wait_for(
            pilot,
            lambda: any("exported" in str(table.get_row_at(i)[2]) for i in range(table.row_count)),
            timeout=20,
            what="an exported row",
        )
        row = table.get_row_at(0)
        assert "✓ exported" in str(row[2]) and row[1] == "zip"
        path = Path(path_of(table.exports[str(row[0])]))
        assert path.is_file() and path.suffix == ".zip" and str(row[5]) == path.name
        assert f"file: {path}" in text_of(app.main, "#detail-file")
        await pilot.press("tab", "c")  # copy from the history
        await settle(pilot, app)
        assert any("Copied the path of export" in (n.title or "") for n in app._notifications)
    exports, total = backend.content_exports(ContextType.COURSE, 1)
    assert total == 1 and exports[0]["workflow_state"] == "exported"


@pytest.mark.slow
async def test_rejected_selection_starts_nothing(home: Path, backend) -> None:
    page = backend.content_list(1)["wiki_pages"][0]["id"]
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await open_dialog(pilot, app, "zip")
        picker, tree = await open_picker(pilot, app)
        assert "zip exports only folders and files" in tree.disabled_types["pages"]
        await tick(pilot, tree, ("pages", page))
        assert f'"pages": [{page}]' in text_of(picker, "#select-preview")
        await wait_for(
            pilot,
            lambda: "zip exports only folders and files" in text_of(picker, "#select-validation"),
            what="the engine's refusal",
        )
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.screen is picker  # refused: still picking
        refusal = await wait_for(
            pilot,
            lambda: [n for n in app._notifications if "select[pages]" in n.message],
            what="the refusal's toast",
        )
        assert not refusal[0].markup  # shown as written: "[pages]" is not eaten as a markup tag
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: app.screen is app.main, what="main screen")
    assert backend.content_exports(ContextType.COURSE, 1)[1] == 0


async def test_picker_asks_which_types_once_and_sends_no_probes(home: Path, backend, monkeypatch) -> None:
    """Opening the picker asks the backend which types the export type allows (one call),
    instead of one probe validation per branch read back from its error text."""
    calls: list[tuple[str, tuple]] = []
    for name in ("validate_select", "allowed_select_types"):
        real = getattr(backend, name)
        monkeypatch.setattr(
            backend, name, lambda *a, _real=real, _name=name: calls.append((_name, a)) or _real(*a)
        )
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await open_dialog(pilot, app, "qti")
        await settle(pilot, app)
        calls.clear()
        picker, tree = await open_picker(pilot, app)
        await settle(pilot, app)
        assert [a for n, a in calls if n == "allowed_select_types"] == [(ContextType.COURSE, 1, "qti")]
        probes = [
            a for n, a in calls if n == "validate_select" and a[3] and any(k.startswith("all_") for k in a[3])
        ]
        assert probes == []
        assert len([n for n, _ in calls if n == "validate_select"]) <= 1  # the verdict on what is ticked
        assert tree.disabled_types == {
            b: "qti exports only quizzes"
            for b in (
                "modules",
                "pages",
                "assignments",
                "discussion_topics",
                "announcements",
                "calendar_events",
                "rubrics",
                "folders",
            )
        }


async def test_failing_export_shows_its_error(home: Path, backend, monkeypatch) -> None:
    import tui_exports.exporters.cc as cc

    def broken(*args, **kwargs):
        raise RuntimeError("the cartridge writer broke")

    monkeypatch.setattr(cc, "export_common_cartridge", broken)
    expected = "the cartridge writer broke"
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await open_dialog(pilot, app, "common_cartridge")
        await pilot.press("enter")
        table = app.main.history
        await wait_for(
            pilot, lambda: table.row_count and "failed" in str(table.get_row_at(0)[2]), what="failed row"
        )
        await wait_for(
            pilot, lambda: any(expected in str(n.message) for n in app._notifications), what="toast"
        )
        assert expected in str(app.main.query_one("#detail-summary").render())
        assert "✗ failed" in str(table.get_row_at(0)[2])


@pytest.mark.slow
async def test_student_may_only_zip_and_keys_are_remappable(home: Path, backend) -> None:
    (home / "config.toml").write_text('[keys]\nnew_export = "N"\n', encoding="utf-8")
    student = next(u for u in backend.users() if u.key == "student1")
    backend.act_as(student.id)
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("n")
        await pilot.pause(0.2)
        assert app.screen is app.main  # remapped away
        await pilot.press("N")
        dialog = await wait_for(
            pilot, lambda: isinstance(app.screen, NewExportScreen) and app.screen, what="dialog"
        )
        assert dialog.query_one("#type-common_cartridge").disabled and dialog.query_one("#type-qti").disabled
        assert "needs a teacher" in text_of(dialog, "#type-reasons")
        assert dialog.kind == "zip"
        await pilot.press("escape", "question_mark")
        await pilot.pause(0.2)
        rows = [r for r in app.key_rows() if r[3] == "new_export"]
        assert rows[0][1] == "N"


@pytest.mark.slow
async def test_filter_act_as_and_epub_screen(home: Path, backend) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        await pilot.press("slash", *"hist")
        await wait_for(pilot, lambda: app.main.courses.option_count == 1, what="filtered list")
        assert app.main.course.course_code == "HIST 390"
        await pilot.press("escape")
        await wait_for(
            pilot, lambda: app.main.courses.option_count == 4, what="list back (3 courses, My files)"
        )
        await pilot.press("slash", *"zzz", "enter")  # nothing matches; enter moves to the (empty) list
        await wait_for(pilot, lambda: app.main.courses.option_count == 0, what="an empty list")
        await pilot.press("n")
        await wait_for(
            pilot,
            lambda: any("No course highlighted" in n.message for n in app._notifications),
            what="the warning",
        )
        await pilot.press("escape")  # from the list too, esc clears the filter
        await wait_for(pilot, lambda: app.main.courses.option_count == 4, what="list back again")
        ta = next(u for u in app.users if u.key == "ta")
        app.act_as(ta.id)
        await wait_for(pilot, lambda: app.user and app.user.key == "ta", what="act as")
        await pilot.press("e")
        from tui_exports.tui.screens import EpubScreen

        epubs = await wait_for(
            pilot, lambda: isinstance(app.screen, EpubScreen) and app.screen, what="ePub screen"
        )
        await wait_for(pilot, lambda: epubs.query_one("#epubs").row_count, what="ePub rows")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, what="main screen")


@pytest.mark.slow
@pytest.mark.parametrize("theme", ["textual-light", "ansi-dark", "ansi-light"])
async def test_themes_render(home: Path, backend, theme: str) -> None:
    (home / "config.toml").write_text(f'theme = "{theme}"\n', encoding="utf-8")
    app = make_app(backend, home)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        assert app.theme == theme


@pytest.mark.slow
async def test_arrows_choose_what_enter_starts_and_the_choice_is_a_glyph(home: Path, backend) -> None:
    app = make_app(backend, home)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        await pilot.press("n")
        dialog = await wait_for(
            pilot, lambda: isinstance(app.screen, NewExportScreen) and app.screen, what="dialog"
        )
        await pilot.pause()
        await pilot.press("down", "down")
        buttons = {b.id: str(b.render()) for b in dialog.query("RadioButton")}
        assert "●" in buttons["type-zip"] and "●" not in buttons["type-common_cartridge"]
        assert "✓" not in str(dialog.query_one("#skip").render())
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.main, what="main screen")
        await settle(pilot, app)
        exports, _ = backend.content_exports(ContextType.COURSE, 1)
        assert [e["export_type"] for e in exports] == ["zip"]
        await pilot.press("n")  # a second export: the new row is the highlighted one
        await wait_for(pilot, lambda: isinstance(app.screen, NewExportScreen), what="dialog")
        await pilot.pause()
        await pilot.press("down", "down", "enter")
        await wait_for(pilot, lambda: app.main.history.row_count == 2, what="two rows")
        await wait_for(
            pilot,
            lambda: app.main.history.selected_key == str(max(int(k) for k in app.main.history.exports)),
            what="the new export highlighted",
        )


@pytest.mark.slow  # the longest app flow: exports in three contexts
async def test_group_exports_in_the_course_history_and_user_exports_under_my_files(
    home: Path, backend
) -> None:
    course = next(c for c in backend.courses() if c.course_code == "CS 110")
    group = backend.groups(course.id)[0]
    files = backend.context_files(ContextType.GROUP, group["id"])
    app = make_app(backend, home)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        courses = app.main.courses
        courses.highlighted = next(
            i for i in range(courses.option_count) if courses.get_option_at_index(i).id == str(course.id)
        )
        await pilot.press("n")
        dialog = await wait_for(
            pilot, lambda: isinstance(app.screen, NewExportScreen) and app.screen, what="dialog"
        )
        await pilot.pause()
        await pilot.press("down", "down", "tab", "down")  # zip of files, then the first group
        assert dialog.context == (ContextType.GROUP, group["id"])
        picker, tree = await open_picker(pilot, app)  # the group's own files
        assert tree.branches == ["folders"] and group["name"] in str(
            picker.query_one("#picker-title").render()
        )
        sub = next(f for f in files["folders"] if f["parent_id"] is not None)
        await tick(pilot, tree, ("folders", sub["id"]))
        await wait_for(pilot, lambda: "accepts" in text_of(picker, "#select-validation"), what="validation")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is dialog, what="back to the dialog")
        assert dialog.select == {"folders": [sub["id"]]}
        await pilot.press("enter")
        table = app.main.history
        await wait_for(
            pilot, lambda: table.row_count and "exported" in str(table.get_row_at(0)[2]), what="group row"
        )
        assert table.get_row_at(0)[1] == "zip·group"
        with zipfile.ZipFile(path_of(table.exports[str(table.get_row_at(0)[0])])) as z:
            inside = [f["path"] for f in files["attachments"] if f["folder_id"] == sub["id"]]
            assert sorted(n for n in z.namelist() if not n.endswith("/")) == sorted(inside)
        assert f"group: {group['name']}" in text_of(app.main, "#detail-summary")

        courses.highlighted = courses.option_count - 1
        await wait_for(pilot, lambda: app.main.course is MY_FILES, what="My files")
        await pilot.press("n")
        dialog = await wait_for(
            pilot, lambda: isinstance(app.screen, NewExportScreen) and app.screen, what="dialog"
        )
        await pilot.pause()
        assert dialog.kind == "zip" and dialog.context[0] is ContextType.USER
        assert dialog.query_one("#type-common_cartridge").disabled
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                table.course_id == MY_FILES.id
                and table.row_count
                and "exported" in str(table.get_row_at(0)[2])
            ),
            what="user export row",
        )
    user_exports, _ = backend.content_exports(ContextType.USER, backend.current_user().id)
    assert len(user_exports) == 1


@pytest.mark.slow
async def test_a_long_course_list_shows_the_first_courses_and_the_filter_reaches_the_rest(
    home: Path, backend
) -> None:
    from tui_exports.importers.synthetic import add_empty_courses
    from tui_exports.tui.widgets import PAGE

    add_empty_courses(backend.service.library, 1000, backend.current_user().id)
    app = make_app(backend, home)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        courses = app.main.courses
        await wait_for(pilot, lambda: courses.option_count == PAGE + 2, what="the capped list")
        more = courses.get_option_at_index(PAGE)
        assert more.disabled and f"{1003 - PAGE:,} more courses" in str(more.prompt)
        assert courses.get_option_at_index(PAGE + 1).id == str(MY_FILES.id)
        # the filter's index was read beside the shown list: the keys below find it ready
        await wait_for(pilot, lambda: app.main.catalogue._index is not None, what="the index read ahead")
        await pilot.press("slash", *"00999")  # beyond the first shown: the filter finds it
        await wait_for(pilot, lambda: courses.option_count == 1, what="the filtered course")
        assert app.main.course.course_code == "FIL-00999"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main.history.course_id == app.main.course.id, what="its history")


@pytest.mark.slow
@pytest.mark.gc_freeze
async def test_what_the_app_keeps_is_out_of_the_cyclic_collector(home: Path, backend, monkeypatch) -> None:
    """Each full collection walked every course and widget (30-40 ms with 10,000 courses, every
    second or two while exports report progress) and delayed the keypress it met: once the
    list is shown, what the app keeps is frozen; a reload lets the old list go first."""
    import gc

    from tui_exports.tui import app as app_module

    freezes = []
    real = app_module.freeze_long_lived
    monkeypatch.setattr(app_module, "freeze_long_lived", lambda: (real(), freezes.append(1)))
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await wait_for(pilot, lambda: freezes, what="the list frozen")
        course_list = app.main.courses
        assert not any(o is course_list for o in gc.get_objects())  # out of every collected generation

        class Cycle:  # garbage only the cyclic collector can free, frozen while still alive
            pass

        cycle = Cycle()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        await reload(pilot, app, freezes)
        assert not any(o is cycle for o in gc.get_objects())  # frozen with the rest
        del cycle
        await reload(pilot, app, freezes)
        assert gone() is None  # the next reload let it go and collected it
        await pilot.press("n")  # a dialog open during a reload: nothing is frozen then
        await wait_for(pilot, lambda: isinstance(app.screen, NewExportScreen), what="dialog")
        app.load_courses()
        await settle(pilot, app)
        await pilot.pause(0.3)
        assert len(freezes) == 3


async def reload(pilot, app: ExportsApp, freezes: list) -> None:
    before = len(freezes)
    app.load_courses()
    await wait_for(pilot, lambda: len(freezes) > before, what="the reloaded list frozen")


async def test_a_bad_keys_table_is_shown_as_one_line_and_the_app_still_opens(home: Path, backend) -> None:
    (home / "config.toml").write_text("[keys]\nnew_export = 3\n", encoding="utf-8")
    app = make_app(backend, home)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        line = f'{home / "config.toml"}: [keys] new_export must be keys in quotes (e.g. "ctrl+n"), not 3'
        await wait_for(
            pilot, lambda: any(n.message == line for n in app._notifications), what="the config line"
        )
        await pilot.press("n")  # the default keys stay
        await wait_for(pilot, lambda: isinstance(app.screen, NewExportScreen), what="dialog")
