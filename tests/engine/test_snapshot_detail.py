"""An export's snapshot holds outlines and reads each item whole only while writing it.

So an export's memory does not grow with the number of pages or questions; the packages
must not change for it, byte for byte.
"""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from functools import partial

import pytest

from tui_exports.engine.select import SelectRequest, resolve
from tui_exports.engine.snapshot import build_snapshot
from tui_exports.exporters.cc import export_common_cartridge
from tui_exports.exporters.common.ids import mig_id
from tui_exports.exporters.epub import package_book, render_book
from tui_exports.exporters.qti.exporter import export_qti, linked_file_ids, quiz_html
from tui_exports.exporters.zip import export_zip
from tui_exports.model import CalendarEvent, ContextType, Page, Quiz, Role, no_progress
from tui_exports.store.content import CONTENT_DETAILS

NOW = datetime(2026, 10, 1, 12, tzinfo=UTC)
HTML = (
    ("pages", "body"),
    ("assignments", "description"),
    ("discussion_topics", "message"),
    ("calendar_events", "description"),
)


def snapshot(service, course_id: int, detail: str, role: Role | None = Role.TEACHER):
    snap = build_snapshot(
        service.library, course_id, service.user(service.owner_id()), role, now=NOW, detail=detail
    )
    snap.selection = resolve(SelectRequest(everything=True), snap)
    return snap


