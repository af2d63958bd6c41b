"""Read packages back with the cartridge reader and compare them with the snapshot they came from."""

from __future__ import annotations

import zipfile

import pytest
from cc_reader import QuestionGroup, link_references, read_package
from exporter_runs import export_cc, export_quiz_zip
from snapshots import module_selection, rich_snapshot

from tui_exports.exporters.common.ids import mig_id
from tui_exports.exporters.common.xmlutil import clean
from tui_exports.exporters.qti.exporter import QuizDocuments
from tui_exports.exporters.qti.items import from_missing_word
from tui_exports.html_fragments import parse_fragment
from tui_exports.model import ModuleItemType, QuestionType, Role

VERSIONS = ["1.1.0", "1.3.0"]
CONTENT_TYPES = {
    ModuleItemType.PAGE: "wiki_pages",
    ModuleItemType.ASSIGNMENT: "assignments",
    ModuleItemType.QUIZ: "quizzes",
    ModuleItemType.DISCUSSION: "discussion_topics",
    ModuleItemType.FILE: "attachments",
}


def text(html: str) -> str:
    return " ".join(parse_fragment(html).text_content().split())


def check_links(pkg, html: str, pages_too: bool = True) -> None:
    """Every package reference in ``html`` resolves inside the package.

    A selective export keeps links to pages it leaves out (as Canvas does: the target
    course may have them), so only file references must resolve there.
    """
    pages = set(pkg.pages)
    for token, rest in link_references(html):
        if token == "$IMS-CC-FILEBASE$":
            assert f"web_resources/{rest}" in pkg.names, rest
        elif token == "$WIKI_REFERENCE$" and pages_too:
            kind, _, mig = rest.partition("/")
            assert kind in ("pages", "wiki") and mig in pages, rest


@pytest.fixture(params=VERSIONS)
def teacher_package(request, blobs, out_dir):
    snap = rich_snapshot(blobs)
    path, result = export_cc(snap, out_dir, request.param)
    return snap, read_package(path), path


def test_course_metadata_and_settings(teacher_package):
    snap, pkg, _ = teacher_package
    assert pkg.title == snap.course.name
    assert pkg.course_settings["title"] == snap.course.name
    assert pkg.course_settings["course_code"] == "RICH-101"
    assert pkg.course_settings["license"] == "cc_by"
    assert text(pkg.syllabus) == text(snap.course.syllabus_body)
    check_links(pkg, pkg.syllabus)
    assert [g["title"] for g in pkg.assignment_groups] == [g.name for g in snap.assignment_groups]
    assert pkg.assignment_groups[0]["group_weight"] == "40.0"
    assert [r["title"] for r in pkg.rubrics] == ["Essay rubric"]
    assert [len(c["ratings"]) for c in pkg.rubrics[0]["criteria"]] == [2, 1]
    assert [e["title"] for e in pkg.events] == ["Lecture", "Holiday"]
    assert pkg.comments == []


def test_modules_match_the_snapshot(teacher_package):
    snap, pkg, _ = teacher_package
    assert [m.title for m in pkg.modules] == [m.name for m in snap.modules]
    assert [m.title for m in pkg.organization] == [m.name for m in snap.modules]
    for module, read, org in zip(snap.modules, pkg.modules, pkg.organization, strict=True):
        assert read.identifier == mig_id("context_modules", module.id)
        assert [i.title for i in read.items] == [i.title for i in module.items]
        assert [i.title for i in org.items] == [i.title for i in module.items]
        for item, got in zip(module.items, read.items, strict=True):
            assert got.content_type == item.content_type.value
            if item.content_type in CONTENT_TYPES:
                assert got.identifierref == mig_id(CONTENT_TYPES[item.content_type], item.content_id)
            elif item.content_type == ModuleItemType.SUB_HEADER:
                assert got.identifierref is None
            else:
                assert got.url == clean(item.url)
        for item, got in zip(module.items, org.items, strict=True):
            assert (got.identifierref is None) == (item.content_type == ModuleItemType.SUB_HEADER)
            if got.identifierref:
                assert got.identifierref in pkg.resources
    week2 = pkg.modules[2]
    assert week2.prerequisites == [mig_id("context_modules", 1000)]
    assert week2.require_sequential_progress and week2.unlock_at == "2026-03-01T12:00:00"
    assert pkg.modules[3].workflow_state == "unpublished"
    assert pkg.modules[1].items == []  # the empty module survives


