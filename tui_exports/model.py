"""Dataclasses and enums shared by every layer.

The course-content classes form the *course snapshot*: the read-only view of one
course that the exporters receive.  The engine builds it from the library for one
user (only what that user may see) and attaches the resolved selection, so an
exporter never decides visibility or selection rules itself.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from .vocab import CONTENT_FORMATS, SELECT_KEYS

# --------------------------------------------------------------------------- enums


class Role(StrEnum):
    TEACHER = "teacher"
    TA = "ta"
    DESIGNER = "designer"
    STUDENT = "student"
    OBSERVER = "observer"

    @property
    def is_admin(self) -> bool:
        """Canvas's ``read_as_admin``: teachers, TAs and designers."""
        return self in (Role.TEACHER, Role.TA, Role.DESIGNER)


class ContextType(StrEnum):
    COURSE = "Course"
    GROUP = "Group"
    USER = "User"


#: ``export_type`` values (COMMON_CARTRIDGE, QTI, ZIP): the content-export formats of ``vocab.FORMATS``.
ExportType = StrEnum("ExportType", {f.name.upper(): f.name for f in CONTENT_FORMATS})


class ContentExportState(StrEnum):
    CREATED = "created"
    WAITING_FOR_EXTERNAL_TOOL = "waiting_for_external_tool"
    EXPORTING = "exporting"
    EXPORTED = "exported"
    EXPORTED_FOR_COURSE_COPY = "exported_for_course_copy"
    FAILED = "failed"
    DELETED = "deleted"


class EpubExportState(StrEnum):
    CREATED = "created"
    EXPORTING = "exporting"
    EXPORTED = "exported"
    GENERATING = "generating"
    GENERATED = "generated"
    FAILED = "failed"
    DELETED = "deleted"


class ProgressState(StrEnum):
    """Canvas's Progress states (``app/models/progress.rb``).  ``canceled`` is only Canvas's own
    (a queued Progress orphaned by a replaced job); a *cancel* through the API makes the Progress
    ``failed`` (``progress_controller.rb``), and so does ours."""

    QUEUED = "queued"
    RUNNING = "running"
    WAITING_FOR_EXTERNAL_TOOL = "waiting_for_external_tool"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"


# ------------------------------------------------------------------ job states
# The one place that says which states of a job are running, finished, failed or have a
# file to download; the engine's state machine (engine/states.py), the CLI, the app and
# the backends all derive from these.  Fronts see plain strings (Canvas JSON), so the sets
# hold the string values.

#: ContentExport: still moving / ended / ended without a file / ended with a file.
CONTENT_EXPORT_RUNNING = frozenset({"created", "waiting_for_external_tool", "exporting"})
CONTENT_EXPORT_DOWNLOADABLE = frozenset({"exported", "exported_for_course_copy"})
CONTENT_EXPORT_FAILED = frozenset({"failed"})
CONTENT_EXPORT_FINAL = CONTENT_EXPORT_DOWNLOADABLE | CONTENT_EXPORT_FAILED | {"deleted"}

#: EpubExport: ``exported`` is half way (the content is exported, the book is not made yet).
EPUB_EXPORT_RUNNING = frozenset({"created", "exporting", "exported", "generating"})
EPUB_EXPORT_DOWNLOADABLE = frozenset({"generated"})
EPUB_EXPORT_FAILED = frozenset({"failed"})
EPUB_EXPORT_FINAL = EPUB_EXPORT_DOWNLOADABLE | EPUB_EXPORT_FAILED | {"deleted"}

#: Progress: ``completed`` is its only good end.
PROGRESS_RUNNING = frozenset({"queued", "running", "waiting_for_external_tool"})
PROGRESS_COMPLETED = frozenset({"completed"})
PROGRESS_FAILED = frozenset({"failed", "canceled"})
PROGRESS_FINAL = PROGRESS_COMPLETED | PROGRESS_FAILED

#: A bare state word, kind unknown (a history row of any kind): a word that ends one kind
#: with success counts as done (``exported``: the ePub passes through it on its way to
#: ``generated``; who knows the kind uses the sets above).
DONE_STATES = CONTENT_EXPORT_DOWNLOADABLE | EPUB_EXPORT_DOWNLOADABLE | PROGRESS_COMPLETED
RUNNING_STATES = (CONTENT_EXPORT_RUNNING | EPUB_EXPORT_RUNNING | PROGRESS_RUNNING) - DONE_STATES
FAILED_STATES = CONTENT_EXPORT_FAILED | EPUB_EXPORT_FAILED | PROGRESS_FAILED