def entries(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def epub(snap, workdir, progress):
    return package_book(render_book(snap, workdir, progress), workdir, no_progress)


EXPORTS = {
    "zip": export_zip,
    "qti": export_qti,
    "cc 1.1": export_common_cartridge,
    "cc 1.3": partial(export_common_cartridge, version="1.3.0"),
    "epub": epub,
}


def test_an_outline_leaves_out_only_html_and_questions(service):
    full = service.content.course_content(3)
    outline = service.content.course_content(3, "outline")
    assert any(p.body for p in full["pages"]) and any(q.questions for q in full["quizzes"])
    for kind, html in HTML:
        assert not any(getattr(o, html) for o in outline[kind])
        assert [{**o.__dict__, html: ""} for o in full[kind]] == [
            {**o.__dict__, html: ""} for o in outline[kind]
        ]
    assert not any(q.questions or q.groups or q.description for q in outline["quizzes"])
    assert [q.id for q in outline["quizzes"]] == [q.id for q in full["quizzes"]]
    for kind in ("folders", "files", "modules", "rubrics", "assignment_groups"):
        assert full[kind] == outline[kind]
    with pytest.raises(ValueError):
        service.content.course_content(3, "quizzes")
    assert CONTENT_DETAILS == ("full", "outline")


def test_load_reads_the_item_whole(service):
    full = snapshot(service, 3, "full")
    lean = snapshot(service, 3, "outline")
    assert lean.loader is not None
    assert lean.selection == full.selection  # the files linked from HTML are found all the same
    for name in ("pages", "assignments", "discussion_topics", "calendar_events", "quizzes"):
        whole = getattr(full, name)
        assert whole and [lean.load(o) for o in getattr(lean, name)] == whole
        assert [full.load(o) for o in whole] == whole  # a whole snapshot returns its own objects
    folder = lean.folders[0]
    assert lean.load(folder) is folder  # nothing left out of folders, files, modules
    assert service.content.item(Page, 10**6) is None


@pytest.mark.slow
@pytest.mark.parametrize("course_id", [1, 2, 3])
@pytest.mark.parametrize("role", [Role.TEACHER, Role.STUDENT])
def test_packages_are_the_same_from_an_outline(service, tmp_path, course_id, role):
    for name, export in EXPORTS.items():
        lean_dir, full_dir = tmp_path / f"{name}-lean", tmp_path / f"{name}-full"
        lean_dir.mkdir(), full_dir.mkdir()
        lean = export(snapshot(service, course_id, "outline", role), lean_dir, no_progress)
        full = export(snapshot(service, course_id, "full", role), full_dir, no_progress)
        assert lean.warnings == full.warnings, name
        assert [f.path.name for f in lean.files] == [f.path.name for f in full.files], name
        for a, b in zip(lean.files, full.files, strict=True):
            assert entries(a.path) == entries(b.path), name


def test_an_item_deleted_during_an_export_is_skipped_with_a_warning(service, tmp_path):
    snap = snapshot(service, 3, "outline")
    page, quiz = snap.selected_pages()[0], snap.selected_quizzes()[0]
    read = snap.loader
    events = snap.selected_events()
    deleted = {(Page, page.id), (Quiz, quiz.id)} | {(CalendarEvent, e.id) for e in events}
    snap.loader = lambda cls, i: None if (cls, i) in deleted else read(cls, i)
    (tmp_path / "cc").mkdir(), (tmp_path / "qti").mkdir()
    cc = export_common_cartridge(snap, tmp_path / "cc", no_progress)
    gone = f"page {page.id} was deleted during the export"
    assert f'Skipped page "{page.title}" (id {page.id}): {gone}' in cc.warnings
    assert (
        f'Skipped quiz "{quiz.title}" (id {quiz.id}): quiz {quiz.id} was deleted during the export'
        in cc.warnings
    )
    assert events and all(
        any(f'calendar event "{e.title}" (id {e.id})' in w for w in cc.warnings) for e in events
    )
    names = entries(cc.files[0].path)
    assert "course_settings/events.xml" not in names  # every event gone: no empty events file
    assert f"wiki_content/{page.url}.html" not in names
    manifest = names["imsmanifest.xml"].decode()
    assert f'identifier="{mig_id("wiki_pages", page.id)}"' not in manifest
    assert f'identifierref="{mig_id("quizzes", quiz.id)}"' not in manifest  # its module item is pruned
    assert f'identifier="{mig_id("wiki_pages", snap.selected_pages()[1].id)}"' in manifest
    qti = export_qti(snap, tmp_path / "qti", no_progress)
    assert any(f'quiz "{quiz.title}" (id {quiz.id})' in w for w in qti.warnings)
    assert not any(mig_id("quizzes", quiz.id) in n for n in entries(qti.files[0].path))


def test_a_zip_of_everything_reads_no_body(service, tmp_path):
    """Every visible file is selected already: scanning HTML for linked files can add none."""
    snap = build_snapshot(
        service.library, 3, service.user(service.owner_id()), Role.TEACHER, now=NOW, detail="outline"
    )
    reads = []
    read = snap.loader
    snap.loader = lambda cls, i: reads.append((cls, i)) or read(cls, i)
    snap.selection = resolve(SelectRequest(everything=True), snap)
    export_zip(snap, tmp_path, no_progress)
    assert reads == []
    resolve(SelectRequest({"wiki_pages": (snap.pages[0].id,)}), snap)
    assert reads == [(Page, snap.pages[0].id)]  # a page alone: its links are followed
    assert (
        resolve(SelectRequest({"wiki_pages": (snap.pages[0].id,)}), snap, linked_files=False).ids[
            "attachments"
        ]
        == frozenset()
    )
    assert len(reads) == 1  # links not followed: the body is not read


def test_a_qti_export_reads_each_quiz_twice(service, runner, monkeypatch):
    """Once to find the files its quizzes link to, once to write it: the selection does not
    scan them a third time, and the linked files are in the package all the same."""
    from tui_exports.importers.synthetic import CourseSpec, generate_course

    course_id = generate_course(
        service.library, CourseSpec(pages=2, quizzes=3, files=6, file_mb=0.2)
    ).course_id
    reads = []
    original = service.content.item
    monkeypatch.setattr(service.content, "item", lambda cls, i: reads.append((cls, i)) or original(cls, i))
    ce = service.create_content_export(service.owner_id(), ContextType.COURSE, course_id, "qti")
    assert runner.wait_idle(60)
    ce = service.store.content_export(ce.id)
    assert ce.workflow_state.value == "exported"
    quizzes = [i for cls, i in reads if cls is Quiz]
    assert {i: quizzes.count(i) for i in quizzes} == {
        q.id: 2 for q in service.content.course_content(course_id)["quizzes"]
    }
    snap = build_snapshot(service.library, course_id, service.user(service.owner_id()), Role.TEACHER, now=NOW)
    linked = linked_file_ids(snap, (h for q in snap.quizzes for h in quiz_html(q)))
    with zipfile.ZipFile(service.attachment(ce.attachment_id).path) as zf:
        carried = sorted(n.rsplit("/", 1)[-1] for n in zf.namelist() if n.startswith("web_resources/"))
    assert linked and carried == sorted(snap.file(i).display_name for i in linked)


def test_courses_reads_standings_in_one_pass(service, users):
    for user_id in users.values():
        listed = service.courses(user_id)
        enrolled = service.library.database.db.query(
            "SELECT DISTINCT course_id FROM enrollments WHERE user_id = ? ORDER BY course_id", [user_id]
        )
        assert [c.id for c, _ in listed] == [r["course_id"] for r in enrolled]
        for course, standing in listed:
            assert standing == service.standing(user_id, course)


def test_exports_and_checks_read_only_the_outline(service, runner, monkeypatch):
    """…and walk it from SQLite (``course_walk``) rather than hold it (``course_content``)."""
    seen = []
    original, walk = service.content.course_content, service.content.course_walk
    monkeypatch.setattr(
        service.content,
        "course_content",
        lambda cid, detail="full": seen.append(detail) or original(cid, detail),
    )
    monkeypatch.setattr(service.content, "course_walk", lambda cid: seen.append("walk") or walk(cid))
    owner = service.owner_id()
    service.check_content_export(owner, ContextType.COURSE, 3, "common_cartridge", None)
    made = [
        service.create_content_export(owner, ContextType.COURSE, 3, kind).id
        for kind in ("zip", "qti", "common_cartridge")
    ]
    epub_id = service.create_epub_export(owner, 3).id
    assert runner.wait_idle(60)
    assert [service.store.content_export(i).workflow_state.value for i in made] == ["exported"] * 3
    assert service.store.epub_export(epub_id).workflow_state.value == "generated"
    assert seen and set(seen) == {"walk"}


def test_an_item_hidden_from_students_during_their_export_is_left_out(service, tmp_path):
    """A student's snapshot is filtered when taken; a page a teacher unpublishes, or a quiz
    locked, while the student's export runs must not be written either."""
    snap = snapshot(service, 3, "outline", Role.STUDENT)
    page, quiz = snap.selected_pages()[0], snap.selected_quizzes()[0]
    service.content.db["pages"].update(page.id, {"published": 0})
    service.content.db["quizzes"].update(quiz.id, {"lock_at": "2026-09-01T00:00:00+00:00"})  # before NOW
    (tmp_path / "cc").mkdir(), (tmp_path / "epub").mkdir()
    cc = export_common_cartridge(snap, tmp_path / "cc", no_progress)
    # an export walks the course from SQLite as it writes it: what was hidden before its turn
    # came is no longer in the student's outline, left out as if hidden before the export began
    # (an item hidden after it was listed, and before it is read whole, is skipped with a
    # warning: test_an_item_deleted_during_an_export_is_skipped_with_a_warning)
    assert not any(str(page.id) in w or str(quiz.id) in w for w in cc.warnings)
    names = entries(cc.files[0].path)
    assert f"wiki_content/{page.url}.html" not in names
    assert not any(mig_id("quizzes", quiz.id) in n for n in names)
    assert f"wiki_content/{snap.selected_pages()[1].url}.html" in names

    book = epub(snap, tmp_path / "epub", no_progress)
    assert not any(str(page.id) in w for w in book.warnings)
    with zipfile.ZipFile(book.files[0].path) as zf:
        text = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".xhtml"))
    nav = [f">{o.title}</a>" in text for o in (page, quiz, snap.selected_pages()[1])]
    assert nav == [False, False, True]  # listed in no table of contents; the others are

    teacher = snapshot(service, 3, "outline")  # a teacher still sees and exports both
    (tmp_path / "t").mkdir()
    names = entries(export_common_cartridge(teacher, tmp_path / "t", no_progress).files[0].path)
    assert f"wiki_content/{page.url}.html" in names


@pytest.mark.parametrize("course_id", [1, 2, 3])
def test_copying_each_sanitized_body_changes_no_byte_of_the_book(service, tmp_path, monkeypatch, course_id):
    """The renderer appends a copy of each sanitized body (moving it kept memory alive in lxml);
    the book must be the one the body itself gives."""
    import tui_exports.exporters.epub.render as render

    (tmp_path / "copied").mkdir(), (tmp_path / "moved").mkdir()
    copied = epub(snapshot(service, course_id, "outline"), tmp_path / "copied", no_progress)
    monkeypatch.setattr(
        render.Renderer, "user_content", lambda self, html, prefix: self.sanitizer.to_xhtml(html, prefix)
    )
    moved = epub(snapshot(service, course_id, "outline"), tmp_path / "moved", no_progress)
    assert [f.path.name for f in copied.files] == [f.path.name for f in moved.files]
    for a, b in zip(copied.files, moved.files, strict=True):
        assert entries(a.path) == entries(b.path)
