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

The plan holds no item: a chapter keeps the ids of its entries (module items, or content
in chapter order) in an array and its parts as ranges of them; a part's entries are read
again from the snapshot when it is rendered (:meth:`Plan.entries`).  Anchors are packed
(id, entry number) pairs (:class:`_Index`), and the outline that the table of contents, the
navigation document and the NCX list is spooled to a temporary file as the plan is made.
Memory stays flat whatever the number of items.
"""

from __future__ import annotations

import tempfile
import weakref
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import IO, Any, NamedTuple

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

from .xhtml import title_text

#: A part holds at most this many characters of course HTML, or this many items.
PART_CHARS = 200_000
PART_ITEMS = 100
#: Entries read from the snapshot at once while the plan is made.
BATCH = 500


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
#: link kind → the snapshot's list its items are in (chosen under the kind's select type)
_LISTS = {
    "page": "pages",
    "assignment": "assignments",
    "quiz": "quizzes",
    "discussion_topic": "discussion_topics",
    "announcement": "discussion_topics",
}
#: The anchor of an entry is ``mig_id(<one of these>, id)``: its code in the plan's arrays.
_ANCHOR_TYPES = (*_SELECT_TYPE.values(), "content_tags")
_ANCHOR_CODE = {t: n for n, t in enumerate(_ANCHOR_TYPES)}


@dataclass(slots=True)
class Entry:
    """One item of a chapter: rendered as a section (when it has an anchor) and listed."""

    kind: str  # page | assignment | quiz | discussion_topic | announcement | file | external_url | subheader | title
    title: str
    anchor: str | None = None
    obj: Any = None
    item: ModuleItem | None = None
    href: str = ""  # "<part file>#<anchor>"
    whole: bool = False  # obj was read whole (with its HTML): the renderer need not load it


@dataclass(eq=False)
class Part:
    file: str
    start: int = 0  # its entries: the chapter's ids[start:stop]
    stop: int = 0
    chapter: Chapter | None = field(default=None, repr=False)

    @property
    def entries(self) -> list[Entry]:
        assert self.chapter is not None
        index = next(n for n, p in enumerate(self.chapter.parts) if p is self)
        return list(self.chapter.plan.entries(self.chapter, index))


@dataclass(eq=False)
class Chapter:
    key: str  # file stem and h1 id
    title: str
    kind: str  # title | toc | syllabus | announcements | module | type
    parts: list[Part]
    module: Module | None = None  # without its items (they are read again when written)
    locked_until: datetime | None = None
    item_kind: str = ""  # a chapter of one content type: its link kind
    ids: array = field(default_factory=lambda: array("q"))  # module item ids, or content ids
    plan: Plan = field(default=None, repr=False)  # type: ignore[assignment]

    @property
    def file(self) -> str:
        return self.parts[0].file

    @property
    def entries(self) -> list[Entry]:
        return list(self.plan.entries(self))


class Graded(NamedTuple):
    """What the book shows of the assignment that grades a quiz or a topic (the object itself,
    held for each graded item of the course, would be ~1 KB)."""

    id: int
    due_at: datetime | None
    points_possible: float | None


@dataclass
class SyllabusEntry:
    title: str
    due_at: datetime | None
    href: str | None
    kind: str


class Content:
    """The published content of the snapshot, as the ePub shows it, read from the snapshot when
    asked: what is held is the graded assignments of quizzes and topics, and the order of each
    content type's chapter (ids) once a chapter by type asks for it."""

    def __init__(self, snapshot: CourseSnapshot):
        self.snapshot = snapshot
        self.now = _utc(snapshot.exported_at)
        quiz_refs = [(q.id, q.assignment_id) for q in self.walk("quiz") if q.assignment_id]
        topic_refs = [(t.id, t.assignment_id) for t in self._published("discussion_topic") if t.assignment_id]
        wanted = {a for _, a in quiz_refs} | {a for _, a in topic_refs}
        self.topic_assignment: dict[int, Graded] = {}
        self.quiz_assignment: dict[int, Graded] = {}
        by_id: dict[int, Graded] = {}
        for a in self._published("assignment"):
            if not (a.discussion_topic_id or a.quiz_id or a.id in wanted):
                continue
            graded = Graded(a.id, a.due_at, a.points_possible)
            if a.discussion_topic_id:
                self.topic_assignment[a.discussion_topic_id] = graded
            if a.quiz_id:
                self.quiz_assignment[a.quiz_id] = graded
            if a.id in wanted:
                by_id[a.id] = graded
        self.topic_assignment.update({t: by_id[a] for t, a in topic_refs if a in by_id})
        self.quiz_assignment.update({q: by_id[a] for q, a in quiz_refs if a in by_id})
        #: assignment id → the (kind, id) of the quiz or topic it belongs to
        self.assignment_owner = {a.id: ("quiz", q) for q, a in self.quiz_assignment.items()}
        self.assignment_owner.update(
            {a.id: ("discussion_topic", t) for t, a in self.topic_assignment.items()}
        )
        self.files: dict[int, Any] = {f.id: f for f in _selected(snapshot, "files")}
        #: the items a whole read gave, by id (what the renderer reads instead of loading them
        #: again); emptied by whoever asked, once it has its entries
        self.whole: dict[tuple[type, int], Any] = {}

    def _published(self, kind: str) -> Iterator[Any]:
        """The published items of the list ``kind`` reads, as selected (topics: announcements too)."""
        name = _LISTS[kind]
        return (
            o
            for o in _selected(self.snapshot, {"discussion_topics": "topics"}.get(name, name))
            if o.published
        )

    def shown(self, kind: str, obj: Any) -> bool:
        """Whether ``obj`` (an item of ``kind``'s list, published and selected) is shown as ``kind``."""
        if kind == "assignment":
            return obj.id not in self.assignment_owner
        if kind == "discussion_topic":
            return not obj.is_announcement
        if kind == "announcement":
            return obj.is_announcement and (
                obj.delayed_post_at is None or _utc(obj.delayed_post_at) <= self.now
            )
        return True

    def walk(self, kind: str) -> Iterator[Any]:
        """The items shown as ``kind``, in the snapshot's order."""
        return (o for o in self._published(kind) if self.shown(kind, o))

    def lookup_many(self, kind: str | None, ids: Iterable[int], whole: bool = False) -> dict[int, Any]:
        """Id → item, for those of ``ids`` shown as ``kind`` (one read for them all); ``whole``:
        read whole (HTML, a quiz's questions) where the snapshot's list can (see :meth:`whole`)."""
        ids = [i for i in dict.fromkeys(ids) if i is not None]
        if not kind or not ids:
            return {}
        if kind == "file":
            return {i: self.files[i] for i in ids if i in self.files}
        name, select_type = _LISTS[kind], _SELECT_TYPE[kind]
        found = _by_ids(self.snapshot, name, ids, whole)
        gone: dict[int, Any] = {}
        if whole:
            self.whole.update(((type(o), i), o) for i, o in found.items())
            missing = [i for i in ids if i not in found]
            if missing:  # hidden since the plan placed them: their outlines, as they are now (the
                # renderer's load says why they are left out, as for any item gone meanwhile)
                gone = _by_ids(self.snapshot, name, missing, kept=False)
        sel = self.snapshot.selection
        everything = sel.is_empty()

        def chosen(o: Any) -> bool:
            if everything:
                return True
            if kind in ("discussion_topic", "announcement"):
                topic_type = "announcements" if o.is_announcement else "discussion_topics"
                return sel.has(topic_type, o.id) or sel.has("discussion_topics", o.id)
            return sel.has(select_type, o.id)

        shown = {i: o for i, o in found.items() if o.published and chosen(o) and self.shown(kind, o)}
        return shown | gone

    def lookup(self, kind: str | None, obj_id: int | None) -> Any:
        return self.lookup_many(kind, [obj_id]).get(obj_id) if obj_id is not None else None

    # -- the order of each chapter by type: ids, sorted once (the keys only while sorting)
    def order(self, kind: str) -> array:
        return self._orders[kind]

    @cached_property
    def _orders(self) -> dict[str, array]:
        group_position = {g.id: g.position for g in self.snapshot.assignment_groups}
        keys: dict[str, Callable[[Any], Any]] = {
            "assignment": lambda a: (
                group_position.get(a.assignment_group_id, 0),
                a.position,
                a.title.casefold(),
                a.id,
            ),
            "discussion_topic": lambda t: (t.position, t.title.casefold(), t.id),
            "quiz": lambda q: (q.title.casefold(), q.id),
            "page": lambda p: (p.title.casefold(), p.id),
        }
        orders = {kind: _sorted_ids(self.walk(kind), key) for kind, key in keys.items()}
        return orders

    @cached_property
    def announcements(self) -> array:
        never = datetime.min.replace(tzinfo=UTC)
        return _sorted_ids(
            self.walk("announcement"),
            lambda t: (_utc(t.posted_at or t.delayed_post_at or never), t.id),
            reverse=True,
        )


