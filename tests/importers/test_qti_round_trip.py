"""Round trip: what our QTI exporter writes, :func:`read_assessment` reads back the same, for every
question type (the exporter tests' quiz) and for the demo library's quizzes (through the QTI zip
export and ``import_path``, and the cartridge's full and CC-profile QTI): types, texts, answers, weights, feedback, groups and pick counts."""

from __future__ import annotations

import itertools
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

sys.path.insert(0, str(Path(__file__).parent.parent / "exporters"))  # snapshots.py, exporter_runs.py

from exporter_runs import export_cc, export_quiz_zip  # noqa: E402
from snapshots import all_question_types_quiz  # noqa: E402

from tui_exports.engine import select as select_mod  # noqa: E402
from tui_exports.engine import snapshot as snapshot_mod  # noqa: E402
from tui_exports.exporters.common.ids import mig_id  # noqa: E402
from tui_exports.exporters.qti.exporter import QuizDocuments  # noqa: E402
from tui_exports.exporters.qti.items import CC_PROFILES, from_missing_word  # noqa: E402
from tui_exports.importers import import_path  # noqa: E402
from tui_exports.importers.qti import read_assessment  # noqa: E402
from tui_exports.importers.qti.xml import parse_bytes  # noqa: E402
from tui_exports.model import QuestionType, Quiz, QuizQuestion, Role  # noqa: E402

QT = QuestionType
#: Canvas grades these by the pairs and the numbers, not by weights; the reader sets 100 as Canvas does.
UNWEIGHTED = (QT.MATCHING, QT.NUMERICAL)


class _Teacher:
    viewer_role = Role.TEACHER


def answer_view(q: QuizQuestion) -> list[tuple]:
    out = []
    for a in q.answers:
        out.append(
            (
                a.text if not a.html else "",  # the text of an HTML answer is the HTML's text
                a.html,
                None if q.question_type in UNWEIGHTED else float(a.weight),
                a.comments,
                a.comments_html,
                a.blank_id,
                a.left,
                a.right,
                a.numerical_answer_type,
                a.exact,
                (a.margin or 0.0) if a.numerical_answer_type == "exact_answer" else a.margin,
                a.start,
                a.end,
                a.approximate,
                a.precision,
            )
        )
    return out


def question_view(q: QuizQuestion, groups: dict[int, str]) -> tuple:
    q = from_missing_word(q)  # Canvas (and we) write a missing-word question as one dropdown
    return (
        q.question_type,
        q.question_text,
        float(q.points_possible),
        groups.get(q.group_id) if q.group_id is not None else None,
        answer_view(q),
        q.correct_comments,
        q.incorrect_comments,
        q.neutral_comments,
        [text for _, text in q.matching_distractors],
        q.calculated,
    )


def quiz_view(quiz: Quiz) -> dict:
    groups = {g.id: g.name for g in quiz.groups}
    return {
        "groups": [(g.name, g.pick_count, float(g.question_points)) for g in quiz.groups],
        "questions": {q.name: question_view(q, groups) for q in quiz.questions},
    }


def read_back(document: bytes, **kw) -> tuple[Quiz, list[str]]:
    warnings: list[str] = []
    counter = itertools.count(1)
    root = etree.fromstring(document)  # as written to the file
    quiz = read_assessment(
        root, quiz_id=1, ids=lambda table: next(counter), html=lambda h: h, warn=warnings.append, **kw
    )
    return quiz, warnings


def test_every_question_type_reads_back_as_written():
    original = all_question_types_quiz()
    quiz, warnings = read_back(QuizDocuments(_Teacher(), lambda h: h, []).canvas_qti(original))
    assert warnings == []
    assert quiz_view(quiz) == quiz_view(original)
    assert {q.question_type for q in quiz.questions} == set(QT) - {QT.MISSING_WORD}
    assert (quiz.time_limit, quiz.allowed_attempts) == (original.time_limit, original.allowed_attempts)
    assert [g.position for g in quiz.groups] == [g.position for g in original.groups]