class BulkItemState(StrEnum):
    """One item of a bulk run (a course in one format), and the run as a whole: the
    ContentExport words where they fit (``created`` → ``exporting`` → ``exported`` or
    ``failed``), plus Progress's ``canceled`` for an item or run stopped by ``bulk cancel``."""

    CREATED = "created"
    EXPORTING = "exporting"
    EXPORTED = "exported"
    FAILED = "failed"
    CANCELED = "canceled"


#: Bulk items: still to do / ended / ended without a file / ended with a file.
BULK_ITEM_RUNNING = frozenset({"created", "exporting"})
BULK_ITEM_DOWNLOADABLE = frozenset({"exported"})
BULK_ITEM_FAILED = frozenset({"failed", "canceled"})
BULK_ITEM_FINAL = BULK_ITEM_DOWNLOADABLE | BULK_ITEM_FAILED


class JobKind(StrEnum):
    """The records a job runs for: a ContentExport or an EpubExport."""

    CONTENT = "content"
    EPUB = "epub"


#: kind → (running, final, failed, downloadable); a kind is ``"content"`` (a ContentExport),
#: ``"epub"`` (an EpubExport), ``"progress"`` or ``"bulk"`` (an item of a bulk run).
JOB_STATES: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]] = {
    "content": (
        CONTENT_EXPORT_RUNNING,
        CONTENT_EXPORT_FINAL,
        CONTENT_EXPORT_FAILED,
        CONTENT_EXPORT_DOWNLOADABLE,
    ),
    "epub": (EPUB_EXPORT_RUNNING, EPUB_EXPORT_FINAL, EPUB_EXPORT_FAILED, EPUB_EXPORT_DOWNLOADABLE),
    "progress": (PROGRESS_RUNNING, PROGRESS_FINAL, PROGRESS_FAILED, PROGRESS_COMPLETED),
    "bulk": (BULK_ITEM_RUNNING, BULK_ITEM_FINAL, BULK_ITEM_FAILED, BULK_ITEM_DOWNLOADABLE),
}


def is_running(state: str | None, kind: str | None = None) -> bool:
    """Still moving: of ``kind`` when given, else of any kind (see RUNNING_STATES)."""
    return state is not None and str(state) in (JOB_STATES[kind][0] if kind else RUNNING_STATES)


def is_final(state: str | None, kind: str) -> bool:
    """Ended (well, badly or deleted): it will not move again but to ``deleted``."""
    return state is not None and str(state) in JOB_STATES[kind][1]


def is_failed(state: str | None, kind: str | None = None) -> bool:
    return state is not None and str(state) in (JOB_STATES[kind][2] if kind else FAILED_STATES)


def is_downloadable(state: str | None, kind: str | None = None) -> bool:
    """Ended with a file (the Progress of such a job is ``completed``)."""
    return state is not None and str(state) in (JOB_STATES[kind][3] if kind else DONE_STATES)


#: The first word of the error an export canceled through its Progress ends with (the engine
#: writes it, ``canceled: <the message sent with the cancel>``); how the fronts tell it.
CANCELED = "canceled"


def was_canceled(
    record: dict[str, Any] | None, progress: dict[str, Any] | None = None, kind: str | None = None
) -> bool:
    """A job stopped by a cancel, from its export (ContentExport or EpubExport JSON) and its Progress.

    Canvas's ``progress#cancel`` only fails the Progress (``message`` = what the canceller sent,
    or null) and leaves the export ``exporting``: a Progress that ended badly while its export
    still runs was canceled.  The local engine then fails the export too, with an error that
    starts with ``canceled``; a failed export whose errors (or Progress message) say so was
    canceled.  The one place that decides, for the CLI, the app and the Canvas backend."""
    record, progress = record or {}, progress or {}
    state = record.get("workflow_state")
    if is_failed(progress.get("workflow_state"), "progress") and is_running(state, kind):
        return True
    if not is_failed(state, kind):
        return False
    said = [*map(str, record.get("errors") or []), str(progress.get("message") or "")]
    return progress.get("workflow_state") == ProgressState.CANCELED or any(
        s.strip().casefold().startswith((CANCELED, "cancelled")) for s in said
    )


