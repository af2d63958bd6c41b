"""The documents of each quiz: the Canvas-flavour QTI, the CC-profile assessment and the
Canvas settings (``assessment_meta.xml``), for the QTI export and the cartridge (spec §5.4);
:mod:`.exporter` explains what each holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

from lxml import etree

from ...html_fragments import deep_warning
from ...model import (
    CourseSnapshot,
    Quiz,
    QuizGroup,
    QuizQuestion,
)
from ..common.canvas_xml import assignment_for_quiz, embedded_assignment, group_ref
from ..common.cc_links import file_ids
from ..common.ids import mig_id
from ..common.xmlutil import Node, canvas, canvas_root, clean, xml_document
from .items import CC_PROFILES, QTI_NS, ItemWriter, meta_field, q

FULL_QTI_LOCATION = f"{QTI_NS} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd"
CC_QTI_LOCATION = {
    "1.1.0": f"{QTI_NS} http://www.imsglobal.org/profile/cc/ccv1p1/ccv1p1_qtiasiv1p2p1_v1p0.xsd",
    "1.3.0": f"{QTI_NS} http://www.imsglobal.org/profile/cc/ccv1p3/ccv1p3_qtiasiv1p2p1_v1p0.xsd",
}
LOR = "associatedcontent/imscc_xmlv1p1/learning-application-resource"


def quiz_meta_id(quiz: Quiz) -> str:
    """The Canvas settings resource of a quiz: ``create_key(quiz, "canvas_")``."""
    return mig_id("quizzes", quiz.id, "canvas_")


def root_entries(quiz: Quiz) -> list[QuizQuestion | tuple[QuizGroup, list[QuizQuestion]]]:
    """Loose questions and groups (with their questions) in quiz order, as Canvas's root_entries."""
    groups = {g.id: g for g in quiz.groups}
    questions = sorted(quiz.questions, key=lambda x: (x.position, x.id))
    keyed: list[tuple[tuple[int, int, int], object]] = []
    for g in quiz.groups:
        keyed.append(((g.position, 1, g.id), (g, [x for x in questions if x.group_id == g.id])))
    for x in questions:
        if x.group_id not in groups:
            keyed.append(((x.position, 0, x.id), x))
    return [entry for _, entry in sorted(keyed, key=lambda kv: kv[0])]


def answers_allowed(snapshot: CourseSnapshot) -> bool:
    """Answer keys go only into packages built by course admins (the engine's admin view too)."""
    return snapshot.viewer_role is not None and snapshot.viewer_role.is_admin