def _sorted_ids(objs: Iterable[Any], key: Callable[[Any], Any], reverse: bool = False) -> array:
    keyed = sorted(((key(o), o.id) for o in objs), reverse=reverse)
    return array("q", (i for _, i in keyed))


def _by_ids(
    snapshot: CourseSnapshot, name: str, ids: list[int], whole: bool = False, kept: bool = True
) -> dict[int, Any]:
    """Id → item of the snapshot's list ``name``: one read of a walked list (``whole``: with its
    HTML; ``kept``: as the list's own view keeps it), else its index (a list held in memory)."""
    items = getattr(snapshot, name)
    if hasattr(items, "by_ids"):
        return items.by_ids(ids, "full" if whole else None, kept)
    if whole:
        return {}
    index = snapshot.__dict__.setdefault("_epub_ids", {})
    if name not in index:
        index[name] = {o.id: o for o in items}
    return {i: index[name][i] for i in ids if i in index[name]}


def _selected(snapshot: CourseSnapshot, name: str) -> Iterable[Any]:
    """``snapshot.selected_<name>()``; an empty selection means the whole course (an ePub is
    always a whole-course book, Canvas builds it from ``everything: true``)."""
    if snapshot.selection.is_empty():
        return getattr(snapshot, {"topics": "discussion_topics"}.get(name, name))
    return getattr(snapshot, f"selected_{name}")()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ------------------------------------------------------------------ packed anchors


