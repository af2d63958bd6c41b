"""What goes where: the book's chapters, their files and every anchor (spec §3.4).

Content is what Canvas's ePub shows the requesting user: published pages, assignments,
discussion topics and quizzes, and announcements already posted.  The chapters are the
title page, the table of contents, the syllabus and the announcements, then either

* one chapter per published module (the default when the course has modules): each
  published module item merged with its content; items of a module that is still locked
  (``unlock_at`` after the export) keep their title but lose their link and body; content
  in no module is left out, and so is its syllabus line; or
* one chapter per content type (course setting ``organize_epub_by_content_type``, or no
  modules): Assignments, Discussion Topics, Quizzes, Wiki Pages.

Long chapters are cut into parts (``pages.xhtml``, ``pages-2.xhtml``…) so that no
document grows past what small reading systems handle; the plan knows every item's
part before anything is rendered, so links can point forward.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from tui_exports.exporters.common.ids import mig_id
from tui_exports.exporters.common.links import CanvasLink
from tui_exports.model import (
    GRADED_QUIZ_TYPES,
    Assignment,
    CourseSnapshot,
    DiscussionTopic,
    ItemGone,
    Module,
    ModuleItem,
    ModuleItemType,
    Page,
    Quiz,
)

#: A part holds at most this many characters of course HTML, or this many items.
PART_CHARS = 200_000
PART_ITEMS = 100


#: Module item content type → (link kind, select type for anchors).
_ITEM_KINDS = {
    ModuleItemType.PAGE: "page",
    ModuleItemType.ASSIGNMENT: "assignment",
    ModuleItemType.QUIZ: "quiz",
    ModuleItemType.DISCUSSION: "discussion_topic",
    ModuleItemType.FILE: "file",
}
_SELECT_TYPE = {
    "page": "wiki_pages",
    "assignment": "assignments",
    "quiz": "quizzes",
    "discussion_topic": "discussion_topics",
    "announcement": "announcements",
}


@dataclass(slots=True)
class Entry:
    """One item of a chapter: rendered as a section (when it has an anchor) and listed."""

    kind: str  # page | assignment | quiz | discussion_topic | announcement | file | external_url | subheader | title
    title: str
    anchor: str | None = None
    obj: Any = None
    item: ModuleItem | None = None
    href: str = ""  # filled by the plan: "<part file>#<anchor>"


@dataclass
class Part:
    file: str
    entries: list[Entry] = field(default_factory=list)


@dataclass
class Chapter:
    key: str  # file stem and h1 id
    title: str
    kind: str  # title | toc | syllabus | announcements | module | type
    parts: list[Part]
    module: Module | None = None
    locked_until: datetime | None = None

    @property
    def file(self) -> str:
        return self.parts[0].file

    @property
    def entries(self) -> list[Entry]:
        return [e for p in self.parts for e in p.entries]


@dataclass
class SyllabusEntry:
    title: str
    due_at: datetime | None
    href: str | None
    kind: str


@dataclass
class Content:
    """The published content of the snapshot, as the ePub shows it."""

    pages: list[Page]
    assignments: list[Assignment]  # stand-alone assignments (not a quiz's or a topic's)
    quizzes: list[Quiz]
    topics: list[DiscussionTopic]
    announcements: list[DiscussionTopic]
    topic_assignment: dict[int, Assignment]  # graded discussions
    quiz_assignment: dict[int, Assignment]
    files: dict[int, Any]

    def __post_init__(self) -> None:
        self._by_id = {
            "page": {o.id: o for o in self.pages},
            "assignment": {o.id: o for o in self.assignments},
            "quiz": {o.id: o for o in self.quizzes},
            "discussion_topic": {o.id: o for o in self.topics},
            "file": self.files,
        }
        #: assignment id → the (kind, id) of the quiz or topic it belongs to
        self.assignment_owner = {a.id: ("quiz", q) for q, a in self.quiz_assignment.items()}
        self.assignment_owner.update(
            {a.id: ("discussion_topic", t) for t, a in self.topic_assignment.items()}
        )

    def lookup(self, kind: str | None, obj_id: int | None) -> Any:
        return self._by_id.get(kind or "", {}).get(obj_id)


def _selected(snapshot: CourseSnapshot, name: str) -> list[Any]:
    """``snapshot.selected_<name>()``; an empty selection means the whole course (an ePub is
    always a whole-course book, Canvas builds it from ``everything: true``)."""
    if snapshot.selection.is_empty():
        return list(getattr(snapshot, {"topics": "discussion_topics"}.get(name, name)))
    return getattr(snapshot, f"selected_{name}")()


def visible_content(snapshot: CourseSnapshot) -> Content:
    now = _utc(snapshot.exported_at)
    all_assignments = [a for a in _selected(snapshot, "assignments") if a.published]
    quizzes = sorted(
        (q for q in _selected(snapshot, "quizzes") if q.published), key=lambda q: (q.title.casefold(), q.id)
    )
    topics = [t for t in _selected(snapshot, "topics") if t.published]
    by_id = {a.id: a for a in all_assignments}
    topic_assignment = {a.discussion_topic_id: a for a in all_assignments if a.discussion_topic_id}
    topic_assignment.update({t.id: by_id[t.assignment_id] for t in topics if t.assignment_id in by_id})
    quiz_assignment = {a.quiz_id: a for a in all_assignments if a.quiz_id}
    quiz_assignment.update({q.id: by_id[q.assignment_id] for q in quizzes if q.assignment_id in by_id})
    owned = {a.id for a in topic_assignment.values()} | {a.id for a in quiz_assignment.values()}
    group_position = {g.id: g.position for g in snapshot.assignment_groups}
    return Content(
        pages=sorted(
            (p for p in _selected(snapshot, "pages") if p.published), key=lambda p: (p.title.casefold(), p.id)
        ),
        assignments=sorted(
            (a for a in all_assignments if a.id not in owned),
            key=lambda a: (
                group_position.get(a.assignment_group_id, 0),
                a.position,
                a.title.casefold(),
                a.id,
            ),
        ),
        quizzes=quizzes,
        topics=sorted(
            (t for t in topics if not t.is_announcement), key=lambda t: (t.position, t.title.casefold(), t.id)
        ),
        announcements=sorted(
            (
                t
                for t in topics
                if t.is_announcement and (t.delayed_post_at is None or _utc(t.delayed_post_at) <= now)
            ),
            key=lambda t: (_utc(t.posted_at or t.delayed_post_at or datetime.min.replace(tzinfo=UTC)), t.id),
            reverse=True,
        ),
        topic_assignment=topic_assignment,
        quiz_assignment=quiz_assignment,
        files={f.id: f for f in _selected(snapshot, "files")},
    )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ------------------------------------------------------------------ the plan


@dataclass
class Plan:
    chapters: list[Chapter]
    by_content_type: bool
    content: Content
    anchors: dict[tuple[str, int], str]  # (link kind, id) → "file#anchor"
    syllabus: list[SyllabusEntry]
    page_id: Callable[[str], int | None]  # a page's id by its url (an indexed read, not a dict)

    def content_href(self, link: CanvasLink) -> str | None:
        """Where a Canvas link to course content lands in the book (None: not in the book)."""
        kind, target = link.kind, link.target_id
        if kind == "page":
            target = (self.page_id(link.target) if link.target else None) or target
        if kind == "assignment" and target in self.content.assignment_owner:
            kind, target = self.content.assignment_owner[target]
        return self.anchors.get((kind, target)) if target is not None else None

    @property
    def outline(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """(chapter title, chapter href, [(item title, item href)]) in reading order."""
        return [(c.title, c.file, [(e.title, e.href) for e in c.entries if e.anchor]) for c in self.chapters]


def build_plan(snapshot: CourseSnapshot) -> Plan:
    content = visible_content(snapshot)
    modules = sorted((m for m in snapshot.modules if m.published), key=lambda m: (m.position, m.id))
    if not snapshot.selection.is_empty():
        modules = [m for m in modules if snapshot.selection.has("context_modules", m.id)]
    by_type = snapshot.course.organize_epub_by_content_type or not modules
    chapters = [
        Chapter("title", "Title Page", "title", [Part("title.xhtml")]),
        Chapter("toc", "Table of Contents", "toc", [Part("toc.xhtml")]),
        Chapter("syllabus", "Syllabus", "syllabus", [Part("syllabus.xhtml")]),
        _chapter(
            "announcements",
            "Announcements",
            "announcements",
            [Entry("announcement", t.title, mig_id("announcements", t.id), t) for t in content.announcements],
            snapshot,
        ),
    ]
    if by_type:
        for key, title, kind, objs in (
            ("assignments", "Assignments", "assignment", content.assignments),
            ("topics", "Discussion Topics", "discussion_topic", content.topics),
            ("quizzes", "Quizzes", "quiz", content.quizzes),
            ("pages", "Wiki Pages", "page", content.pages),
        ):
            entries = [Entry(kind, o.title, mig_id(_SELECT_TYPE[kind], o.id), o) for o in objs]
            chapters.append(_chapter(key, title, "type", entries, snapshot))
    else:
        now = _utc(snapshot.exported_at)
        for module in modules:
            locked = module.unlock_at if module.unlock_at and _utc(module.unlock_at) > now else None
            entries = [e for e in (_module_entry(i, content, locked) for i in _items(module)) if e]
            chapter = _chapter(mig_id("context_modules", module.id), module.name, "module", entries, snapshot)
            chapter.module, chapter.locked_until = module, locked
            chapters.append(chapter)

    anchors: dict[tuple[str, int], str] = {}
    for chapter in chapters:
        if chapter.kind == "module":
            anchors[("module", chapter.module.id)] = f"{chapter.file}#{chapter.key}"
        for part in chapter.parts:
            for entry in part.entries:
                if not entry.anchor:
                    continue
                entry.href = f"{part.file}#{entry.anchor}"
                if entry.item is not None:
                    anchors[("module_item", entry.item.id)] = entry.href
                if entry.obj is not None and entry.kind != "file":
                    kind = "discussion_topic" if entry.kind == "announcement" else entry.kind
                    anchors.setdefault((kind, entry.obj.id), entry.href)
    if by_type:  # module item links land on the item's content
        for module in modules:
            for item in module.items:
                kind = _ITEM_KINDS.get(item.content_type)
                if (kind, item.content_id) in anchors:
                    anchors[("module_item", item.id)] = anchors[(kind, item.content_id)]
    in_modules = None
    if not by_type:
        in_modules = {(_ITEM_KINDS.get(i.content_type), i.content_id) for m in modules for i in _items(m)}
    return Plan(
        chapters=chapters,
        by_content_type=by_type,
        content=content,
        anchors=anchors,
        syllabus=_syllabus(content, anchors, in_modules),
        # pages link to the same few pages again and again: the last ones found are kept (ids),
        # as the cartridge's link rewriter keeps them
        page_id=lru_cache(maxsize=4096)(snapshot.page_id_by_url),
    )


def _items(module: Module) -> list[ModuleItem]:
    return sorted((i for i in module.items if i.published), key=lambda i: (i.position, i.id))


def _module_entry(item: ModuleItem, content: Content, locked: datetime | None) -> Entry | None:
    anchor = mig_id("content_tags", item.id)
    if item.content_type == ModuleItemType.SUB_HEADER:
        return Entry("subheader", item.title, item=item)
    if item.content_type == ModuleItemType.EXTERNAL_URL:
        return Entry("title" if locked else "external_url", item.title, None if locked else anchor, item=item)
    kind, content_id = _ITEM_KINDS.get(item.content_type), item.content_id
    if kind == "assignment" and content_id in content.assignment_owner:  # a quiz's or topic's assignment
        kind, content_id = content.assignment_owner[content_id]
    obj = content.lookup(kind, content_id)
    if obj is None:
        return None  # unpublished or not visible to this user
    title = item.title or getattr(obj, "title", "") or getattr(obj, "display_name", "")
    if locked:
        return Entry("title", title, item=item)
    return Entry(kind or "", title, anchor, obj, item)


def _weight(entry: Entry, snapshot: CourseSnapshot) -> int:
    """About how long the entry renders: its HTML (the item read whole just for this) and title."""
    obj = entry.obj
    try:
        obj = snapshot.load(obj)
    except ItemGone:  # deleted or hidden since the snapshot: rendered as its title and a note
        pass
    body = getattr(obj, "body", None) or getattr(obj, "description", None)
    return len(body or getattr(obj, "message", "") or "") + len(entry.title) + 400


def _chapter(key: str, title: str, kind: str, entries: list[Entry], snapshot: CourseSnapshot) -> Chapter:
    parts = [Part(f"{key}.xhtml")]
    size = 0
    for entry in entries:
        current = parts[-1]
        weight = _weight(entry, snapshot)
        if current.entries and (size + weight > PART_CHARS or len(current.entries) >= PART_ITEMS):
            parts.append(Part(f"{key}-{len(parts) + 1}.xhtml"))
            size = 0
        parts[-1].entries.append(entry)
        size += weight
    return Chapter(key, title, kind, parts)


def _syllabus(content: Content, anchors, in_modules) -> list[SyllabusEntry]:
    """Dated items (assignments, graded discussions and graded quizzes), by due date, undated last."""
    rows: list[tuple[str, int, str, datetime | None]] = []
    for a in content.assignments:
        rows.append(("assignment", a.id, a.title, a.due_at))
    for topic in content.topics:
        if topic.id in content.topic_assignment:
            rows.append(
                ("discussion_topic", topic.id, topic.title, content.topic_assignment[topic.id].due_at)
            )
    for quiz in content.quizzes:
        if quiz.quiz_type in GRADED_QUIZ_TYPES:
            linked = content.quiz_assignment.get(quiz.id)
            rows.append(("quiz", quiz.id, quiz.title, quiz.due_at or (linked.due_at if linked else None)))
    if in_modules is not None:
        rows = [r for r in rows if (r[0], r[1]) in in_modules]
    rows.sort(key=lambda r: (r[3] is None, _utc(r[3]) if r[3] else datetime.min, r[2].casefold(), r[1]))
    return [SyllabusEntry(title, due, anchors.get((kind, obj_id)), kind) for kind, obj_id, title, due in rows]