class QuestionType(StrEnum):
    """Canvas question types (spec §5.3)."""

    MULTIPLE_CHOICE = "multiple_choice_question"
    TRUE_FALSE = "true_false_question"
    MULTIPLE_ANSWERS = "multiple_answers_question"
    SHORT_ANSWER = "short_answer_question"
    FILL_IN_MULTIPLE_BLANKS = "fill_in_multiple_blanks_question"
    MULTIPLE_DROPDOWNS = "multiple_dropdowns_question"
    MATCHING = "matching_question"
    NUMERICAL = "numerical_question"
    CALCULATED = "calculated_question"
    ESSAY = "essay_question"
    FILE_UPLOAD = "file_upload_question"
    TEXT_ONLY = "text_only_question"
    MISSING_WORD = "missing_word_question"


class ModuleItemType(StrEnum):
    """``content_type`` values of Canvas module items (module_meta.xml)."""

    PAGE = "WikiPage"
    ASSIGNMENT = "Assignment"
    QUIZ = "Quizzes::Quiz"
    DISCUSSION = "DiscussionTopic"
    FILE = "Attachment"
    EXTERNAL_URL = "ExternalUrl"
    SUB_HEADER = "ContextModuleSubHeader"


# ----------------------------------------------------------------- people & places


@dataclass(frozen=True)
class User:
    id: int
    name: str
    sortable_name: str = ""
    short_name: str = ""
    login_id: str = ""
    email: str = ""
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Course:
    id: int
    name: str
    course_code: str
    uuid: str
    workflow_state: str = "available"  # available | completed (concluded)
    start_at: datetime | None = None
    end_at: datetime | None = None
    time_zone: str = "UTC"
    term: str = ""
    syllabus_body: str = ""
    organize_epub_by_content_type: bool = False
    license: str = "private"
    locale: str = "en"
    default_view: str = "modules"
    host: str = "canvas.local"  # used to absolutise links leaving the course

    @property
    def concluded(self) -> bool:
        return self.workflow_state == "completed"


@dataclass(frozen=True)
class Enrollment:
    user_id: int
    course_id: int
    role: Role
    state: str = "active"  # active | completed


@dataclass(frozen=True)
class Group:
    id: int
    course_id: int
    name: str
    member_ids: tuple[int, ...] = ()


# ------------------------------------------------------------------ course content


@dataclass(frozen=True)
class Folder:
    id: int
    parent_id: int | None
    name: str
    full_name: str  # "course files/docs/week 1" (Canvas's full_name)
    position: int = 0
    hidden: bool = False
    locked: bool = False
    lock_at: datetime | None = None
    unlock_at: datetime | None = None

    @property
    def path_below_root(self) -> str:
        """Path under the root folder ("" for the root itself)."""
        _, _, rest = self.full_name.partition("/")
        return rest


@dataclass(frozen=True)
class File:
    id: int
    folder_id: int
    display_name: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uuid: str
    blob_path: Path | None  # bytes on disk; None when the blob is missing
    hidden: bool = False
    locked: bool = False
    lock_at: datetime | None = None
    unlock_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ContextFile:
    """One course, group or user file, with the context it belongs to (``/files/:id``)."""

    file: File
    context_type: ContextType
    context_id: int


@dataclass(frozen=True)
class Page:
    id: int
    url: str  # slug
    title: str
    body: str
    published: bool = True
    front_page: bool = False
    editing_roles: str = "teachers"
    created_at: datetime | None = None
    updated_at: datetime | None = None
    todo_date: datetime | None = None


@dataclass(frozen=True)
class AssignmentGroup:
    id: int
    name: str
    position: int = 0
    group_weight: float = 0.0
    drop_lowest: int = 0
    drop_highest: int = 0


@dataclass(frozen=True)
class RubricRating:
    id: str
    description: str
    points: float
    long_description: str = ""


@dataclass(frozen=True)
class RubricCriterion:
    id: str
    description: str
    points: float
    ratings: tuple[RubricRating, ...] = ()
    long_description: str = ""


@dataclass(frozen=True)
class Rubric:
    id: int
    title: str
    points_possible: float
    criteria: tuple[RubricCriterion, ...] = ()
    free_form_criterion_comments: bool = False


