"""Every package we write validates: IMS XSD + Schematron of the declared version, QTI, references, zip."""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

import pytest
from exporter_runs import export_cc, export_quiz_zip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snapshots import (
    CID,
    TEACHER,
    WHEN,
    make_file,
    module_selection,
    rich_snapshot,
    selective,
    with_everything,
)
from validation import check_cc, check_qti_zip, run_cli_validators

from tui_exports.model import (
    Answer,
    Course,
    CourseSnapshot,
    DiscussionTopic,
    Folder,
    Module,
    ModuleItem,
    ModuleItemType,
    Page,
    QuestionType,
    Quiz,
    QuizGroup,
    QuizQuestion,
    Role,
)

VERSIONS = ["1.1.0", "1.3.0"]


def _selective_rich(blobs: Path, role: Role) -> CourseSnapshot:
    return module_selection(rich_snapshot(blobs, role), 1000)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("role", [Role.TEACHER, Role.STUDENT], ids=["teacher", "student"])
@pytest.mark.parametrize("build", [rich_snapshot, _selective_rich], ids=["full", "selective"])
def test_rich_course_validates(shared_dir, blobs, out_dir, version, role, build):
    path, result = export_cc(build(blobs, role), out_dir, version)
    assert result.warnings == []
    assert check_cc(path, shared_dir, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_syllabus_only_and_empty_selection_validate(shared_dir, blobs, out_dir, version):
    snap = selective(rich_snapshot(blobs), syllabus=True)
    path, _ = export_cc(snap, out_dir, version)
    assert check_cc(path, shared_dir, version) == []
    other = out_dir / "empty"
    other.mkdir()
    path, _ = export_cc(selective(rich_snapshot(blobs)), other, version)
    assert check_cc(path, shared_dir, version) == []


def test_qti_zip_validates_against_full_qti(shared_dir, blobs, out_dir):
    path, result = export_quiz_zip(rich_snapshot(blobs), out_dir)
    assert result.warnings == []
    assert check_qti_zip(path, shared_dir) == []


@pytest.mark.slow  # external validators in subprocesses
@pytest.mark.parametrize("version", VERSIONS)
def test_command_line_validators_accept_the_package(shared_dir, blobs, tmp_path, version):
    out = tmp_path / "pkg"
    out.mkdir()
    path, _ = export_cc(rich_snapshot(blobs), out, version)
    assert run_cli_validators(path, shared_dir, version, tmp_path / "cli") == []


@pytest.mark.slow  # external validators in subprocesses
def test_command_line_validator_accepts_the_qti_zip(shared_dir, blobs, out_dir):
    import subprocess
    import sys

    path, _ = export_quiz_zip(rich_snapshot(blobs), out_dir)
    run = subprocess.run(
        [sys.executable, str(shared_dir / "schemas" / "validate_cc.py"), "--full-qti", str(path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout


# ----------------------------------------------------------------------------- generated courses

HOSTILE_CHARS = "&<>\"'\x00\x01\x0b\ud800\ufffe]]>--/\\.:?#%* \t\n"
titles = st.text(
    alphabet=st.sampled_from(list(HOSTILE_CHARS) + list(string.ascii_letters) + list("éü日本☕")), max_size=20
)
names = st.one_of(
    st.sampled_from(["..", ".", "", "a/../b", "/abs", "C:\\x", "Ünï café.txt"]),
    st.text(alphabet=st.sampled_from(list("aB._- /\\%#&") + list("éÜ日☕")), max_size=12),
)


@st.composite
def generated_courses(draw, blobs: Path) -> CourseSnapshot:
    depth = draw(st.integers(0, 6))
    folders = [Folder(1, None, "course files", "course files")]
    for i in range(depth):
        name = draw(names) or "x"
        parent = folders[-1] if draw(st.booleans()) else folders[0]
        folders.append(
            Folder(
                2 + i,
                parent.id,
                name,
                f"{parent.full_name}/{name}",
                hidden=draw(st.booleans()),
                locked=draw(st.booleans()),
            )
        )
    files = []
    for i in range(draw(st.integers(0, 6))):
        folder = draw(st.sampled_from(folders))
        files.append(
            make_file(
                blobs,
                100 + i,
                folder.id,
                draw(names),
                draw(st.binary(max_size=64)),
                draw(st.sampled_from(["text/plain", "image/png", "application/pdf"])),
                locked=draw(st.booleans()),
            )
        )
    pages = [
        Page(
            200 + i,
            draw(names) or f"p{i}",
            draw(titles),
            f'<p>{draw(titles)}</p><a href="/courses/{CID}/files/{100 + i}/download">f</a>',
        )
        for i in range(draw(st.integers(0, 3)))
    ]
    topics = [
        DiscussionTopic(300 + i, draw(titles), f"<b>{draw(titles)}</b>", is_announcement=draw(st.booleans()))
        for i in range(draw(st.integers(0, 3)))
    ]
    modules = []
    for m in range(draw(st.integers(0, 3))):
        items = []
        for k in range(draw(st.integers(0, 4))):
            kind = draw(
                st.sampled_from(
                    [
                        ModuleItemType.SUB_HEADER,
                        ModuleItemType.EXTERNAL_URL,
                        ModuleItemType.PAGE,
                        ModuleItemType.FILE,
                    ]
                )
            )
            target = {ModuleItemType.PAGE: pages, ModuleItemType.FILE: files}.get(kind)
            content_id = draw(st.sampled_from(target)).id if target else None
            if target is not None and content_id is None:
                continue
            items.append(
                ModuleItem(
                    1000 * (m + 1) + k,
                    900 + m,
                    kind,
                    draw(titles),
                    content_id,
                    url=draw(titles) if kind == ModuleItemType.EXTERNAL_URL else "",
                )
            )
        modules.append(Module(900 + m, draw(titles), m, items=tuple(items)))
    quizzes = [draw(generated_quizzes(400 + i)) for i in range(draw(st.integers(0, 2)))]
    course = Course(CID, draw(titles), draw(titles), "uuid", syllabus_body=draw(titles))
    snap = CourseSnapshot(
        course,
        TEACHER,
        draw(st.sampled_from([Role.TEACHER, Role.STUDENT])),
        WHEN,
        folders,
        files,
        pages,
        [],
        [],
        [],
        quizzes,
        topics,
        [],
        modules,
    )
    return with_everything(snap)


@st.composite
def generated_quizzes(draw, qid: int) -> Quiz:
    """A quiz of random questions of every type, with hostile text everywhere text can go."""
    groups = [
        QuizGroup(qid * 10 + g, draw(titles), draw(st.integers(0, 3)), position=draw(st.integers(0, 5)))
        for g in range(draw(st.integers(0, 2)))
    ]
    questions = []
    for n in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(list(QuestionType)))
        answers = []
        for k in range(draw(st.integers(0, 4))):
            answers.append(
                Answer(
                    id=qid * 1000 + n * 10 + k,
                    text=draw(titles),
                    weight=draw(st.sampled_from([0.0, 100.0])),
                    comments=draw(st.sampled_from(["", "ok", "<b>html</b> & more"])),
                    blank_id=draw(st.sampled_from(["a", "b b", "x&y", "<z>"])),
                    left=draw(titles),
                    right=draw(titles),
                    match_id=draw(st.integers(1, 3)),
                    numerical_answer_type=draw(
                        st.sampled_from(["exact_answer", "range_answer", "precision_answer"])
                    ),
                    exact=draw(st.floats(-1e6, 1e6)),
                    margin=draw(st.floats(0, 10)),
                    start=0.0,
                    end=1.0,
                    approximate=draw(st.floats(-1e6, 1e6)),
                    precision=draw(st.integers(1, 8)),
                )
            )
        calculated = {
            "formulas": [draw(titles)],
            "variables": [{"name": draw(titles), "min": 0, "max": 1}],
            "var_sets": [{"variables": {"x": 1.5}, "answer": draw(st.floats(-10, 10))}],
        }
        questions.append(
            QuizQuestion(
                qid * 100 + n,
                kind,
                draw(titles),
                f"<p>{draw(titles)}</p>",
                draw(st.floats(0, 100)),
                n,
                group_id=draw(st.sampled_from([None] + [g.id for g in groups])),
                answers=tuple(answers),
                correct_comments=draw(titles),
                incorrect_comments=draw(titles),
                neutral_comments=draw(titles),
                calculated=calculated if kind == QuestionType.CALCULATED else None,
            )
        )
    return Quiz(
        qid,
        draw(titles),
        f"<p>{draw(titles)}</p>",
        time_limit=draw(st.sampled_from([None, 5])),
        allowed_attempts=draw(st.sampled_from([-1, 1, 3])),
        groups=tuple(groups),
        questions=tuple(questions),
    )


@pytest.mark.slow  # 50 generated courses through the schemas
@pytest.mark.parametrize("version", VERSIONS)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.slow
@given(data=st.data())
def test_generated_courses_validate(shared_dir, version, data):
    with tempfile.TemporaryDirectory() as tmp:
        snap = data.draw(generated_courses(Path(tmp) / "blobs"))
        out = Path(tmp) / "out"
        out.mkdir()
        path, result = export_cc(snap, out, version)
        assert check_cc(path, shared_dir, version) == []
        assert result.warnings == []
        qti_out = Path(tmp) / "qti"
        qti_out.mkdir()
        path, result = export_quiz_zip(snap, qti_out)
        assert check_qti_zip(path, shared_dir) == []
        assert result.warnings == []
