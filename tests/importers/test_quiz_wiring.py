"""How the cartridge reader hands quizzes to the QTI reader (``importers/qti.py``) and keeps what it
returns: each assessment's QTI root, its Canvas settings, the banks its groups draw from, final ids,
links resolved in question HTML; graded quizzes get their assignment in the right group, and module
items that point at quizzes are kept.  The QTI reader itself is tested on its own: here a small
stand-in with the same interface reads only each item's text."""

from __future__ import annotations

from pathlib import Path

import pytest
from cartridge_kit import export_cc

from tui_exports.importers import cartridge, import_path
from tui_exports.importers.xmltools import descendants, flat, local
from tui_exports.model import QuestionType, Quiz, QuizQuestion

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"


@pytest.fixture
def calls(monkeypatch):
    seen: list[dict] = []

    def read_assessment(root, *, quiz_id, ids, html, warn, banks=None, meta=None):
        seen.append({"root": local(root), "quiz_id": quiz_id, "banks": dict(banks or {}), "meta": meta})
        settings = flat(meta)
        (assessment,) = descendants(root, "assessment")
        questions = tuple(
            QuizQuestion(
                id=ids("quiz_questions"),
                question_type=QuestionType.ESSAY,
                name=item.get("title", ""),
                question_text=html(next((m.text or "" for m in descendants(item, "mattext")), "")),
                position=n,
            )
            for n, item in enumerate(descendants(assessment, "item"), 1)
        )
        return Quiz(
            id=quiz_id,
            title=settings.get("title") or assessment.get("title", ""),
            quiz_type=settings.get("quiz_type") or "assignment",
            points_possible=float(settings.get("points_possible") or 0) or None,
            published=settings.get("available", "true") == "true",
            questions=questions,
        )

    monkeypatch.setattr(cartridge, "_qti_reader", lambda: read_assessment)
    return seen


def test_demo_quizzes_come_back_with_their_assignments_and_module_items(service, calls, tmp_path):
    lib = service.library
    course_id = lib.content.courses()[0].id
    report = service.import_package(export_cc(service, course_id, tmp_path / "out", "1.3.0"))
    old, new = lib.content.course_content(course_id), lib.content.course_content(report.course_id)
    assert report.types["quizzes"].read == report.types["quizzes"].kept == len(old["quizzes"]) == len(calls)
    assert all(c["root"] == "questestinterop" and local(c["meta"]) == "quiz" for c in calls)
    assert sorted(c["quiz_id"] for c in calls) == sorted(q.id for q in new["quizzes"])
    assert len(new["assignments"]) == len(old["assignments"])
    groups = {g.id: g.name for g in new["assignment_groups"]}
    old_groups = {g.id: g.name for g in old["assignment_groups"]}
    for q_old in old["quizzes"]:
        q_new = next(q for q in new["quizzes"] if q.title == q_old.title)
        assert groups.get(q_new.assignment_group_id) == old_groups.get(q_old.assignment_group_id)
        if q_old.assignment_id is not None:
            a = next(a for a in new["assignments"] if a.id == q_new.assignment_id)
            assert a.quiz_id == q_new.id and a.submission_types == ("online_quiz",)
    items = lambda c: sorted(i.title for m in c["modules"] for i in m.items)  # noqa: E731
    assert items(new) == items(old)


def test_question_groups_get_the_banks_they_draw_from(library, calls, shared_dir):
    report = import_path(library, shared_dir / "samples" / "imscc" / "grouptest_canvas_question_groups.imscc")
    assert report.types["quizzes"].kept == 3 and len(calls) == 3
    assert any(c["banks"] for c in calls)  # the package's objectbanks, by ident
    (module,) = library.content.course_content(report.course_id)["modules"]
    assert [i.content_type.value for i in module.items] == ["Quizzes::Quiz"] * 3


def test_a_cc_profile_assessment_of_a_thin_cartridge(library, calls, tmp_path):
    from cartridge_kit import manifest, write_zip

    qti = (
        '<questestinterop xmlns="http://www.imsglobal.org/xsd/ims_qtiasiv1p2"><assessment ident="a1" title="Check">'
        '<section ident="root"><item ident="q1" title="Q1"><presentation><material>'
        '<mattext texttype="text/html">&lt;img src="../web_resources/pic.png"/&gt; What?</mattext>'
        "</material></presentation></item></section></assessment></questestinterop>"
    )
    res = (
        '<resource identifier="a1" type="imsqti_xmlv1p2/imscc_xmlv1p1/assessment"><file href="a1/assessment.xml"/></resource>'
        '<resource identifier="f1" type="webcontent" href="web_resources/pic.png"><file href="web_resources/pic.png"/></resource>'
    )
    org = '<item identifier="m"><title>Week 1</title><item identifier="i" identifierref="a1"><title>Check</title></item></item>'
    pkg = write_zip(
        tmp_path / "q.imscc",
        {"imsmanifest.xml": manifest(res, org), "a1/assessment.xml": qti, "web_resources/pic.png": b"png"},
    )
    report = import_path(library, pkg)
    (call,) = calls
    assert call["meta"] is None
    content = library.content.course_content(report.course_id)
    (quiz,) = content["quizzes"]
    (file,) = content["files"]
    assert quiz.title == "Check" and f"/courses/{report.course_id}/files/{file.id}/preview" in (
        quiz.questions[0].question_text
    )
    assert [i.content_type.value for m in content["modules"] for i in m.items] == ["Quizzes::Quiz"]
    # a graded quiz in a package with no assignment groups gets Canvas's default one
    (group,) = content["assignment_groups"]
    assert group.name == "Assignments" and quiz.assignment_group_id == group.id