def test_web_links(teacher_package):
    snap, pkg, _ = teacher_package
    links = {
        i.title: i for m in snap.modules for i in m.items if i.content_type == ModuleItemType.EXTERNAL_URL
    }
    assert sorted(w.title for w in pkg.web_links.values()) == sorted(links)
    for w in pkg.web_links.values():
        assert w.url == links[w.title].url
        assert w.target == ("_blank" if links[w.title].new_tab else None)


def test_pages(teacher_package):
    snap, pkg, _ = teacher_package
    assert len(pkg.pages) == len(snap.pages)
    for page in snap.pages:
        got = pkg.pages[mig_id("wiki_pages", page.id)]
        assert got.title == page.title
        assert got.path == f"wiki_content/{page.url}.html"
        assert text(got.body) == text(page.body)
        assert got.meta["identifier"] == got.identifier
        assert got.meta["workflow_state"] == ("active" if page.published else "unpublished")
        assert ("front_page" in got.meta) == page.front_page
        check_links(pkg, got.body)
    refs = link_references(pkg.pages[mig_id("wiki_pages", 100)].body)
    assert ("$IMS-CC-FILEBASE$", "docs/week 1 — Ünï/deep/photo.jpg") in refs
    assert ("$CANVAS_OBJECT_REFERENCE$", f"quizzes/{mig_id('quizzes', 300)}") in refs


def test_assignments_and_topics(teacher_package):
    snap, pkg, _ = teacher_package
    plain = [a for a in snap.assignments if a.quiz_id is None and a.discussion_topic_id is None]
    assert sorted(pkg.assignments) == sorted(mig_id("assignments", a.id) for a in plain)
    essay = pkg.assignments[mig_id("assignments", 600)]
    assert essay.title == 'Essay A & <B> "C"'
    assert essay.settings["points_possible"] == "10.0"
    assert essay.settings["submission_types"] == "online_upload,online_text_entry"
    assert essay.settings["rubric_identifierref"] == mig_id("rubrics", 400)
    assert text(essay.body) == text(snap.assignment(600).description)
    check_links(pkg, essay.body)
    assert pkg.assignments[mig_id("assignments", 602)].settings["workflow_state"] == "unpublished"
    topics = {t.title: t for t in pkg.topics.values()}
    assert sorted(topics) == sorted(t.title for t in snap.discussion_topics)
    assert topics["Welcome!"].is_announcement and not topics["Graded discussion"].is_announcement
    assert topics["Graded discussion"].meta["assignment_identifier"] == mig_id("assignments", 701)
    assert topics["Graded discussion"].meta["pinned"] == "true"
    assert text(topics['Discuss A & <B> "C"'].text) == text(snap.topic(800).message)


def test_quizzes_every_question_type(teacher_package):
    snap, pkg, _ = teacher_package
    quiz = snap.quiz(300)
    got = pkg.quizzes[mig_id("quizzes", 300)]
    assert got.title == quiz.title
    assert got.settings["points_possible"] == "20.0"
    assert got.settings["allowed_attempts"] == "-1"
    assert got.settings["assignment_identifier"] == mig_id("assignments", 700)
    canvas = got.canvas
    assert len(canvas.questions) == len(quiz.questions)
    by_ident = {q.ident: q for q in canvas.questions}
    for question in quiz.questions:
        read = by_ident[mig_id("quiz_questions", question.id)]
        expected = from_missing_word(question)
        assert read.question_type == expected.question_type.value
        assert read.title == question.name
        assert read.points == question.points_possible
        assert text(read.text) == text(expected.question_text)
        if question.question_type in (
            QuestionType.MULTIPLE_CHOICE,
            QuestionType.TRUE_FALSE,
            QuestionType.MULTIPLE_ANSWERS,
        ):
            assert [c.ident for c in read.responses["response1"]] == [str(a.id) for a in question.answers]
            assert sorted(read.correct["response1"]) == sorted(
                str(a.id) for a in question.answers if a.weight > 0
            )
        if question.question_type == QuestionType.SHORT_ANSWER:
            assert read.correct["response1"] == [a.text for a in question.answers]
        if question.question_type == QuestionType.MATCHING and question.group_id is None:
            assert {k: v for k, v in read.correct.items()} == {
                f"response_{a.id}": [str(a.match_id)] for a in question.answers
            }
            assert [c.text for c in read.responses["response_30061"]] == ["Corolla", "Civic", "Model X"]
        if question.question_type == QuestionType.CALCULATED:
            assert read.calculated["formulas"] == ["5 + x"]
            assert [s["answer"] for s in read.calculated["var_sets"]] == [8.0, 9.0]
    mc = by_ident[mig_id("quiz_questions", 30001)]
    assert set(mc.feedback) == {"general_fb", "correct_fb", "general_incorrect_fb", "30001_fb", "30002_fb"}
    groups = [e for e in canvas.entries if isinstance(e, QuestionGroup)]
    assert [(g.title, g.pick_count, len(g.questions)) for g in groups] == [
        (g.name, g.pick_count, len([x for x in quiz.questions if x.group_id == g.id])) for g in quiz.groups
    ]
    assert groups[0].points_per_item == 3.0
    # CC profile: the five CC types only, each group cut to its pick count
    assert [q.ident for q in got.cc.questions] == [
        mig_id("quiz_questions", x.id) for x in QuizDocuments.cc_questions(quiz)
    ]
    assert {q.question_type for q in got.cc.questions} <= {
        "multiple_choice_question",
        "multiple_answers_question",
        "true_false_question",
        "short_answer_question",
        "essay_question",
    }
    # a quiz without questions has only its Canvas resource, under its own id
    empty = pkg.quizzes[mig_id("quizzes", 301)]
    assert empty.cc is None and empty.canvas.questions == []