class QuizDocuments:
    """Builds the documents of each quiz; questions whose HTML fails are skipped with a warning."""

    def __init__(
        self,
        snapshot: CourseSnapshot | None,
        html: Callable[[str], str],
        warnings: list[str],
        answers: bool | None = None,
    ):
        """``snapshot`` None (a render process: :meth:`meta` is the export's own): ``answers``
        says whether answer keys go in, as :func:`answers_allowed` of the export's snapshot."""
        self.snapshot = snapshot
        # a quiz's HTML is rewritten for both of its documents (CC and Canvas QTI): once is enough
        self.html = html = lru_cache(maxsize=1024)(html)
        self.warnings = warnings
        answers = answers_allowed(snapshot) if answers is None else answers
        self.canvas_items = ItemWriter(html, for_cc=False, with_answers=answers)
        self.cc_items = ItemWriter(html, for_cc=True, with_answers=answers)
        self._failed: set[int] = set()
        self._flattened: set[int] = set()  # questions warned of for HTML nested too deep
        # the item bodies of the quiz being written, shared by its two documents
        self._bodies: dict[int, list[Node]] = {}
        self._bodies_of: int | None = None

    # -- shared
    def _item(self, writer: ItemWriter, parent: Node, quiz: Quiz, question: QuizQuestion) -> bool:
        """Append ``question``'s item to ``parent``; False when it failed (now or before)."""
        if question.id in self._failed:
            return False
        if question.id not in self._flattened:
            what = f'question "{question.name}" (id {question.id}) of quiz "{quiz.title}"'
            warning = deep_warning(what, question.question_text)
            if warning:
                self._flattened.add(question.id)
                self.warnings.append(warning)
        if self._bodies_of != quiz.id:
            self._bodies, self._bodies_of = {}, quiz.id
        try:
            item = writer.start(question)
            body = self._bodies.get(question.id)
            if body is None:
                body = self._bodies[question.id] = writer.body(question)
                for node in body:  # written once per indentation level, not once per document
                    node.memo = {}
        except Exception as e:  # noqa: BLE001 — one bad question must not sink the quiz
            self._failed.add(question.id)
            self.warnings.append(
                f'Skipped question "{question.name}" (id {question.id}) of quiz "{quiz.title}": {e}'
            )
            return False
        item.children += body
        parent.children.append(item)
        return True

    def _assessment(self, quiz: Quiz, schema_location: str, cc: bool) -> tuple[Node, Node]:
        root = q.root("questestinterop", schema_location=schema_location)
        assessment = q.sub(root, "assessment", ident=mig_id("quizzes", quiz.id), title=clean(quiz.title))
        meta = q.sub(assessment, "qtimetadata")
        if cc:
            meta_field(meta, "cc_profile", "cc.exam.v0p1")
            meta_field(meta, "qmd_assessmenttype", "Examination")
            meta_field(meta, "qmd_scoretype", "Percentage")
        if quiz.time_limit:
            meta_field(meta, "qmd_timelimit", quiz.time_limit)
        meta_field(
            meta, "cc_maxattempts", "unlimited" if quiz.allowed_attempts == -1 else quiz.allowed_attempts
        )
        return root, q.sub(assessment, "section", ident="root_section")

    # -- Canvas flavour
    def canvas_qti(self, quiz: Quiz) -> bytes:
        """The Canvas-flavour QTI document of ``quiz``: every question type, groups as sections."""
        root, section = self._assessment(quiz, FULL_QTI_LOCATION, cc=False)
        for entry in root_entries(quiz):
            if isinstance(entry, tuple):
                group, questions = entry
                sub = q.sub(
                    section, "section", ident=mig_id("quiz_groups", group.id), title=clean(group.name)
                )
                selection = q.sub(q.sub(sub, "selection_ordering"), "selection")
                q.sub(selection, "selection_number", group.pick_count)
                ext = q.sub(selection, "selection_extension")
                q.sub(ext, "points_per_item", float(group.question_points))
                for question in questions:
                    self._item(self.canvas_items, sub, quiz, question)
            else:
                self._item(self.canvas_items, section, quiz, entry)
        return xml_document(root)

    # -- CC profile
    def cc_qti(self, quiz: Quiz, version: str) -> bytes | None:
        """The CC-profile assessment of ``quiz``, or None when none of its questions made it
        into one (a CC assessment needs an item)."""
        root, section = self._assessment(quiz, CC_QTI_LOCATION[version], cc=True)
        written = [self._item(self.cc_items, section, quiz, x) for x in self.cc_questions(quiz)]
        return xml_document(root) if any(written) else None

    @staticmethod
    def cc_questions(quiz: Quiz) -> list[QuizQuestion]:
        """The questions a CC assessment holds: supported types only, each group cut to its pick count."""
        out: list[QuizQuestion] = []
        for entry in root_entries(quiz):
            if isinstance(entry, tuple):
                group, questions = entry
                out += [x for x in questions if x.question_type in CC_PROFILES][: max(group.pick_count, 0)]
            elif entry.question_type in CC_PROFILES:
                out.append(entry)
        return out

    # -- settings
    def meta(self, quiz: Quiz) -> etree._Element:
        """``assessment_meta.xml``: the quiz settings in Canvas's order."""
        snapshot, b = self.snapshot, canvas
        root = canvas_root("quiz", identifier=mig_id("quizzes", quiz.id))
        b.sub(root, "title", quiz.title)
        b.sub(root, "description", self.html(quiz.description))
        b.set_fields(root, quiz, ("lock_at", "unlock_at", "due_at"))
        b.fields(
            root,
            [
                ("shuffle_answers", quiz.shuffle_answers),
                ("scoring_policy", quiz.scoring_policy),
                ("hide_results", quiz.hide_results or ""),
                ("quiz_type", quiz.quiz_type),
                (
                    "points_possible",
                    float(quiz.points_possible) if quiz.points_possible is not None else None,
                ),
                ("require_lockdown_browser", False),
                ("require_lockdown_browser_for_results", False),
                ("require_lockdown_browser_monitor", False),
                ("lockdown_browser_monitor_data", None),
            ],
        )
        if quiz.access_code and answers_allowed(snapshot):
            b.sub(root, "access_code", quiz.access_code)
        b.fields(
            root,
            [
                ("show_correct_answers", quiz.show_correct_answers),
                ("anonymous_submissions", False),
                ("could_be_locked", True),
            ],
        )
        if quiz.time_limit:
            b.sub(root, "time_limit", quiz.time_limit)
        b.fields(
            root,
            [
                ("allowed_attempts", quiz.allowed_attempts),
                ("one_question_at_a_time", quiz.one_question_at_a_time),
                ("cant_go_back", quiz.cant_go_back),
                ("available", quiz.published),
                ("one_time_results", False),
                ("show_correct_answers_last_attempt", False),
                ("only_visible_to_overrides", False),
                ("module_locked", False),
            ],
        )
        assignment = assignment_for_quiz(snapshot, quiz)
        if assignment is not None:
            embedded_assignment(root, snapshot, assignment)
        ref = group_ref(
            snapshot, quiz.assignment_group_id if assignment is None else assignment.assignment_group_id
        )
        if ref:
            b.sub(root, "assignment_group_identifierref", ref)
        b.sub(root, "assignment_overrides")
        return root


def quiz_html(quiz: Quiz) -> list[str]:
    """Every HTML string of a quiz (to find the files it links to)."""
    out = [quiz.description]
    for x in quiz.questions:
        out += [x.question_text, x.correct_comments, x.incorrect_comments, x.neutral_comments]
        out += [s for a in x.answers for s in (a.html, a.comments_html)]
    return [h for h in out if h]


def file_ids_in(htmls: Iterable[str], course_id: int, host: str | None) -> set[int]:
    """The ids of the course files ``htmls`` link to (HTML that does not parse is passed over)."""
    ids: set[int] = set()
    for html in htmls:
        try:
            ids |= file_ids(html, course_id, host)
        except Exception:  # noqa: BLE001 — unparsable HTML is reported when it is written
            continue
    return ids
