"""How much of a course an export reads: zip the outline, QTI the quizzes; the packages do not change."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime

import pytest

from tui_exports.engine.select import SelectRequest, resolve
from tui_exports.engine.service import SNAPSHOT_DETAIL
from tui_exports.engine.snapshot import build_snapshot
from tui_exports.exporters.qti import export_qti
from tui_exports.exporters.zipfiles import export_zip
from tui_exports.model import ContextType, Role, no_progress
from tui_exports.store.content import CONTENT_DETAILS

NOW = datetime(2026, 10, 1, 12, tzinfo=UTC)


def snapshot(service, course_id: int, detail: str, role: Role | None = Role.TEACHER):
    snap = build_snapshot(service.library, course_id, service.user(service.owner_id()), role, now=NOW,
                          detail=detail)  # fmt: skip
    snap.selection = resolve(SelectRequest(everything=True), snap)
    return snap


def entries(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def test_details_leave_out_only_html_and_questions(service):
    full = service.content.course_content(3)
    quizzes = service.content.course_content(3, "quizzes")
    outline = service.content.course_content(3, "outline")
    assert any(p.body for p in full["pages"]) and any(q.questions for q in full["quizzes"])
    for kind, html in (("pages", "body"), ("assignments", "description"), ("discussion_topics", "message"),
                       ("calendar_events", "description")):  # fmt: skip
        assert not any(getattr(o, html) for o in quizzes[kind] + outline[kind])
        # everything else is the same object for object
        strip = [[{**o.__dict__, html: ""} for o in got[kind]] for got in (full, quizzes, outline)]
        assert strip[0] == strip[1] == strip[2]
    assert quizzes["quizzes"] == full["quizzes"]
    assert not any(q.questions or q.groups or q.description for q in outline["quizzes"])
    assert [q.id for q in outline["quizzes"]] == [q.id for q in full["quizzes"]]
    for kind in ("folders", "files", "modules", "rubrics", "assignment_groups"):
        assert full[kind] == quizzes[kind] == outline[kind]
    with pytest.raises(ValueError):
        service.content.course_content(3, "some")
    assert set(SNAPSHOT_DETAIL.values()) <= set(CONTENT_DETAILS)


@pytest.mark.parametrize("course_id", [1, 2, 3])
@pytest.mark.parametrize("role", [Role.TEACHER, Role.STUDENT])
def test_zip_and_qti_packages_are_the_same_from_the_lean_snapshot(service, tmp_path, course_id, role):
    for export, detail in ((export_zip, SNAPSHOT_DETAIL["zip"]), (export_qti, SNAPSHOT_DETAIL["qti"])):
        lean_dir, full_dir = tmp_path / f"{detail}-lean", tmp_path / f"{detail}-full"
        lean_dir.mkdir(), full_dir.mkdir()
        lean = export(snapshot(service, course_id, detail, role), lean_dir, no_progress)
        full = export(snapshot(service, course_id, "full", role), full_dir, no_progress)
        assert lean.warnings == full.warnings
        assert entries(lean.files[0].path) == entries(full.files[0].path)


def test_courses_reads_standings_in_one_pass(service, users):
    for user_id in users.values():
        listed = service.courses(user_id)
        assert [c.id for c, _ in listed] == sorted({e.course_id for e in service.content.enrollments_of_user(user_id)})
        for course, standing in listed:
            assert standing == service.standing(user_id, course)


def test_a_check_reads_only_the_outline(service, monkeypatch):
    seen = []
    original = service.content.course_content
    monkeypatch.setattr(service.content, "course_content", lambda cid, detail="full": seen.append(detail) or original(cid, detail))
    service.check_content_export(service.owner_id(), ContextType.COURSE, 3, "common_cartridge", None)
    assert seen == ["outline"]