class _Index:
    """id → the first number added for it, packed as ``id << 32 | number`` in one sorted array
    (8 bytes a member, a binary search a lookup); what does not fit 32 bits goes to a dict."""

    def __init__(self) -> None:
        self._packed = array("Q")
        self._other: dict[int, int] = {}
        self._sorted = True

    def add(self, key: int, number: int) -> None:
        if 0 <= key < 1 << 32 and 0 <= number < 1 << 32:
            self._packed.append(key << 32 | number)
            self._sorted = False
        else:
            self._other.setdefault(key, number)

    def get(self, key: int | None) -> int | None:
        if key is None:
            return None
        if not self._sorted:
            values = self._packed.tolist()
            values.sort()
            self._packed = array("Q", values)
            self._sorted = True
        packed = self._packed
        if 0 <= key < 1 << 32:
            i = bisect_left(packed, key << 32)
            if i < len(packed) and packed[i] >> 32 == key:
                return packed[i] & 0xFFFFFFFF
        return self._other.get(key)


class _Outline:
    """The table of contents as the plan finds it, spooled to a temporary file (a line a
    chapter or an item: kind, title, href, tab-separated; titles have no tabs or newlines)."""

    def __init__(self) -> None:
        self.file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")
        self.has_items = False
        self.close = weakref.finalize(self, self.file.close)  # at the latest when the plan goes

    def chapter(self, title: str, href: str) -> None:
        self.file.write(f"C\t{title_text(title)}\t{href}\n")

    def item(self, title: str, href: str) -> None:
        self.has_items = True
        self.file.write(f"I\t{title_text(title)}\t{href}\n")

    def read(self) -> Iterator[tuple[str, str, list[tuple[str, str]]]]:
        self.file.flush()
        self.file.seek(0)
        current: tuple[str, str, list[tuple[str, str]]] | None = None
        for line in self.file:
            kind, title, href = line.rstrip("\n").split("\t")
            if kind == "C":
                if current is not None:
                    yield current
                current = (title, href, [])
            elif current is not None:
                current[2].append((title, href))
        if current is not None:
            yield current


