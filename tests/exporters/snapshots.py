"""Course snapshots for exporter tests: a rich course with every content and question type.

Links in bodies are written the way the loader stores them (``/courses/C/files/F/download?wrap=1``…),
so the link rewriter sees what it sees in production.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tui_exports.model import (
    Answer,
    Assignment,
    AssignmentGroup,
    CalendarEvent,
    Course,
    CourseSnapshot,
    DiscussionTopic,
    File,
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
    Rubric,
    RubricCriterion,
    RubricRating,
    Selection,
    User,
    ids_of,
)

CID = 42
HOSTILE = 'A & <B> "C"'
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

TEACHER = User(1, "Ada Lovelace")
STUDENT = User(2, "Brook Student")

QT = QuestionType
MI = ModuleItemType


def blob(dir_: Path, name: str, data: bytes) -> tuple[Path, str]:
    dir_.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()
    path = dir_ / digest
    path.write_bytes(data)
    return path, digest


def make_file(blobs: Path, fid: int, folder_id: int, name: str, data: bytes, content_type: str, **kw) -> File:
    path, digest = blob(blobs, name, data)
    return File(
        id=fid,
        folder_id=folder_id,
        display_name=name,
        filename=kw.pop("filename", name),
        content_type=content_type,
        size=len(data),
        sha256=digest,
        uuid=f"uuid-{fid}",
        blob_path=path,
        **kw,
    )


def everything(snapshot: CourseSnapshot) -> Selection:
    """The resolved selection of ``{everything: true}``: every id of every type."""
    topics = [t for t in snapshot.discussion_topics if not t.is_announcement]
    news = [t for t in snapshot.discussion_topics if t.is_announcement]
    return Selection(
        everything=True,
        syllabus_body=True,
        course_settings=True,
        ids={
            "context_modules": ids_of(snapshot.modules),
            "content_tags": frozenset(i.id for m in snapshot.modules for i in m.items),
            "assignments": ids_of(snapshot.assignments),
            "quizzes": ids_of(snapshot.quizzes),
            "discussion_topics": ids_of(topics),
            "announcements": ids_of(news),
            "wiki_pages": ids_of(snapshot.pages),
            "calendar_events": ids_of(snapshot.calendar_events),
            "rubrics": ids_of(snapshot.rubrics),
            "folders": ids_of(snapshot.folders),
            "attachments": ids_of(snapshot.files),
        },
    )


def with_everything(snapshot: CourseSnapshot) -> CourseSnapshot:
    snapshot.selection = everything(snapshot)
    return snapshot


def all_question_types_quiz(qid: int = 300, title: str = "Every question type") -> Quiz:
    """One quiz holding every Canvas question type, feedback everywhere, and two groups."""
    n = qid * 100

    def a(i: int, **kw) -> Answer:
        return Answer(id=n + i, **kw)

    questions = [
        QuizQuestion(
            n + 1,
            QT.MULTIPLE_CHOICE,
            "MC",
            "<p>How many letters in <b>RED</b>?</p>",
            2.0,
            1,
            answers=(
                a(1, text="2", comments="too few"),
                a(2, text="3", weight=100, comments_html="<p>yes</p>"),
                a(3, html="<p><i>4</i></p>"),
            ),
            correct_comments="Nice",
            incorrect_comments="<p>Too bad</p>",
            neutral_comments="Counting",
        ),
        QuizQuestion(
            n + 2,
            QT.TRUE_FALSE,
            "TF",
            "<p>Dogs are insects</p>",
            1.0,
            2,
            answers=(a(11, text="True"), a(12, text="False", weight=100)),
        ),
        QuizQuestion(
            n + 3,
            QT.MULTIPLE_ANSWERS,
            "MA",
            "<p>Pick letters</p>",
            1.0,
            3,
            answers=(a(21, text="A", weight=100), a(22, text="1"), a(23, text="B", weight=100)),
        ),
        QuizQuestion(
            n + 4,
            QT.SHORT_ANSWER,
            "SA",
            "<p>Capital of France?</p>",
            1.0,
            4,
            answers=(a(31, text="Paris", weight=100, comments="right"), a(32, text="paris", weight=100)),
        ),
        QuizQuestion(
            n + 5,
            QT.FILL_IN_MULTIPLE_BLANKS,
            "FIMB",
            "<p>Roses are [c1], violets are [c2]</p>",
            1.0,
            5,
            answers=(
                a(41, text="red", weight=100, blank_id="c1"),
                a(42, text="Red", weight=100, blank_id="c1"),
                a(43, text="blue", weight=100, blank_id="c2"),
            ),
        ),
        QuizQuestion(
            n + 6,
            QT.MULTIPLE_DROPDOWNS,
            "MD",
            "<p>[x] plus [y]</p>",
            1.0,
            6,
            answers=(
                a(51, text="one", weight=100, blank_id="x"),
                a(52, text="two", blank_id="x"),
                a(53, text="three", blank_id="y"),
                a(54, text="four", weight=100, blank_id="y"),
            ),
        ),
        QuizQuestion(
            n + 7,
            QT.MATCHING,
            "Match",
            "<p>Match make and model</p>",
            1.0,
            7,
            answers=(
                a(61, left="Toyota", right="Corolla", match_id=901, comments="Japan"),
                a(62, left="Honda", right="Civic", match_id=902),
            ),
            matching_distractors=((903, "Model X"),),
        ),
        QuizQuestion(
            n + 8,
            QT.NUMERICAL,
            "Num",
            "<p>100/3 = ?</p>",
            1.0,
            8,
            answers=(
                a(71, numerical_answer_type="exact_answer", exact=33.33, margin=0.01),
                a(72, numerical_answer_type="range_answer", start=1.0, end=22.0),
                a(73, numerical_answer_type="precision_answer", approximate=1000.0, precision=6),
                a(74, numerical_answer_type="exact_answer", exact=7.0, comments="exactly"),
            ),
        ),
        QuizQuestion(
            n + 9,
            QT.CALCULATED,
            "Calc",
            "<p>What is 5 plus [x]?</p>",
            1.0,
            9,
            calculated={
                "formulas": ["5 + x"],
                "answer_tolerance": 0,
                "formula_decimal_places": 0,
                "variables": [{"name": "x", "min": 1.0, "max": 10.0, "scale": 0}],
                "var_sets": [{"variables": {"x": 3}, "answer": 8.0}, {"variables": {"x": 4}, "answer": 9.0}],
            },
        ),
        QuizQuestion(
            n + 10, QT.ESSAY, "Essay", "<p>Write an essay</p>", 5.0, 10, neutral_comments="Be brief"
        ),
        QuizQuestion(n + 11, QT.FILE_UPLOAD, "Upload", "<p>Upload a file</p>", 1.0, 11),
        QuizQuestion(n + 12, QT.TEXT_ONLY, "Just text", "<p>Nothing but text</p>", 0.0, 12),
        QuizQuestion(
            n + 13,
            QT.MISSING_WORD,
            "Missing",
            "<p>The sky is</p>",
            1.0,
            13,
            answers=(a(81, text="blue", weight=100), a(82, text="green")),
        ),
        # a group of three, pick two (two CC-supported, one not)
        QuizQuestion(
            n + 20,
            QT.MULTIPLE_CHOICE,
            f"G1 {HOSTILE}",
            "<p>g1</p>",
            3.0,
            1,
            group_id=n + 90,
            answers=(a(91, text="x", weight=100), a(92, text="y")),
        ),
        QuizQuestion(
            n + 21,
            QT.MATCHING,
            "G1 match",
            "<p>g1m</p>",
            3.0,
            2,
            group_id=n + 90,
            answers=(a(93, left="l", right="r", match_id=904),),
        ),
        QuizQuestion(n + 22, QT.ESSAY, "G1 essay", "<p>g1e</p>", 3.0, 3, group_id=n + 90),
        QuizQuestion(
            n + 23,
            QT.TRUE_FALSE,
            "G2 tf",
            "<p>g2</p>",
            1.0,
            1,
            group_id=n + 91,
            answers=(a(95, text="True", weight=100), a(96, text="False")),
        ),
    ]
    groups = (
        QuizGroup(n + 90, f"Group {HOSTILE}", pick_count=2, question_points=3.0, position=14),
        QuizGroup(n + 91, "Empty-ish group", pick_count=1, question_points=1.0, position=15),
        QuizGroup(n + 92, "Group with no questions", pick_count=1, position=16),
    )
    return Quiz(
        qid,
        title,
        description=f'<p>See <a href="/courses/{CID}/files/10/download?wrap=1">the handout</a></p>',
        points_possible=20.0,
        time_limit=30,
        allowed_attempts=-1,
        assignment_group_id=50,
        assignment_id=700,
        access_code="s3cret",
        due_at=WHEN,
        groups=groups,
        questions=tuple(questions),
    )


def rich_snapshot(
    blobs: Path,
    role: Role | None = Role.TEACHER,
    name: str = f"Rich {HOSTILE} Ünïcode course",
) -> CourseSnapshot:
    """Everything at once: nested folders, unicode names, every module item and question type."""
    c = CID
    folders = [
        Folder(1, None, "course files", "course files"),
        Folder(2, 1, "docs", "course files/docs"),
        Folder(3, 2, "week 1 — Ünï", "course files/docs/week 1 — Ünï"),
        Folder(4, 3, "deep", "course files/docs/week 1 — Ünï/deep"),
        Folder(5, 1, "hidden stuff", "course files/hidden stuff", hidden=True, locked=True, unlock_at=WHEN),
        Folder(6, 1, "empty", "course files/empty"),
    ]
    files = [
        make_file(blobs, 10, 2, "handout.pdf", b"%PDF-1.4 fake pdf", "application/pdf"),
        make_file(blobs, 11, 3, "naïve café 日本.txt", "unicode ☕ content".encode(), "text/plain"),
        make_file(blobs, 12, 4, "photo.jpg", b"\xff\xd8\xff" + b"jpegdata" * 100, "image/jpeg"),
        make_file(blobs, 13, 1, f"{HOSTILE}.html", b"<p>hostile name</p>", "text/html"),
        make_file(blobs, 14, 5, "secret.txt", b"locked", "text/plain", locked=True, hidden=True),
        make_file(blobs, 15, 1, "renamed.txt", b"renamed", "text/plain", filename="original-name.txt"),
        make_file(blobs, 16, 2, "Handout.pdf", b"%PDF-1.4 other", "application/pdf"),
    ]
    links = (
        f'<p><a href="/courses/{c}/files/10/download?wrap=1">handout</a> '
        f'<img src="/courses/{c}/files/12/preview" alt="photo"> '
        f'<a href="/courses/{c}/files/11/download?verifier=abc&amp;wrap=1">unicode</a> '
        f'<a href="/courses/{c}/pages/second-page">next page</a> '
        f'<a href="/courses/{c}/wiki/second-page#top">wiki link</a> '
        f'<a href="/courses/{c}/assignments/600">essay</a> '
        f'<a href="/courses/{c}/quizzes/300">quiz</a> '
        f'<a href="/courses/{c}/discussion_topics/800?module_item_id=1001">topic</a> '
        f'<a href="/courses/{c}/modules/items/1002">item</a> '
        f'<a href="/courses/{c}/grades">grades</a> '
        f'<a href="/courses/99/pages/elsewhere">other course</a> '
        f'<a href="/about">site</a> <a href="https://example.com/x?a=1&amp;b=2">external</a> '
        f'<a href="#frag">fragment</a> <a href="mailto:a@b.c">mail</a></p>'
    )
    pages = [
        Page(
            100,
            "front-page",
            f"Front {HOSTILE}",
            links + "<p>ünïcode ✓ &amp; more</p>",
            front_page=True,
            todo_date=WHEN,
        ),
        Page(101, "second-page", "Second page", "<h2>Second</h2><p>plain</p>"),
        Page(102, "draft", "Draft page", "<p>not published</p>", published=False),
    ]
    groups = [
        AssignmentGroup(50, "Assignments", 1, 40.0, drop_lowest=1),
        AssignmentGroup(51, f"Exams {HOSTILE}", 2, 60.0),
    ]
    rubric = Rubric(
        400,
        "Essay rubric",
        10.0,
        criteria=(
            RubricCriterion(
                "_1",
                "Thesis",
                5.0,
                (RubricRating("r1", "Full", 5.0), RubricRating("r2", "None", 0.0)),
                long_description="Is there a thesis?",
            ),
            RubricCriterion("_2", "Style", 5.0, (RubricRating("r3", "Good", 5.0, "Clear prose"),)),
        ),
    )
    assignments = [
        Assignment(
            600,
            f"Essay {HOSTILE}",
            links,
            50,
            10.0,
            submission_types=("online_upload", "online_text_entry"),
            due_at=WHEN,
            rubric_id=400,
            allowed_extensions=("pdf", "docx"),
            position=1,
        ),
        Assignment(
            601,
            "Ungraded reflection",
            "<p>think</p>",
            50,
            None,
            grading_type="not_graded",
            submission_types=("none",),
            position=2,
        ),
        Assignment(602, "Draft assignment", "", 51, 5.0, published=False, position=3),
        Assignment(
            700,
            "Every question type",
            "",
            50,
            20.0,
            submission_types=("online_quiz",),
            quiz_id=300,
            due_at=WHEN,
        ),
        Assignment(
            701,
            "Graded discussion",
            "",
            51,
            5.0,
            submission_types=("discussion_topic",),
            discussion_topic_id=801,
        ),
    ]
    quizzes = [
        all_question_types_quiz(),
        Quiz(301, "Practice (no questions)", "<p>practice</p>", quiz_type="practice_quiz"),
        Quiz(
            302,
            "Survey",
            quiz_type="survey",
            questions=(
                QuizQuestion(30201, QT.ESSAY, "Opinion", "<p>What do you think?</p>"),
                QuizQuestion(
                    30202,
                    QT.MULTIPLE_CHOICE,
                    "Workload",
                    "<p>How was it?</p>",
                    0.0,
                    2,
                    answers=(Answer(30203, "light"), Answer(30204, "heavy")),
                ),
            ),
        ),
    ]
    topics = [
        DiscussionTopic(800, f"Discuss {HOSTILE}", links, position=1, require_initial_post=True),
        DiscussionTopic(
            801, "Graded discussion", "<p>graded</p>", position=2, assignment_id=701, pinned=True
        ),
        DiscussionTopic(
            802,
            "Welcome!",
            "<p>Hello <b>class</b></p>",
            is_announcement=True,
            posted_at=WHEN,
            delayed_post_at=WHEN,
        ),
    ]
    events = [
        CalendarEvent(
            900,
            "Lecture",
            f'<p>Room 1 <a href="/courses/{c}/files/10/download">notes</a></p>',
            WHEN,
            WHEN,
            location_name="Hall A",
        ),
        CalendarEvent(901, "Holiday", "", WHEN, WHEN, all_day=True),
    ]
    modules = [
        Module(
            1000,
            f"Week 1 {HOSTILE}",
            1,
            items=(
                ModuleItem(1001, 1000, MI.SUB_HEADER, "Read first", position=1),
                ModuleItem(1002, 1000, MI.PAGE, "Front page", 100, position=2),
                ModuleItem(1003, 1000, MI.ASSIGNMENT, "Essay", 600, position=3, indent=1),
                ModuleItem(1004, 1000, MI.QUIZ, "Quiz", 300, position=4),
                ModuleItem(1005, 1000, MI.DISCUSSION, "Discuss", 800, position=5),
                ModuleItem(1006, 1000, MI.FILE, "Handout", 10, position=6),
                ModuleItem(
                    1007,
                    1000,
                    MI.EXTERNAL_URL,
                    f"Search {HOSTILE}",
                    url="https://example.com/?q=a&b=<c>",
                    position=7,
                    new_tab=True,
                ),
                ModuleItem(1008, 1000, MI.FILE, "Unicode file", 11, position=8),
            ),
        ),
        Module(1010, "Empty module", 2),
        Module(
            1020,
            "Week 2",
            3,
            unlock_at=WHEN,
            require_sequential_progress=True,
            prerequisite_ids=(1000,),
            items=(
                ModuleItem(1021, 1020, MI.PAGE, "Second page", 101, position=1),
                ModuleItem(1022, 1020, MI.QUIZ, "Practice", 301, position=2),
                ModuleItem(1023, 1020, MI.DISCUSSION, "Graded discussion", 801, position=3),
                ModuleItem(1024, 1020, MI.ASSIGNMENT, "Reflection", 601, position=4),
                ModuleItem(1025, 1020, MI.EXTERNAL_URL, "Docs", url="https://docs.example.com", position=5),
            ),
        ),
        Module(
            1030,
            "Unpublished module",
            4,
            published=False,
            items=(
                ModuleItem(1031, 1030, MI.PAGE, "Draft", 102, position=1, published=False),
                ModuleItem(1032, 1030, MI.ASSIGNMENT, "Draft assignment", 602, position=2, published=False),
            ),
        ),
    ]
    course = Course(
        c,
        name,
        "RICH-101",
        "course-uuid",
        start_at=WHEN,
        time_zone="Europe/London",
        syllabus_body=f'<p>Syllabus <a href="/courses/{c}/pages/front-page">start here</a></p>',
        license="cc_by",
        host="canvas.example.edu",
    )
    viewer = STUDENT if role == Role.STUDENT else TEACHER
    snap = CourseSnapshot(
        course,
        viewer,
        role,
        WHEN,
        folders,
        files,
        pages,
        groups,
        assignments,
        [rubric],
        quizzes,
        topics,
        events,
        modules,
    )
    if role is not None and not role.is_admin:
        snap = student_view(snap)
    return with_everything(snap)


def student_view(snap: CourseSnapshot) -> CourseSnapshot:
    """What the engine gives a student: published, unlocked, visible content only."""
    hidden_folders = {f.id for f in snap.folders if f.hidden or f.locked}
    snap.folders = [f for f in snap.folders if f.id not in hidden_folders]
    snap.files = [f for f in snap.files if not (f.hidden or f.locked) and f.folder_id not in hidden_folders]
    snap.pages = [p for p in snap.pages if p.published]
    snap.assignments = [a for a in snap.assignments if a.published]
    snap.quizzes = [q for q in snap.quizzes if q.published]
    snap.discussion_topics = [t for t in snap.discussion_topics if t.published]
    modules = []
    for m in snap.modules:
        if m.published:
            modules.append(replace(m, items=tuple(i for i in m.items if i.published)))
    snap.modules = modules
    return snap


def selective(snapshot: CourseSnapshot, **ids: set[int]) -> CourseSnapshot:
    """A selective export of ``snapshot`` naming ``ids`` per select type (already closed)."""
    snapshot.selection = Selection(
        everything=False,
        syllabus_body=ids.pop("syllabus", False),
        course_settings=ids.pop("settings", False),
        ids={k: frozenset(v) for k, v in ids.items()},
    )
    return snapshot


def module_selection(snapshot: CourseSnapshot, module_id: int) -> CourseSnapshot:
    """Select one module with the closure the engine applies (its items, and files their HTML links to)."""
    module = next(m for m in snapshot.modules if m.id == module_id)
    kinds = {
        MI.PAGE: "wiki_pages",
        MI.ASSIGNMENT: "assignments",
        MI.QUIZ: "quizzes",
        MI.DISCUSSION: "discussion_topics",
        MI.FILE: "attachments",
    }
    ids: dict[str, set[int]] = {"context_modules": {module_id}, "content_tags": {i.id for i in module.items}}
    for item in module.items:
        if item.content_type in kinds and item.content_id is not None:
            ids.setdefault(kinds[item.content_type], set()).add(item.content_id)
    ids.setdefault("attachments", set()).update({10, 11, 12})  # linked from the front page
    return selective(snapshot, **ids)