def test_a_students_export_without_answer_keys_is_said():
    class Student:
        viewer_role = Role.STUDENT

    quiz, warnings = read_back(
        QuizDocuments(Student(), lambda h: h, []).canvas_qti(all_question_types_quiz())
    )
    assert all(
        a.weight == 0 for q in quiz.questions if q.question_type is QT.MULTIPLE_CHOICE for a in q.answers
    )
    assert 'question "MC" (' in warnings[0] and warnings[0].endswith(
        "the item has no answer key (resprocessing); no answer is marked right"
    )
    keyless = {w.split('"')[1] for w in warnings if "no answer key" in w}
    assert {"MC", "TF", "MA", "SA", "FIMB", "MD", "Match", "Num"} <= keyless
    assert not {"Essay", "Upload", "Just text", "Calc"} & keyless
    assert [w for w in warnings if '"Calc"' in w][0].endswith("(itemproc_extension); kept without them")
    assert len(quiz.questions) == len(all_question_types_quiz().questions)


def test_cc_profile_assessment_reads_back_its_five_types():
    original = all_question_types_quiz()
    cc = QuizDocuments(_Teacher(), lambda h: h, []).cc_qti(original, "1.3.0")
    quiz, warnings = read_back(cc)
    assert warnings == []
    expected = QuizDocuments.cc_questions(original)
    assert [(q.question_type, q.question_text) for q in quiz.questions] == [
        (q.question_type, q.question_text) for q in expected
    ]
    assert {q.question_type for q in quiz.questions} == set(CC_PROFILES)
    by_name = {q.name: q for q in expected}
    for q in quiz.questions:
        if q.question_type is not QT.ESSAY:
            assert [a.weight > 0 for a in q.answers] == [a.weight > 0 for a in by_name[q.name].answers]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from tui_exports.engine import ExportService
    from tui_exports.paths import Home

    svc = ExportService.open(Home.from_env(tmp_path_factory.mktemp("demo-home")))
    yield svc
    svc.close()


def test_demo_library_quizzes_round_trip_through_the_qti_zip(demo, tmp_path):
    seen_types: set[QT] = set()
    exported = 0
    for course in demo.content.courses():
        teacher = next(
            e.user_id for e in demo.content.enrollments_in_course(course.id) if e.role is Role.TEACHER
        )
        snap = snapshot_mod.build_snapshot(demo.library, course.id, demo.user(teacher), Role.TEACHER)
        snap.selection = select_mod.resolve(select_mod.SelectRequest(all_types=frozenset({"quizzes"})), snap)
        if not snap.selected_quizzes():
            continue
        out = tmp_path / str(course.id)
        out.mkdir()
        path, result = export_quiz_zip(snap, out)
        report = import_path(demo.library, path)
        assert report.source == "QTI 1.2 (Canvas)" and report.warnings == []
        assert report.name == course.name  # from 'QTI Quiz Export for course "<name>"'
        before = demo.library.content.course_content(course.id)["quizzes"]
        after = demo.library.content.course_content(report.course_id)["quizzes"]
        assert report.types["quizzes"].read == report.types["quizzes"].kept == len(before)
        assert [q.title for q in after] == [q.title for q in before]
        for old, new in zip(before, after, strict=True):
            assert quiz_view(new) == quiz_view(old), old.title
            for name in (
                "description",
                "quiz_type",
                "points_possible",
                "time_limit",
                "allowed_attempts",
                "shuffle_answers",
                "scoring_policy",
                "show_correct_answers",
                "one_question_at_a_time",
                "cant_go_back",
                "due_at",
                "unlock_at",
                "lock_at",
                "published",
            ):
                assert getattr(new, name) == getattr(old, name), (old.title, name)
            assert (new.assignment_id is None) == (old.assignment_id is None)
            seen_types |= {q.question_type for q in old.questions}
        exported += 1
        cartridge, _ = export_cc(snap, out, "1.3.0")
        with zipfile.ZipFile(cartridge) as cc:
            for old in before:
                ident = mig_id("quizzes", old.id)
                meta = parse_bytes(cc.read(f"{ident}/assessment_meta.xml"))
                full, warnings = read_back(cc.read(f"non_cc_assessments/{ident}.xml.qti"), meta=meta)
                assert warnings == [] and quiz_view(full) == quiz_view(old), old.title
                assert (full.title, full.points_possible, full.due_at) == (
                    old.title,
                    old.points_possible,
                    old.due_at,
                )
                profile, _ = read_back(cc.read(f"{ident}/assessment_qti.xml"))
                assert [q.question_text for q in profile.questions] == [
                    q.question_text for q in QuizDocuments.cc_questions(old)
                ]
    assert exported >= 2 and len(seen_types) >= 10
