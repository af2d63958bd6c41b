"""The Canvas-only files under ``course_settings/`` (spec §4.2, §4.5).

They carry what IMS CC has no place for (course settings, module metadata, grading
groups, rubrics, events, file visibility) in Canvas's ``cccv1p0`` namespace, so a
Canvas import restores the course exactly; other LMSs ignore them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from lxml import etree

from ...model import (
    AssignmentGroup,
    CalendarEvent,
    CourseSnapshot,
    Folder,
    Module,
    ModuleItem,
    ModuleItemType,
    Rubric,
)
from ..common.ids import mig_id
from ..common.web_resources import PlannedFile
from ..common.xmlutil import CANVAS_NS, TextBuilder, canvas, canvas_root, render_child

#: module_meta.xml's modules are written as text
canvas_text = TextBuilder(CANVAS_NS)

_DROPPED = object()  # an item the package left out (``item_refs.get``'s default)

CANVAS_EXPORT_FLAG = (
    "Q: What did the panda say when he was forced out of his natural habitat?\nA: This is un-BEAR-able"
)

#: Canvas licence id → (readable name, url) for the manifest's LOM rights
LICENSES = {
    "private": ("Private (Copyrighted)", "http://en.wikipedia.org/wiki/Copyright"),
    "public_domain": ("Public Domain", "http://en.wikipedia.org/wiki/Public_domain"),
    "cc_by": ("CC Attribution", "http://creativecommons.org/licenses/by/4.0"),
    "cc_by_sa": ("CC Attribution Share Alike", "http://creativecommons.org/licenses/by-sa/4.0"),
    "cc_by_nc": ("CC Attribution Non-Commercial", "http://creativecommons.org/licenses/by-nc/4.0"),
    "cc_by_nc_sa": (
        "CC Attribution Non-Commercial Share Alike",
        "http://creativecommons.org/licenses/by-nc-sa/4.0",
    ),
    "cc_by_nd": ("CC Attribution No Derivatives", "http://creativecommons.org/licenses/by-nd/4.0"),
    "cc_by_nc_nd": (
        "CC Attribution Non-Commercial No Derivatives",
        "http://creativecommons.org/licenses/by-nc-nd/4.0",
    ),
}


def course_settings(snapshot: CourseSnapshot) -> etree._Element:
    c = snapshot.course
    root = canvas_root("course", identifier=mig_id("courses", c.id))
    canvas.fields(
        root,
        [
            ("title", c.name),
            ("course_code", c.course_code),
            ("start_at", c.start_at),
            ("conclude_at", c.end_at),
            ("is_public", False),
            ("allow_student_wiki_edits", False),
            ("allow_student_forum_attachments", False),
            ("lock_all_announcements", False),
            ("allow_student_organized_groups", True),
            ("default_view", c.default_view),
            ("license", c.license),
            ("locale", c.locale),
            ("time_zone", c.time_zone),
            ("organize_epub_by_content_type", c.organize_epub_by_content_type),
            ("restrict_student_future_view", False),
            ("restrict_student_past_view", False),
            ("grading_standard_enabled", False),
        ],
    )
    return root


def assignment_groups(groups: Iterable[AssignmentGroup]) -> etree._Element:
    root = canvas_root("assignmentGroups")
    for g in groups:
        el = canvas.sub(root, "assignmentGroup", identifier=mig_id("assignment_groups", g.id))
        canvas.fields(
            el, [("title", g.name), ("position", g.position), ("group_weight", float(g.group_weight))]
        )
        rules = [
            (kind, n) for kind, n in (("drop_lowest", g.drop_lowest), ("drop_highest", g.drop_highest)) if n
        ]
        if rules:
            node = canvas.sub(el, "rules")
            for kind, n in rules:
                canvas.fields(canvas.sub(node, "rule"), [("drop_type", kind), ("drop_count", n)])
    return root


def rubrics(items: Iterable[Rubric]) -> etree._Element:
    root = canvas_root("rubrics")
    for r in items:
        el = canvas.sub(root, "rubric", identifier=mig_id("rubrics", r.id))
        canvas.fields(
            el,
            [
                ("read_only", False),
                ("title", r.title),
                ("reusable", False),
                ("public", False),
                ("points_possible", float(r.points_possible)),
                ("hide_score_total", False),
                ("free_form_criterion_comments", r.free_form_criterion_comments),
            ],
        )
        criteria = canvas.sub(el, "criteria")
        for c in r.criteria:
            node = canvas.sub(criteria, "criterion")
            canvas.fields(
                node, [("criterion_id", c.id), ("points", float(c.points)), ("description", c.description)]
            )
            if c.long_description:
                canvas.sub(node, "long_description", c.long_description)
            ratings = canvas.sub(node, "ratings")
            for rating in c.ratings:
                rn = canvas.sub(ratings, "rating")
                canvas.fields(rn, [("description", rating.description)])
                if rating.long_description:
                    canvas.sub(rn, "long_description", rating.long_description)
                canvas.fields(
                    rn, [("points", float(rating.points)), ("criterion_id", c.id), ("id", rating.id)]
                )
    return root


def events(items: Iterable[CalendarEvent], html) -> etree._Element:
    """``events.xml``; ``html`` rewrites each description (it may raise)."""
    root = canvas_root("events")
    for e in items:
        el = canvas.sub(root, "event", identifier=mig_id("calendar_events", e.id))
        canvas.fields(
            el,
            [
                ("title", e.title),
                ("description", html(e.description)),
                ("start_at", e.start_at),
                ("end_at", e.end_at),
                ("all_day", e.all_day),
            ],
        )
        if e.all_day and e.start_at:
            canvas.sub(el, "all_day_date", e.start_at.date().isoformat())
        if e.location_name:
            canvas.sub(el, "location_name", e.location_name)
    return root


def files_meta(
    snapshot: CourseSnapshot, written: list[PlannedFile], folders: Iterable[Folder]
) -> etree._Element:
    """Folders and files whose visibility or name an IMS package cannot express."""
    root = canvas_root("fileMeta")
    restricted = [
        f for f in folders if f.parent_id is not None and (f.hidden or f.locked or f.lock_at or f.unlock_at)
    ]
    if restricted:
        node = canvas.sub(root, "folders")
        for f in restricted:
            el = canvas.sub(node, "folder", path=f.path_below_root)
            _restrictions(el, f)
    special = [
        p
        for p in written
        if p.file.hidden
        or p.file.locked
        or p.file.lock_at
        or p.file.unlock_at
        or p.file.display_name != p.file.filename
        or not p.path.endswith("/" + p.file.display_name)
    ]
    if special:
        node = canvas.sub(root, "files")
        for p in special:
            el = canvas.sub(node, "file", identifier=mig_id("attachments", p.file.id))
            _restrictions(el, p.file)
            canvas.sub(el, "display_name", p.file.display_name)
    return root


def _restrictions(el: etree._Element, obj) -> None:
    if obj.locked:
        canvas.sub(el, "locked", True)
    if obj.hidden:
        canvas.sub(el, "hidden", True)
    if obj.lock_at:
        canvas.sub(el, "lock_at", obj.lock_at)
    if obj.unlock_at:
        canvas.sub(el, "unlock_at", obj.unlock_at)


def module_meta(
    modules: Iterable[Module],
    item_refs: Mapping[ModuleItem, str | None],
    prerequisite_titles: dict[int, str],
) -> Iterator[bytes]:
    """``module_meta.xml``'s modules, each written in turn as a child of its root
    (``canvas_root("modules")``), for :meth:`PackageWriter.write_xml_streamed`: as text, one
    module at a time (a course's module items are its most numerous elements); ``item_refs``
    holds the exported module items (``item in item_refs``) and what each points at."""
    canvas = canvas_text
    for position, m in enumerate(modules, start=1):
        el = canvas.element("module", identifier=mig_id("context_modules", m.id))
        canvas.fields(
            el,
            [
                ("title", m.name),
                ("workflow_state", "active" if m.published else "unpublished"),
                ("position", m.position or position),
            ],
        )
        if m.unlock_at:
            canvas.sub(el, "unlock_at", m.unlock_at)
        canvas.fields(el, [("require_sequential_progress", m.require_sequential_progress), ("locked", False)])
        prereqs = [pid for pid in m.prerequisite_ids if pid in prerequisite_titles]
        if prereqs:
            node = canvas.sub(el, "prerequisites")
            for pid in prereqs:
                p = canvas.sub(node, "prerequisite", type="context_module")
                canvas.fields(
                    p,
                    [("title", prerequisite_titles[pid]), ("identifierref", mig_id("context_modules", pid))],
                )
        items = canvas.sub(el, "items")
        # each item's ref worked out once (``get``): an item kept with no ref has None
        kept = ((it, ref) for it in m.items if (ref := item_refs.get(it, _DROPPED)) is not _DROPPED)
        for i, (item, ref) in enumerate(kept, start=1):
            node = canvas.sub(items, "item", identifier=mig_id("content_tags", item.id))
            canvas.fields(
                node,
                [
                    ("content_type", item.content_type.value),
                    ("workflow_state", "active" if item.published else "unpublished"),
                    ("title", item.title),
                ],
            )
            if ref:
                canvas.sub(node, "identifierref", ref)
            if item.content_type == ModuleItemType.EXTERNAL_URL:
                canvas.sub(node, "url", item.url)
            canvas.fields(
                node, [("position", item.position or i), ("new_tab", item.new_tab), ("indent", item.indent)]
            )
        yield render_child(el, 1)