@dataclass(frozen=True)
class Assignment:
    id: int
    title: str
    description: str = ""
    assignment_group_id: int | None = None
    points_possible: float | None = None
    grading_type: str = "points"  # points|percent|pass_fail|letter_grade|gpa_scale|not_graded
    submission_types: tuple[str, ...] = ("online_text_entry",)
    due_at: datetime | None = None
    unlock_at: datetime | None = None
    lock_at: datetime | None = None
    published: bool = True
    position: int = 0
    rubric_id: int | None = None
    allowed_extensions: tuple[str, ...] = ()
    peer_reviews: bool = False
    # An assignment that belongs to a graded quiz or discussion (Canvas's "submittable").
    quiz_id: int | None = None
    discussion_topic_id: int | None = None


@dataclass(frozen=True)
class Answer:
    """One answer of a quiz question, in Canvas's ``question_data`` shape.

    Which fields matter depends on the question type: ``weight`` 100 marks a
    correct choice; ``blank_id`` names the blank of fill-in-multiple-blanks and
    dropdowns; ``left``/``right``/``match_id`` are a matching pair; the numerical
    fields follow ``numerical_answer_type`` (exact_answer, range_answer,
    precision_answer).
    """

    id: int
    text: str = ""
    html: str = ""
    weight: float = 0.0
    comments: str = ""
    comments_html: str = ""
    blank_id: str | None = None
    left: str | None = None
    right: str | None = None
    match_id: int | None = None
    numerical_answer_type: str | None = None
    exact: float | None = None
    margin: float | None = None
    start: float | None = None
    end: float | None = None
    approximate: float | None = None
    precision: int | None = None


@dataclass(frozen=True)
class QuizGroup:
    id: int
    name: str
    pick_count: int = 1
    question_points: float = 1.0
    position: int = 0


@dataclass(frozen=True)
class QuizQuestion:
    id: int
    question_type: QuestionType
    name: str
    question_text: str
    points_possible: float = 1.0
    position: int = 0
    group_id: int | None = None
    answers: tuple[Answer, ...] = ()
    correct_comments: str = ""
    incorrect_comments: str = ""
    neutral_comments: str = ""
    # matching: extra distractor choices on the right side, as (match_id, text)
    matching_distractors: tuple[tuple[int, str], ...] = ()
    # calculated: {"formulas": [...], "variables": [{"name","min","max","scale"}],
    #              "answer_tolerance": x, "formula_decimal_places": n,
    #              "var_sets": [{"variables": {...}, "answer": x}]}
    calculated: dict[str, Any] | None = None


@dataclass(frozen=True)
class Quiz:
    id: int
    title: str
    description: str = ""
    quiz_type: str = "assignment"  # assignment|practice_quiz|graded_survey|survey
    points_possible: float | None = None
    time_limit: int | None = None  # minutes
    allowed_attempts: int = 1  # -1 = unlimited
    shuffle_answers: bool = False
    scoring_policy: str = "keep_highest"
    show_correct_answers: bool = True
    one_question_at_a_time: bool = False
    cant_go_back: bool = False
    hide_results: str | None = None
    access_code: str = ""
    due_at: datetime | None = None
    unlock_at: datetime | None = None
    lock_at: datetime | None = None
    published: bool = True
    assignment_group_id: int | None = None
    assignment_id: int | None = None
    groups: tuple[QuizGroup, ...] = ()
    questions: tuple[QuizQuestion, ...] = ()


#: Quiz types graded through an assignment of their own (Canvas's model: it holds the grade).
GRADED_QUIZ_TYPES = frozenset({"assignment", "graded_survey"})


def quiz_assignment(quiz: Quiz, assignment_id: int, **fields: Any) -> Assignment:
    """The assignment a graded quiz is graded through, made from the quiz (title, points, dates)."""
    return Assignment(
        id=assignment_id,
        title=quiz.title,
        assignment_group_id=quiz.assignment_group_id,
        points_possible=quiz.points_possible,
        submission_types=("online_quiz",),
        due_at=quiz.due_at,
        unlock_at=quiz.unlock_at,
        lock_at=quiz.lock_at,
        published=quiz.published,
        quiz_id=quiz.id,
        **fields,
    )


@dataclass(frozen=True)
class DiscussionTopic:
    id: int
    title: str
    message: str = ""
    is_announcement: bool = False
    published: bool = True
    posted_at: datetime | None = None
    delayed_post_at: datetime | None = None
    lock_at: datetime | None = None
    pinned: bool = False
    discussion_type: str = "threaded"
    require_initial_post: bool = False
    position: int = 0
    assignment_id: int | None = None