# ------------------------------------------------------------------ the plan


@dataclass
class Plan:
    chapters: list[Chapter]
    by_content_type: bool
    content: Content
    snapshot: CourseSnapshot
    page_id: Callable[[str], int | None]  # a page's id by its url (an indexed read, not a dict)
    syllabus: list[SyllabusEntry] = field(default_factory=list)
    module_names: dict[int, str] = field(default_factory=dict)
    # every anchored entry, by its number in reading order: its part, anchor type and id
    _part_files: list[str] = field(default_factory=list)
    _entry_part: array = field(default_factory=lambda: array("i"))
    _entry_type: array = field(default_factory=lambda: array("b"))
    _entry_id: array = field(default_factory=lambda: array("q"))
    _index: dict[str, _Index] = field(default_factory=dict)  # link kind → id → entry number
    _modules: dict[int, str] = field(default_factory=dict)  # module id → its chapter's href
    _outline: _Outline = field(default_factory=_Outline)
    _held_items: tuple[int, dict[int, ModuleItem]] | None = field(default=None, repr=False)

    # -- anchors
    def _place(self, anchor_type: str, anchor_id: int, part: int) -> int:
        self._entry_part.append(part)
        self._entry_type.append(_ANCHOR_CODE[anchor_type])
        self._entry_id.append(anchor_id)
        return len(self._entry_id) - 1

    def _href(self, number: int) -> str:
        anchor = mig_id(_ANCHOR_TYPES[self._entry_type[number]], self._entry_id[number])
        return f"{self._part_files[self._entry_part[number]]}#{anchor}"

    def anchor(self, kind: str, target: int | None) -> str | None:
        """Where the content ``(kind, id)`` is in the book (None: not in the book)."""
        if kind == "module":
            return self._modules.get(target) if target is not None else None
        index = self._index.get(kind)
        number = index.get(target) if index is not None else None
        return self._href(number) if number is not None else None

    def content_href(self, link: CanvasLink) -> str | None:
        """Where a Canvas link to course content lands in the book (None: not in the book)."""
        kind, target = link.kind, link.target_id
        if kind == "page":
            target = (self.page_id(link.target) if link.target else None) or target
        if kind == "assignment" and target in self.content.assignment_owner:
            kind, target = self.content.assignment_owner[target]
        return self.anchor(kind, target) if target is not None else None

    @property
    def outline(self) -> Iterator[tuple[str, str, list[tuple[str, str]]]]:
        """(chapter title, chapter href, [(item title, item href)]) in reading order, a chapter
        at a time (read back from the spool)."""
        return self._outline.read()

    @property
    def outline_has_items(self) -> bool:
        return self._outline.has_items

    def close(self) -> None:
        """Remove the spooled outline (once the table of contents, nav and NCX are written)."""
        self._outline.close()

    # -- entries, read again from the snapshot
    def entries(self, chapter: Chapter, part: int | None = None, whole: bool = False) -> Iterator[Entry]:
        """The entries of one part of ``chapter`` (or of all its parts), with their items;
        ``whole``: items read whole in the same read, where they can be (``Entry.whole``)."""
        parts = chapter.parts if part is None else [chapter.parts[part]]
        for p in parts:
            ids = chapter.ids[p.start : p.stop]
            for n in range(0, len(ids), BATCH):
                yield from self._entries(chapter, ids[n : n + BATCH], p.file, whole)

    def _module_items(self, module_id: int) -> dict[int, ModuleItem]:
        """A module's items by id, read when another module's entries are first asked for and
        kept while its list and its parts are written (one module's items at a time)."""
        held = self._held_items
        if held is None or held[0] != module_id:
            held = self._held_items = (module_id, {i.id: i for i in _module_items(self.snapshot, module_id)})
        return held[1]

    def _entries(self, chapter: Chapter, ids: array, file: str, whole: bool) -> Iterator[Entry]:
        content = self.content
        if chapter.kind == "module":
            assert chapter.module is not None
            items = self._module_items(chapter.module.id)
            chosen = [items[i] for i in ids if i in items]
            entries = list(_module_entries(chosen, content, chapter.locked_until, whole))
        else:
            kind = chapter.item_kind
            found = content.lookup_many(kind, ids, whole)
            entries = [
                Entry(kind, o.title, mig_id(_SELECT_TYPE[kind], o.id), o)
                for o in (found.get(i) for i in ids)
                if o is not None
            ]
        for entry in entries:
            if entry.anchor:
                entry.href = f"{file}#{entry.anchor}"
            if (
                whole
                and entry.obj is not None
                and content.whole.get((type(entry.obj), entry.obj.id)) is entry.obj
            ):
                entry.whole = True
        content.whole.clear()
        yield from entries