def test_files_round_trip_with_bytes_and_restrictions(teacher_package):
    snap, pkg, path = teacher_package
    with zipfile.ZipFile(path) as z:
        for f in snap.files:
            href = pkg.files[mig_id("attachments", f.id)]
            assert z.read(href) == f.blob_path.read_bytes()
    assert pkg.files[mig_id("attachments", 11)] == "web_resources/docs/week 1 — Ünï/naïve café 日本.txt"
    assert pkg.files[mig_id("attachments", 16)] == "web_resources/docs/Handout-2.pdf"  # case clash renamed
    assert pkg.files_meta[mig_id("attachments", 16)]["display_name"] == "Handout.pdf"
    assert pkg.files_meta[mig_id("attachments", 14)]["hidden"] == "true"
    assert pkg.files_meta["folder:hidden stuff"] == {
        "locked": "true",
        "hidden": "true",
        "unlock_at": "2026-03-01T12:00:00",
    }
    locked = pkg.resources[mig_id("attachments", 14)].metadata
    assert locked is not None and "Instructor" in "".join(locked.itertext())


@pytest.mark.parametrize("version", VERSIONS)
def test_student_package_has_no_answer_key(blobs, out_dir, version):
    snap = rich_snapshot(blobs, Role.STUDENT)
    path, _ = export_cc(snap, out_dir, version)
    pkg = read_package(path)
    assert mig_id("attachments", 14) not in pkg.files  # hidden file
    assert mig_id("wiki_pages", 102) not in pkg.pages  # unpublished page
    assert [m.title for m in pkg.modules] == [m.name for m in snap.modules]
    quiz = pkg.quizzes[mig_id("quizzes", 300)]
    for q in quiz.canvas.questions + quiz.cc.questions:
        assert not q.scored and q.feedback == {} and q.calculated is None
    fimb = next(q for q in quiz.canvas.questions if q.question_type == "fill_in_multiple_blanks_question")
    assert all(choices == [] for choices in fimb.responses.values())  # accepted answers stay out
    assert "access_code" not in quiz.settings


@pytest.mark.parametrize("version", VERSIONS)
def test_selective_module_export(blobs, out_dir, version):
    snap = module_selection(rich_snapshot(blobs), 1000)
    path, _ = export_cc(snap, out_dir, version)
    pkg = read_package(path)
    assert [m.title for m in pkg.modules] == ['Week 1 A & <B> "C"']
    assert sorted(pkg.pages) == [mig_id("wiki_pages", 100)]
    assert sorted(pkg.quizzes) == [mig_id("quizzes", 300)]
    assert sorted(pkg.files) == sorted(mig_id("attachments", i) for i in (10, 11, 12))
    assert pkg.course_settings == {} and pkg.syllabus is None
    assert [g["title"] for g in pkg.assignment_groups] == ["Assignments"]
    check_links(pkg, pkg.pages[mig_id("wiki_pages", 100)].body, pages_too=False)


def test_qti_zip_round_trip(blobs, out_dir):
    snap = rich_snapshot(blobs)
    path, _ = export_quiz_zip(snap, out_dir)
    pkg = read_package(path)
    assert pkg.title == f'QTI Quiz Export for course "{snap.course.name}"'
    assert sorted(pkg.quizzes) == sorted(mig_id("quizzes", q.id) for q in snap.quizzes)
    quiz = pkg.quizzes[mig_id("quizzes", 300)]
    assert len(quiz.canvas.questions) == len(snap.quiz(300).questions) and quiz.cc is None
    assert list(pkg.files.values()) == ["web_resources/docs/handout.pdf"]  # linked from the description
    check_links(pkg, quiz.settings["description"])