@dataclass(frozen=True)
class CalendarEvent:
    id: int
    title: str
    description: str = ""
    start_at: datetime | None = None
    end_at: datetime | None = None
    all_day: bool = False
    location_name: str = ""


@dataclass(frozen=True)
class ModuleItem:
    id: int
    module_id: int
    content_type: ModuleItemType
    title: str
    content_id: int | None = None  # None for sub-headers and external URLs
    url: str = ""  # external URLs
    position: int = 0
    indent: int = 0
    published: bool = True
    new_tab: bool = False


@dataclass(frozen=True)
class Module:
    id: int
    name: str
    position: int = 0
    published: bool = True
    unlock_at: datetime | None = None
    require_sequential_progress: bool = False
    prerequisite_ids: tuple[int, ...] = ()
    items: tuple[ModuleItem, ...] = ()


# ------------------------------------------------------------------- selection


#: The ``select`` types after aliasing, in the order Canvas's content_list shows them
#: (declared in ``vocab.SELECT_VOCAB``).
SELECT_TYPES: tuple[str, ...] = SELECT_KEYS


class IdSet(Set):
    """A frozen set of ids held as one sorted array of 8-byte integers: a selection of 100,000
    items costs 0.8 MB, not the ~6 MB of a ``frozenset`` of ``int`` objects.  A ``Set``: ``in``
    (a binary search), iteration in id order, ``len``, and comparisons with other sets."""

    __slots__ = ("_ids",)

    def __init__(self, ids: Iterable[int] = ()):
        held = array("q", ids)  # (a walk in id order is sorted already: no set, no list)
        if any(held[n] >= held[n + 1] for n in range(len(held) - 1)):
            held = array("q", sorted(set(held)))
        self._ids = held

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, int):
            return False
        ids = self._ids
        at = bisect_left(ids, item)
        return at < len(ids) and ids[at] == item

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    __hash__ = Set._hash

    def __repr__(self) -> str:
        return f"IdSet({list(self._ids)!r})"


@dataclass(frozen=True)
class Selection:
    """A resolved ``select``: concrete ids per type, after aliases and closure.

    ``everything`` is kept so exporters can tell a full export from a selective
    one (Canvas writes a few course-level files only for full exports), but the
    id sets are always filled: exporters only ever test membership.
    """

    everything: bool = False
    syllabus_body: bool = False
    course_settings: bool = False
    ids: dict[str, frozenset[int] | IdSet] = field(default_factory=dict)

    def of(self, select_type: str) -> frozenset[int] | IdSet:
        return self.ids.get(select_type, frozenset())

    def has(self, select_type: str, item_id: int | None) -> bool:
        return item_id is not None and item_id in self.ids.get(select_type, ())

    def is_empty(self) -> bool:
        return not any(self.ids.values()) and not self.syllabus_body


# --------------------------------------------------------------------- snapshot


class ItemGone(LookupError):
    """An item of the snapshot's outline was deleted, or hidden from the export's user, after
    the snapshot was taken; the exporter skips it and says so."""


#: What a snapshot's outline holds without HTML (and questions): :meth:`CourseSnapshot.load`.
OUTLINED_TYPES = (Page, Assignment, DiscussionTopic, CalendarEvent, Quiz)
#: How messages name them.
OUTLINED_NAMES = {
    Page: "page",
    Assignment: "assignment",
    DiscussionTopic: "discussion topic",
    CalendarEvent: "calendar event",
    Quiz: "quiz",
}