def _module_items(snapshot: CourseSnapshot, module_id: int) -> tuple[ModuleItem, ...]:
    modules = snapshot.modules
    if hasattr(modules, "get"):
        module = modules.get(module_id)
    else:
        module = next((m for m in modules if m.id == module_id), None)
    return tuple(module.items) if module is not None else ()


def _modules(snapshot: CourseSnapshot) -> Iterator[Module]:
    """The published modules of the book, in course order (a walked list is in that order)."""
    modules: Iterable[Module] = snapshot.modules
    if isinstance(modules, list):
        modules = sorted(modules, key=lambda m: (m.position, m.id))
    everything = snapshot.selection.is_empty()
    for m in modules:
        if m.published and (everything or snapshot.selection.has("context_modules", m.id)):
            yield m


def build_plan(snapshot: CourseSnapshot) -> Plan:
    content = Content(snapshot)
    module_names = {m.id: m.name for m in snapshot.modules}
    by_type = snapshot.course.organize_epub_by_content_type or next(_modules(snapshot), None) is None
    plan = Plan(
        chapters=[],
        by_content_type=by_type,
        content=content,
        snapshot=snapshot,
        module_names=module_names,
        # pages link to the same few pages again and again: the last ones found are kept (ids),
        # as the cartridge's link rewriter keeps them
        page_id=lru_cache(maxsize=4096)(snapshot.page_id_by_url),
    )
    builder = _Builder(plan)
    for key, title, kind in (
        ("title", "Title Page", "title"),
        ("toc", "Table of Contents", "toc"),
        ("syllabus", "Syllabus", "syllabus"),
    ):
        builder.chapter(Chapter(key, title, kind, [Part(f"{key}.xhtml")]))
    builder.content_chapter("announcements", "Announcements", "announcements", "announcement")
    if by_type:
        for key, title, kind in (
            ("assignments", "Assignments", "assignment"),
            ("topics", "Discussion Topics", "discussion_topic"),
            ("quizzes", "Quizzes", "quiz"),
            ("pages", "Wiki Pages", "page"),
        ):
            builder.content_chapter(key, title, "type", kind)
        # module item links land on the item's content
        items = plan._index.setdefault("module_item", _Index())
        for module in _modules(snapshot):
            for item in module.items:
                kind = _ITEM_KINDS.get(item.content_type)
                index = plan._index.get(kind) if kind else None
                number = index.get(item.content_id) if index is not None else None
                if number is not None:
                    items.add(item.id, number)
        candidates = None
    else:
        candidates = builder.module_chapters()
    plan.syllabus = _syllabus(content, plan, candidates)
    return plan


