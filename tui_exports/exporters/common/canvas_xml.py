"""Canvas-namespace (``cccv1p0``) pieces used by more than one resource.

Canvas embeds the same ``<assignment>`` block in ``assignment_settings.xml``, in a
graded topic's ``topicMeta`` and in a graded quiz's ``assessment_meta.xml``; it is
built here once, in Canvas's element order.
"""

from __future__ import annotations

from lxml import etree

from ...model import GRADED_QUIZ_TYPES, Assignment, CourseSnapshot, Quiz, quiz_assignment
from .ids import mig_id
from .xmlutil import canvas


def group_ref(snapshot: CourseSnapshot, group_id: int | None) -> str | None:
    """The assignment group's migration id, when that group is in the snapshot."""
    if group_id is None or not any(g.id == group_id for g in snapshot.assignment_groups):
        return None
    return mig_id("assignment_groups", group_id)


def assignment_for_quiz(snapshot: CourseSnapshot, quiz: Quiz) -> Assignment | None:
    """A graded quiz's assignment; made up from the quiz when the snapshot lacks it."""
    if quiz.quiz_type not in GRADED_QUIZ_TYPES:
        return None
    found = snapshot.assignment(quiz.assignment_id) if quiz.assignment_id is not None else None
    if found is not None:
        return found
    return quiz_assignment(quiz, quiz.assignment_id if quiz.assignment_id is not None else -quiz.id)


def fill_assignment(el: etree._Element, snapshot: CourseSnapshot, a: Assignment) -> etree._Element:
    """Append Canvas's assignment fields to ``el`` (an ``<assignment identifier>`` element)."""
    b = canvas
    # None gives an empty element, as Canvas writes <due_at/>
    b.fields(
        el,
        [
            ("title", a.title),
            ("due_at", a.due_at),
            ("lock_at", a.lock_at),
            ("unlock_at", a.unlock_at),
            ("module_locked", False),
        ],
    )
    ref = group_ref(snapshot, a.assignment_group_id)
    if ref:
        b.sub(el, "assignment_group_identifierref", ref)
    b.sub(el, "workflow_state", "published" if a.published else "unpublished")
    if a.rubric_id is not None and any(r.id == a.rubric_id for r in snapshot.rubrics):
        b.fields(
            el,
            [
                ("rubric_identifierref", mig_id("rubrics", a.rubric_id)),
                ("rubric_use_for_grading", True),
                ("rubric_hide_points", False),
                ("rubric_hide_outcome_results", False),
                ("rubric_hide_score_total", False),
            ],
        )
    b.sub(el, "assignment_overrides")
    if a.quiz_id is not None:
        b.sub(el, "quiz_identifierref", mig_id("quizzes", a.quiz_id))
    if a.allowed_extensions:
        b.sub(el, "allowed_extensions", ",".join(a.allowed_extensions))
    b.fields(
        el,
        [
            ("has_group_category", False),
            ("points_possible", float(a.points_possible) if a.points_possible is not None else None),
            ("grading_type", a.grading_type),
            ("all_day", False),
            ("submission_types", ",".join(a.submission_types)),
            ("position", a.position),
            ("turnitin_enabled", False),
            ("vericite_enabled", False),
            ("peer_review_count", 0),
            ("peer_reviews", a.peer_reviews),
            ("automatic_peer_reviews", False),
            ("anonymous_peer_reviews", False),
            ("grade_group_students_individually", False),
            ("freeze_on_copy", False),
            ("omit_from_final_grade", False),
            ("intra_group_peer_reviews", False),
            ("only_visible_to_overrides", False),
            ("post_to_sis", False),
            ("moderated_grading", False),
            ("grader_count", 0),
            ("grader_comments_visible_to_graders", True),
            ("anonymous_grading", False),
            ("graders_anonymous_to_graders", False),
            ("grader_names_visible_to_final_grader", True),
            ("anonymous_instructor_annotations", False),
        ],
    )
    return el


def embedded_assignment(parent: etree._Element, snapshot: CourseSnapshot, a: Assignment) -> etree._Element:
    """``<assignment identifier=mig>`` inside topicMeta or assessment_meta."""
    el = canvas.sub(parent, "assignment", identifier=mig_id("assignments", a.id))
    return fill_assignment(el, snapshot, a)