@dataclass
class CourseSnapshot:
    """Everything an exporter may read about one course, as one user sees it: what an exporter
    reads (an importer writes a ``store.CourseBundle``, the whole course for nobody in
    particular; the content lists share their names with it).

    Lists hold only what the viewer may see (for a student: published, not
    locked, not hidden).  ``selection`` says which of those go into the export.

    An export's snapshot holds outlines: pages, assignments, topics, events and quizzes
    without their HTML or questions, and a ``loader`` that reads one whole when it is
    written (:meth:`load`), so an export never holds every body and question at once.
    """

    course: Course
    viewer: User
    viewer_role: Role | None
    exported_at: datetime
    folders: list[Folder] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    assignment_groups: list[AssignmentGroup] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    rubrics: list[Rubric] = field(default_factory=list)
    quizzes: list[Quiz] = field(default_factory=list)
    discussion_topics: list[DiscussionTopic] = field(default_factory=list)  # incl. announcements
    calendar_events: list[CalendarEvent] = field(default_factory=list)
    modules: list[Module] = field(default_factory=list)
    selection: Selection = field(default_factory=Selection)
    #: ``loader(cls, id)``: one whole item, or None when it is gone (None: lists are whole)
    loader: Callable[[type, int], Any] | None = field(default=None, repr=False, compare=False)

    def load(self, obj: Any) -> Any:
        """``obj`` whole: with its HTML and, for a quiz, its questions.

        Raises :class:`ItemGone` when the item was deleted after the snapshot was taken, or
        (the loader of a non-admin's export checks) hidden from students since.
        """
        if self.loader is None or not isinstance(obj, OUTLINED_TYPES):
            return obj
        whole = self.loader(type(obj), obj.id)
        if whole is None:
            raise ItemGone(f"{OUTLINED_NAMES[type(obj)]} {obj.id} was deleted during the export")
        return whole

    def loaded(self, objs: Iterable[Any]) -> Iterator[Any]:
        """Each of ``objs`` whole, one at a time; items deleted meanwhile are left out."""
        for obj in objs:
            try:
                yield self.load(obj)
            except ItemGone:
                continue

    # -- lookups
    def folder(self, folder_id: int) -> Folder | None:
        return self._lookup("folders", folder_id)

    def file(self, file_id: int) -> File | None:
        return self._lookup("files", file_id)

    def page(self, page_id: int) -> Page | None:
        return self._lookup("pages", page_id)

    def page_by_url(self, url: str) -> Page | None:
        return self._lookup("pages", url, "url")

    def page_id_by_url(self, url: str) -> int | None:
        """:meth:`page_by_url`'s id (a walked list reads the id alone)."""
        if hasattr(self.pages, "id_of"):
            return self.pages.id_of(url=url)
        page = self.page_by_url(url)
        return page.id if page is not None else None

    def assignment(self, assignment_id: int) -> Assignment | None:
        return self._lookup("assignments", assignment_id)

    def quiz(self, quiz_id: int) -> Quiz | None:
        return self._lookup("quizzes", quiz_id)

    def topic(self, topic_id: int) -> DiscussionTopic | None:
        return self._lookup("discussion_topics", topic_id)

    def root_folder(self) -> Folder | None:
        return next((f for f in self.folders if f.parent_id is None), None)

    def file_path(self, file: File) -> str:
        """The file's path below the root folder, e.g. ``docs/week 1/notes.pdf``."""
        folder = self.folder(file.folder_id)
        below = folder.path_below_root if folder else ""
        return f"{below}/{file.display_name}" if below else file.display_name

    # -- selected content, in export order (walked when read, when the snapshot's lists are)
    def selected_pages(self) -> Sequence[Page]:
        return _chosen(
            self.pages, lambda p: self.selection.has("wiki_pages", p.id), self._named("wiki_pages")
        )

    def selected_assignments(self) -> Sequence[Assignment]:
        return _chosen(
            self.assignments, lambda a: self.selection.has("assignments", a.id), self._named("assignments")
        )

    def selected_quizzes(self) -> Sequence[Quiz]:
        return _chosen(self.quizzes, lambda q: self.selection.has("quizzes", q.id), self._named("quizzes"))

    def selected_topics(self) -> Sequence[DiscussionTopic]:
        """Discussion topics and announcements (each checked under its own type)."""

        def chosen(t: DiscussionTopic) -> bool:
            kind = "announcements" if t.is_announcement else "discussion_topics"
            return self.selection.has(kind, t.id) or self.selection.has("discussion_topics", t.id)

        return _chosen(self.discussion_topics, chosen, self._named("discussion_topics", "announcements"))

    def selected_events(self) -> Sequence[CalendarEvent]:
        return _chosen(
            self.calendar_events,
            lambda e: self.selection.has("calendar_events", e.id),
            self._named("calendar_events"),
        )

    def selected_rubrics(self) -> list[Rubric]:
        return [r for r in self.rubrics if self.selection.has("rubrics", r.id)]

    def selected_modules(self) -> Sequence[Module]:
        return _chosen(
            self.modules,
            lambda m: self.selection.has("context_modules", m.id),
            self._named("context_modules"),
        )

    def selected_files(self) -> list[File]:
        return [f for f in self.files if self.selection.has("attachments", f.id)]

    def selected_folders(self) -> list[Folder]:
        return [f for f in self.folders if self.selection.has("folders", f.id)]

    def _named(self, *types: str) -> int:
        """How many items the selection names under ``types`` (a walked list's expected length)."""
        return len(frozenset().union(*(self.selection.of(t) for t in types)))

    def _lookup(self, name: str, value: Any, field_name: str = "id") -> Any | None:
        """The item of list ``name`` whose ``field_name`` is ``value``: asked of a walked list
        (one row read), looked up in an index made once for a list held in memory."""
        items = getattr(self, name)
        if hasattr(items, "find"):
            return items.find(**{field_name: value}) if value is not None else None
        cache = self.__dict__.setdefault("_indexes", {})
        if (name, field_name) not in cache:
            cache[name, field_name] = {getattr(obj, field_name): obj for obj in items}
        return cache[name, field_name].get(value)