class _Builder:
    """Lays the chapters out: parts by weight, entries numbered, anchors and outline recorded."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.snapshot = plan.snapshot

    def chapter(self, chapter: Chapter, listed: bool = False) -> None:
        """Add ``chapter`` (its outline line written already when ``listed``)."""
        if not listed:
            self.plan._outline.chapter(chapter.title, chapter.file)
        chapter.plan = self.plan
        for part in chapter.parts:
            part.chapter = chapter
        self.plan.chapters.append(chapter)
        self.plan._part_files.extend(p.file for p in chapter.parts)

    def content_chapter(self, key: str, title: str, kind: str, item_kind: str) -> None:
        content = self.plan.content
        order = content.announcements if item_kind == "announcement" else content.order(item_kind)

        def batches() -> Iterator[list[Entry]]:
            for n in range(0, len(order), BATCH):
                ids = order[n : n + BATCH]
                found = content.lookup_many(item_kind, ids)
                yield [
                    Entry(item_kind, o.title, mig_id(_SELECT_TYPE[item_kind], o.id), o)
                    for o in (found.get(i) for i in ids)
                    if o is not None
                ]

        self.lay_out(Chapter(key, title, kind, [], item_kind=item_kind), batches())

    def module_chapters(self) -> set[tuple[str, int]]:
        """One chapter per module; returns the (kind, content id) of every published item of a
        module that is also a syllabus candidate (what the syllabus keeps)."""
        content, now = self.plan.content, _utc(self.snapshot.exported_at)
        candidates = _syllabus_keys(content)
        in_modules: set[tuple[str, int]] = set()
        for module in _modules(self.snapshot):
            locked = module.unlock_at if module.unlock_at and _utc(module.unlock_at) > now else None
            items = _items(module)
            for i in items:
                key = (_ITEM_KINDS.get(i.content_type), i.content_id)
                if key in candidates:
                    in_modules.add(key)  # type: ignore[arg-type]

            def batches(items=items, locked=locked) -> Iterator[list[Entry]]:
                for n in range(0, len(items), BATCH):
                    yield list(_module_entries(items[n : n + BATCH], content, locked))

            chapter = Chapter(
                mig_id("context_modules", module.id),
                module.name,
                "module",
                [],
                module=replace(module, items=()),
                locked_until=locked,
            )
            self.lay_out(chapter, batches())
            self.plan._modules[module.id] = f"{chapter.file}#{chapter.key}"
        return in_modules

    def lay_out(self, chapter: Chapter, batches: Iterable[list[Entry]]) -> None:
        """Cut the chapter into parts as its entries come, a batch at a time."""
        plan = self.plan
        parts = [Part(f"{chapter.key}.xhtml")]
        first_part = len(plan._part_files)
        size = 0
        chapter_href = parts[0].file
        plan._outline.chapter(chapter.title, chapter_href)
        module_items = plan._index.setdefault("module_item", _Index())
        for batch in batches:
            weights = _weights(batch, self.snapshot)
            for entry, weight in zip(batch, weights, strict=True):
                current = parts[-1]
                if current.stop > current.start and (
                    size + weight > PART_CHARS or current.stop - current.start >= PART_ITEMS
                ):
                    parts.append(Part(f"{chapter.key}-{len(parts) + 1}.xhtml", current.stop, current.stop))
                    size = 0
                parts[-1].stop += 1
                size += weight
                chapter.ids.append(entry.item.id if entry.item is not None else entry.obj.id)
                if not entry.anchor:
                    continue
                part = first_part + len(parts) - 1
                if entry.item is not None:
                    number = plan._place("content_tags", entry.item.id, part)
                    module_items.add(entry.item.id, number)
                else:
                    number = plan._place(_SELECT_TYPE[entry.kind], entry.obj.id, part)
                if entry.obj is not None and entry.kind != "file":
                    kind = "discussion_topic" if entry.kind == "announcement" else entry.kind
                    plan._index.setdefault(kind, _Index()).add(entry.obj.id, number)
                plan._outline.item(entry.title, f"{parts[-1].file}#{entry.anchor}")
        chapter.parts = parts
        self.chapter(chapter, listed=True)


def _items(module: Module) -> list[ModuleItem]:
    return sorted((i for i in module.items if i.published), key=lambda i: (i.position, i.id))


def _module_entries(
    items: list[ModuleItem], content: Content, locked: datetime | None, whole: bool = False
) -> Iterator[Entry]:
    """The entries of these module items (those whose content is not shown are left out)."""
    wanted: dict[str, list[int]] = {}
    for item in items:
        kind = _ITEM_KINDS.get(item.content_type)
        if kind and item.content_id is not None:
            if kind == "assignment" and item.content_id in content.assignment_owner:
                kind, cid = content.assignment_owner[item.content_id]
                wanted.setdefault(kind, []).append(cid)
            else:
                wanted.setdefault(kind, []).append(item.content_id)
    found = {kind: content.lookup_many(kind, ids, whole) for kind, ids in wanted.items()}
    for item in items:
        entry = _module_entry(item, content, found, locked)
        if entry is not None:
            yield entry


def _module_entry(
    item: ModuleItem, content: Content, found: dict[str, dict[int, Any]], locked: datetime | None
) -> Entry | None:
    anchor = mig_id("content_tags", item.id)
    if item.content_type == ModuleItemType.SUB_HEADER:
        return Entry("subheader", item.title, item=item)
    if item.content_type == ModuleItemType.EXTERNAL_URL:
        return Entry("title" if locked else "external_url", item.title, None if locked else anchor, item=item)
    kind, content_id = _ITEM_KINDS.get(item.content_type), item.content_id
    if kind == "assignment" and content_id in content.assignment_owner:  # a quiz's or topic's assignment
        kind, content_id = content.assignment_owner[content_id]
    obj = found.get(kind or "", {}).get(content_id)
    if obj is None:
        return None  # unpublished or not visible to this user
    title = item.title or getattr(obj, "title", "") or getattr(obj, "display_name", "")
    if locked:
        return Entry("title", title, item=item)
    return Entry(kind or "", title, anchor, obj, item)


_LIST_OF_TYPE = {
    Page: "pages",
    Assignment: "assignments",
    Quiz: "quizzes",
    DiscussionTopic: "discussion_topics",
}


def _weights(entries: list[Entry], snapshot: CourseSnapshot) -> list[int]:
    """About how long each entry renders: its HTML and title.  The lengths of a walked list's
    HTML are read without the HTML (one read a batch); an item held whole is measured."""
    lengths: dict[tuple[type, int], int] = {}
    wanted: dict[type, list[int]] = {}
    for entry in entries:
        obj = entry.obj
        if type(obj) in _LIST_OF_TYPE:
            wanted.setdefault(type(obj), []).append(obj.id)
    for cls, ids in wanted.items():
        items = getattr(snapshot, _LIST_OF_TYPE[cls])
        if hasattr(items, "html_lengths"):
            lengths.update(((cls, i), n) for i, n in items.html_lengths(ids).items())
    out = []
    for entry in entries:
        obj = entry.obj
        n = lengths.get((type(obj), getattr(obj, "id", None)))
        if n is None or n < 0:  # not a walked list's, or HTML holding a NUL (SQLite stops there)
            n = _weight_of(obj, snapshot)
        out.append(n + len(entry.title) + 400)
    return out


def _html_of(obj: Any) -> str | None:
    body = getattr(obj, "body", None) or getattr(obj, "description", None)
    return body or getattr(obj, "message", None)


def _weight_of(obj: Any, snapshot: CourseSnapshot) -> int:
    """The length of ``obj``'s HTML, read whole (what the lengths of a walked list did not give)."""
    try:
        obj = snapshot.load(obj)
    except ItemGone:  # deleted or hidden since the snapshot: rendered as its title and a note
        pass
    return len(_html_of(obj) or "")


