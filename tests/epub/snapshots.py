"""A small factory of course snapshots for the ePub tests (no library, no engine)."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tui_exports.model import (
    Assignment,
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
    QuizQuestion,
    Role,
    Selection,
    User,
)

from .media_samples import SAMPLES, SVG, UNSAFE_SVG

EXPORTED_AT = datetime(2026, 9, 15, 10, 30, 5, tzinfo=UTC)
TEACHER = User(1, "Ada Lovelace")
STUDENT = User(2, "Grace Hopper")

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "svg": "image/svg+xml",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "opus": "audio/ogg",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "mp4": "video/mp4",
    "txt": "text/plain",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class CourseBuilder:
    """Builds a course snapshot item by item; files get real blobs under ``blob_dir``."""

    def __init__(self, blob_dir: Path, course_id: int = 101, name: str = "Astronomy 101", **course: object):
        self.blob_dir = blob_dir
        blob_dir.mkdir(parents=True, exist_ok=True)
        self.ids = itertools.count(1000)
        course.setdefault("course_code", "ASTR-101")
        course.setdefault("time_zone", "Europe/London")
        self.course = Course(course_id, name, uuid=f"uuid-{course_id}", **course)  # type: ignore[arg-type]
        self.folders = [Folder(1, None, "course files", "course files")]
        self.files: list[File] = []
        self.pages: list[Page] = []
        self.assignments: list[Assignment] = []
        self.quizzes: list[Quiz] = []
        self.topics: list[DiscussionTopic] = []
        self.modules: list[Module] = []

    # -- links as the loader writes them
    def file_link(self, file: File) -> str:
        return f"/courses/{self.course.id}/files/{file.id}/download?wrap=1"

    def image_link(self, file: File) -> str:
        return f"/courses/{self.course.id}/files/{file.id}/preview"

    def page_link(self, page: Page | str) -> str:
        return f"/courses/{self.course.id}/pages/{page if isinstance(page, str) else page.url}"

    def link(self, kind: str, obj_id: int) -> str:
        return f"/courses/{self.course.id}/{kind}/{obj_id}"

    # -- content
    def folder(self, path: str) -> Folder:
        parent = self.folders[0]
        for depth, name in enumerate(path.split("/"), 1):
            full = "course files/" + "/".join(path.split("/")[:depth])
            found = next((f for f in self.folders if f.full_name == full), None)
            if found is None:
                found = Folder(next(self.ids), parent.id, name, full)
                self.folders.append(found)
            parent = found
        return parent

    def file(self, path: str, data: bytes | None = None, content_type: str | None = None, **kw) -> File:
        folder_path, _, name = path.rpartition("/")
        folder = self.folder(folder_path) if folder_path else self.folders[0]
        ext = name.rpartition(".")[2].lower()
        data = SAMPLES.get(ext, b"%s sample\n" % ext.encode()) if data is None else data
        digest = hashlib.sha256(data).hexdigest()
        blob = self.blob_dir / digest
        if kw.pop("missing", False):
            blob = self.blob_dir / "does-not-exist"
        else:
            blob.write_bytes(data)
        file = File(
            next(self.ids),
            folder.id,
            name,
            name,
            content_type or CONTENT_TYPES.get(ext, "application/octet-stream"),
            len(data),
            digest,
            f"file-uuid-{len(self.files)}",
            blob,
            **kw,
        )
        self.files.append(file)
        return file

    def page(self, slug: str, title: str, body: str = "", **kw) -> Page:
        page = Page(next(self.ids), slug, title, body or f"<p>{title}</p>", **kw)
        self.pages.append(page)
        return page

    def assignment(self, title: str, description: str = "", **kw) -> Assignment:
        a = Assignment(next(self.ids), title, description or f"<p>Do {title}.</p>", **kw)
        self.assignments.append(a)
        return a

    def quiz(self, title: str, graded: bool = True, **kw) -> Quiz:
        quiz_id = next(self.ids)
        assignment = None
        if graded and kw.get("quiz_type", "assignment") in ("assignment", "graded_survey"):
            assignment = self.assignment(
                title,
                "",
                quiz_id=quiz_id,
                points_possible=kw.get("points_possible"),
                submission_types=("online_quiz",),
                published=kw.get("published", True),
            )
        kw.setdefault("quiz_type", "assignment" if graded else "practice_quiz")
        question = QuizQuestion(1, QuestionType.MULTIPLE_CHOICE, "Q1", "<p>SECRET-QUESTION-TEXT</p>")
        quiz = Quiz(
            quiz_id, title, assignment_id=assignment.id if assignment else None, questions=(question,), **kw
        )
        self.quizzes.append(quiz)
        return quiz

    def topic(
        self, title: str, message: str = "", points: float | None = None, due_at=None, **kw
    ) -> DiscussionTopic:
        topic_id = next(self.ids)
        assignment = None
        if points is not None:
            assignment = self.assignment(
                title,
                "",
                discussion_topic_id=topic_id,
                points_possible=points,
                due_at=due_at,
                submission_types=("discussion_topic",),
            )
        topic = DiscussionTopic(
            topic_id,
            title,
            message or f"<p>{title}</p>",
            assignment_id=assignment.id if assignment else None,
            **kw,
        )
        self.topics.append(topic)
        return topic

    def announcement(self, title: str, message: str = "", **kw) -> DiscussionTopic:
        return self.topic(title, message, is_announcement=True, **kw)

    def module(self, name: str, *contents: object, **kw) -> Module:
        module_id = next(self.ids)
        items = []
        for position, content in enumerate(contents, 1):
            items.append(self._item(module_id, position, content))
        module = Module(module_id, name, position=len(self.modules) + 1, items=tuple(items), **kw)
        self.modules.append(module)
        return module

    def _item(self, module_id: int, position: int, content: object) -> ModuleItem:
        item_id = next(self.ids)
        if isinstance(content, tuple):  # ("url", title, url) or ("subheader", title)
            if content[0] == "url":
                return ModuleItem(
                    item_id,
                    module_id,
                    ModuleItemType.EXTERNAL_URL,
                    content[1],
                    url=content[2],
                    position=position,
                )
            return ModuleItem(item_id, module_id, ModuleItemType.SUB_HEADER, content[1], position=position)
        kind = {
            Page: ModuleItemType.PAGE,
            Assignment: ModuleItemType.ASSIGNMENT,
            Quiz: ModuleItemType.QUIZ,
            DiscussionTopic: ModuleItemType.DISCUSSION,
            File: ModuleItemType.FILE,
        }[type(content)]
        title = getattr(content, "title", None) or getattr(content, "display_name", "")
        return ModuleItem(
            item_id,
            module_id,
            kind,
            title,
            content_id=content.id,
            position=position,
            published=getattr(content, "published", True),
        )

    # -- the snapshot
    def snapshot(self, student: bool = False, by_content_type: bool | None = None) -> CourseSnapshot:
        """As the engine would build it: a student sees no unpublished or hidden items."""
        course = self.course
        if by_content_type is not None:
            course = dataclasses.replace(course, organize_epub_by_content_type=by_content_type)

        def seen(objs):
            return [
                o
                for o in objs
                if not student or (getattr(o, "published", True) and not getattr(o, "hidden", False))
            ]

        modules = [
            dataclasses.replace(m, items=tuple(i for i in m.items if not student or i.published))
            for m in seen(self.modules)
        ]
        snap = CourseSnapshot(
            course=course,
            viewer=STUDENT if student else TEACHER,
            viewer_role=Role.STUDENT if student else Role.TEACHER,
            exported_at=EXPORTED_AT,
            folders=list(self.folders),
            files=seen(self.files),
            pages=seen(self.pages),
            assignments=seen(self.assignments),
            quizzes=seen(self.quizzes),
            discussion_topics=seen(self.topics),
            modules=modules,
        )
        snap.selection = everything(snap)
        return snap


def everything(snap: CourseSnapshot) -> Selection:
    announcements = {t.id for t in snap.discussion_topics if t.is_announcement}
    ids = {
        "context_modules": {m.id for m in snap.modules},
        "content_tags": {i.id for m in snap.modules for i in m.items},
        "assignments": {a.id for a in snap.assignments},
        "quizzes": {q.id for q in snap.quizzes},
        "discussion_topics": {t.id for t in snap.discussion_topics} - announcements,
        "announcements": announcements,
        "wiki_pages": {p.id for p in snap.pages},
        "attachments": {f.id for f in snap.files},
        "folders": {f.id for f in snap.folders},
    }
    return Selection(everything=True, syllabus_body=True, ids={k: frozenset(v) for k, v in ids.items()})


def astronomy(blob_dir: Path, **course: object) -> CourseBuilder:
    """A course using every feature the ePub shows: modules (one locked), every item and file kind."""
    c = CourseBuilder(
        blob_dir, syllabus_body="<p>Welcome to <b>Astronomy</b>. See the schedule below.</p>", **course
    )
    moon = c.file("images/moon-phases.png")
    orion = c.file("images/sky/winter/orion photo.jpg")
    c.file("images/dup.gif")
    dup2 = c.file("images/DUP.gif")  # same name after case folding
    webp = c.file("images/nebula.webp")
    svg = c.file("images/star.svg", SVG)
    bad_svg = c.file("images/evil.svg", UNSAFE_SVG)
    clicks = c.file("audio/pulsar clicks.mp3")
    aac = c.file("audio/interview.m4a")
    opus = c.file("audio/hiss.opus")
    pdf = c.file("handouts/star-chart-guide.pdf")
    pdf2 = c.file("handouts/Star-Chart-Guide.pdf")
    video = c.file("video/launch.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)
    zipped = c.file("handouts/starter.zip")
    fake_png = c.file("images/not-really.png", b"this is text, not a png")
    jpeg_named_png = c.file("images/renamed.png", SAMPLES["jpg"])
    gone = c.file("handouts/lost.pdf", missing=True)
    c.file("images/hidden.png", hidden=True)

    welcome = c.page(
        "welcome",
        "Welcome",
        f"""
        <h2>Start here</h2><p>Read <a href="{c.page_link("telescopes")}">Telescopes</a> first,
        then look at <img src="{c.image_link(moon)}" alt="Moon phases">.
        <a href="{c.file_link(orion)}"><img src="{c.image_link(orion)}" alt=""></a></p>
        <p>Listen: <a href="{c.file_link(clicks)}">pulsar clicks</a>,
        <audio controls src="{c.file_link(aac)}"></audio> <a href="{c.file_link(opus)}">hiss</a></p>
        <p>Handout: <a href="{c.file_link(pdf)}">Star chart guide</a> and
        <a href="{c.file_link(pdf2)}">its twin</a>, <a href="{c.file_link(zipped)}">starter</a>,
        <video src="{c.file_link(video)}"></video>, <a href="{c.file_link(gone)}">lost file</a>,
        <img src="{c.image_link(fake_png)}" alt="fake">, <img src="{c.image_link(jpeg_named_png)}" alt="jpeg">,
        <img src="{c.image_link(webp)}" alt="nebula"> <img src="{c.image_link(svg)}" alt="star">
        <img src="{c.image_link(bad_svg)}" alt="evil"> <img src="{c.image_link(dup2)}" alt="dup"></p>
        <p><a href="https://en.wikipedia.org/wiki/Moon">Wikipedia</a>,
        <a href="{c.page_link("not-a-page")}">a missing page</a>,
        <a href="/courses/{c.course.id}/grades">grades</a>.</p>""",
    )
    telescopes = c.page(
        "telescopes", "Telescopes", f'<p>Back to <a href="{c.page_link(welcome)}">Welcome</a>.</p>'
    )
    orphan = c.page("orphan", "Page in no module", "<p>Only in the by-type book.</p>")
    c.page("draft", "Draft page", "<p>unpublished</p>", published=False)
    essay = c.assignment(
        "Moon journal",
        f'<p>Keep a journal. See <a href="{c.page_link(orphan)}">the orphan page</a>.</p>',
        points_possible=10.0,
        due_at=datetime(2026, 10, 1, 23, 59, tzinfo=UTC),
        submission_types=("online_upload", "online_text_entry"),
        grading_type="points",
        allowed_extensions=("pdf",),
    )
    late = c.assignment(
        "Sky map",
        points_possible=5.0,
        due_at=datetime(2026, 9, 20, 12, tzinfo=UTC),
        grading_type="pass_fail",
        submission_types=("on_paper",),
    )
    undated = c.assignment("Reflection", points_possible=2.5, submission_types=("online_url",))
    c.assignment("Hidden draft", published=False, due_at=datetime(2026, 9, 16, tzinfo=UTC))
    quiz = c.quiz(
        "Planets quiz",
        points_possible=20.0,
        due_at=datetime(2026, 9, 25, 9, tzinfo=UTC),
        allowed_attempts=-1,
        time_limit=30,
        description="<p>About the planets.</p>",
    )
    practice = c.quiz("Practice quiz", graded=False)
    topic = c.topic(
        "Favourite star",
        "<p>Which star do you like?</p>",
        points=3.0,
        due_at=datetime(2026, 9, 22, tzinfo=UTC),
    )
    c.announcement("Welcome to the course", "<p>Hello!</p>", posted_at=datetime(2026, 9, 1, tzinfo=UTC))
    c.announcement("Observatory night", "<p>Friday.</p>", posted_at=datetime(2026, 9, 10, tzinfo=UTC))
    c.announcement("Future news", "<p>later</p>", delayed_post_at=EXPORTED_AT + timedelta(days=3))
    c.module(
        "Week 1: The Moon",
        ("subheader", "Read"),
        welcome,
        telescopes,
        essay,
        late,
        quiz,
        moon,
        pdf,
        ("url", "NASA", "https://www.nasa.gov/moon"),
    )
    week1 = c.modules[0]
    c.modules[0] = dataclasses.replace(
        week1,
        items=tuple(dataclasses.replace(i, indent=1) if i.title == "Telescopes" else i for i in week1.items),
    )
    c.module("Week 2: Stars", topic, practice, undated, clicks, prerequisite_ids=(c.modules[0].id,))
    c.module("Week 3: Locked", c.page("galaxies", "Galaxies"), unlock_at=EXPORTED_AT + timedelta(days=7))
    c.module("Draft module", c.page("drafty", "In a draft module"), published=False)
    return c