class Chosen:
    """The items of a walked list that pass a test, walked in turn: iterable again, countable
    (by walking), true when one passes.  Holds no item.  ``expected`` is how many a walk should
    give (what the selection names), for progress, known without walking."""

    def __init__(self, items: Iterable[Any], test: Callable[[Any], bool], expected: int | None = None):
        self.items, self.test, self._expected = items, test, expected

    @property
    def expected(self) -> int:
        return len(self) if self._expected is None else self._expected

    def __iter__(self) -> Iterator[Any]:
        return (obj for obj in self.items if self.test(obj))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None

    def __getitem__(self, n: int) -> Any:
        """The ``n``-th item (a walk to it), or a slice of them as a list."""
        return walked_item(self, n)


def walked_item(items: Iterable[Any], n: int | slice) -> Any:
    """``items[n]`` of a list walked rather than held (a slice gives a list)."""
    if isinstance(n, slice):
        return list(items)[n]
    if n < 0:
        return list(items)[n]
    for i, obj in enumerate(items):
        if i == n:
            return obj
    raise IndexError(n)


def _chosen(items: Any, test: Callable[[Any], bool], expected: int | None = None) -> Sequence[Any]:
    """The items that pass ``test``: a list from a list, a :class:`Chosen` from a walked list."""
    if isinstance(items, list):
        return [obj for obj in items if test(obj)]
    return Chosen(items, test, expected)  # type: ignore[return-value]


def expected_count(items: Any) -> int:
    """How many items a walk of ``items`` gives, for progress: a list's length, a walked
    selection's expected count (not a walk)."""
    return items.expected if isinstance(items, Chosen) else len(items)


# ------------------------------------------------------------------ export output


class ExportCanceled(Exception):
    """Raised from a progress callback when the user canceled the job (its Progress ``failed``
    while the job runs, or the runner stopping it); the message is the cancel's, or empty."""


#: ``progress(percent, message)`` — percent 0..100 of *this* exporter's work.
#: It may raise :class:`ExportCanceled`; exporters let that propagate.
ProgressFn = Callable[[float, "str | None"], None]


@dataclass
class OutputFile:
    """One finished file an exporter wrote into its work directory."""

    path: Path
    content_type: str
    #: its SHA-256 (hex) when the writer took it as it wrote; else the engine reads the file for it
    sha256: str | None = None


@dataclass
class ExportResult:
    """What an exporter returns: its files and the per-item problems it met.

    Warnings never abort an export (Canvas piles them into ``settings[:errors]``);
    the engine records them on the export's ``errors`` list.
    """

    files: list[OutputFile]
    warnings: list[str] = field(default_factory=list)


def no_progress(percent: float, message: str | None = None) -> None:
    """A progress callback that ignores everything (tests, previews)."""


def ids_of(objs: Iterable[Any]) -> frozenset[int]:
    return frozenset(o.id for o in objs)


# ------------------------------------------------------------------ export records


@dataclass(frozen=True)
class Attachment:
    """A finished export file (Canvas's Attachment whose context is the export)."""

    id: int
    context_type: str  # ContentExport | EpubExport
    context_id: int
    uuid: str
    display_name: str
    filename: str
    content_type: str
    size: int
    sha256: str
    path: Path
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Progress:
    id: int
    context_type: str
    context_id: int | None
    user_id: int | None
    tag: str
    completion: float
    workflow_state: ProgressState
    message: str | None
    created_at: datetime
    updated_at: datetime
    results: dict[str, Any] | None = None

    @property
    def pending(self) -> bool:
        return self.workflow_state in PROGRESS_RUNNING