def _syllabus_keys(content: Content) -> set[tuple[str, int]]:
    return {(kind, obj_id) for kind, obj_id, _, _ in _syllabus_rows(content)}


def _syllabus_rows(content: Content) -> Iterator[tuple[str, int, str, datetime | None]]:
    for a in content.walk("assignment"):
        yield ("assignment", a.id, a.title, a.due_at)
    for topic in content.walk("discussion_topic"):
        if topic.id in content.topic_assignment:
            yield ("discussion_topic", topic.id, topic.title, content.topic_assignment[topic.id].due_at)
    for quiz in content.walk("quiz"):
        if quiz.quiz_type in GRADED_QUIZ_TYPES:
            linked = content.quiz_assignment.get(quiz.id)
            yield ("quiz", quiz.id, quiz.title, quiz.due_at or (linked.due_at if linked else None))


def _syllabus(content: Content, plan: Plan, in_modules: set[tuple[str, int]] | None) -> list[SyllabusEntry]:
    """Dated items (assignments, graded discussions and graded quizzes), by due date, undated last."""
    rows = [r for r in _syllabus_rows(content) if in_modules is None or (r[0], r[1]) in in_modules]
    rows.sort(key=lambda r: (r[3] is None, _utc(r[3]) if r[3] else datetime.min, r[2].casefold(), r[1]))
    return [SyllabusEntry(title, due, plan.anchor(kind, obj_id), kind) for kind, obj_id, title, due in rows]