@dataclass(frozen=True)
class ContentExport:
    id: int
    context_type: ContextType
    context_id: int
    user_id: int
    export_type: str
    workflow_state: ContentExportState
    created_at: datetime
    updated_at: datetime
    settings: dict[str, Any] = field(default_factory=dict)
    attachment_id: int | None = None
    progress_id: int | None = None
    epub_export_id: int | None = None
    runner_pid: int | None = None
    heartbeat_at: datetime | None = None

    @property
    def errors(self) -> list[str]:
        return list(self.settings.get("errors", []))

    @property
    def running(self) -> bool:
        return self.workflow_state in CONTENT_EXPORT_RUNNING


@dataclass(frozen=True)
class EpubExport:
    id: int
    course_id: int
    user_id: int
    workflow_state: EpubExportState
    created_at: datetime
    updated_at: datetime
    content_export_id: int | None = None
    progress_id: int | None = None
    epub_attachment_id: int | None = None
    zip_attachment_id: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    runner_pid: int | None = None
    heartbeat_at: datetime | None = None

    @property
    def errors(self) -> list[str]:
        return list(self.settings.get("errors", []))

    @property
    def running(self) -> bool:
        return self.workflow_state in EPUB_EXPORT_RUNNING


@dataclass(frozen=True)
class Notification:
    id: int
    user_id: int
    name: str  # content_export_finished | content_export_failed
    context_type: str
    context_id: int
    subject: str
    body: str
    created_at: datetime
    read: bool = False


# ---------------------------------------------------------------------- imports


@dataclass
class ImportCount:
    """What an import did with one select type: how many items the package held, how many the
    library kept, and why the others (or parts of the kept ones) were not."""

    read: int = 0
    kept: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """The result of importing one package (cartridge, QTI zip or course folder) into the library.

    ``types`` is keyed by select type (``vocab.SELECT_VOCAB`` keys: ``wiki_pages``,
    ``quizzes``…); ``warnings`` holds every warning in the order met, those of a type and
    those of the package as a whole (a byte-order mark, a file the manifest does not list).
    """

    course_id: int
    name: str
    source: str  # what the package was, in words: "Common Cartridge 1.3 (Canvas)", "QTI 1.2", "course folder"
    types: dict[str, ImportCount] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def count(self, select_type: str) -> ImportCount:
        return self.types.setdefault(select_type, ImportCount())

    def warn(self, message: str, select_type: str | None = None) -> None:
        """Record a warning, under its select type when it has one."""
        self.warnings.append(message)
        if select_type is not None:
            self.count(select_type).warnings.append(message)

    def as_json(self) -> dict[str, Any]:
        """The ``import`` key of ``import --json``: by select type, plus every warning."""
        return {
            "source": self.source,
            **{
                k: {"read": c.read, "kept": c.kept, "warnings": list(c.warnings)}
                for k, c in self.types.items()
            },
            "warnings": list(self.warnings),
        }


# ---------------------------------------------------------------------- bulk runs


@dataclass(frozen=True)
class BulkRun:
    """One bulk run: many (course, format) items exported into one folder (``bulk``)."""

    id: int
    source: str  # "library", "packages", or "canvas:<base url>"
    out_dir: str
    formats: tuple[str, ...]
    workflow_state: BulkItemState
    created_at: datetime
    updated_at: datetime
    settings: dict[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class BulkItem:
    """One item of a bulk run: a course (or a package, before it is imported) in one format."""

    id: int
    run_id: int
    format: str
    workflow_state: BulkItemState
    updated_at: datetime
    course_id: int | None = None
    course_code: str = ""
    package: str = ""  # the package it came from (``bulk --packages``)
    attempts: int = 0
    path: str | None = None
    size: int | None = None
    sha256: str | None = None
    warnings: tuple[str, ...] = ()
    error: str | None = None
    ran_on: str | None = None  # "local", or the address of the Dask worker that built it
    remote_export: str | None = None  # Canvas: the export made for it ("content:ID", "epub:ID")

    def record(self) -> dict[str, Any]:
        """The item as ``report.csv`` / ``report.json`` and ``bulk show --json`` give it."""
        return {
            "id": self.id,
            "course_id": self.course_id,
            "course_code": self.course_code,
            "package": self.package,
            "format": self.format,
            "state": str(self.workflow_state),
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "attempts": self.attempts,
            "error": self.error,
            "warnings": list(self.warnings),
            "ran_on": self.ran_on,
        }
