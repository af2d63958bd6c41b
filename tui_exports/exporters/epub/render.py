"""Templates → XHTML: one function per chapter kind and per item kind.

Each chapter part is built as one lxml tree, written to the staging directory and
dropped, so memory holds one part at a time (parts are capped by :mod:`.chapters`).
Course HTML goes through :class:`.sanitize.Sanitizer`; everything else is text we put
into elements ourselves, so it is escaped by construction.  Wording follows Canvas's
ePub templates (English labels; the book's language is the course locale).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

from lxml import etree

from tui_exports.exporters.common.links import CanvasLink
from tui_exports.exporters.common.xmlutil import write_streamed
from tui_exports.html_fragments import deep_warning
from tui_exports.model import CourseSnapshot, ItemGone

from .chapters import Chapter, Entry, Plan
from .media import MediaFile, MediaPlan
from .sanitize import Sanitizer, book_href, file_note, note, safe_url
from .xhtml import EPUB_NS, E, append_text, friendly_date, new_document, title_text, write_document, xhtml

SUBMISSION_TYPES = {
    "online_upload": "Online Upload",
    "online_text_entry": "Online Text Entry",
    "online_url": "Online URL",
    "media_recording": "Media Recording",
    "on_paper": "On Paper",
    "none": "No Submission",
    "not_graded": "Not Graded",
    "external_tool": "External Tool",
    "online_quiz": "Online Quiz",
    "discussion_topic": "Discussion Topic",
    "wiki_page": "Page",
    "student_annotation": "Student Annotation",
}
GRADING_TYPES = {
    "points": "Points",
    "percent": "Percentage",
    "pass_fail": "Pass/Fail",
    "letter_grade": "Letter Grade",
    "gpa_scale": "GPA Scale",
    "not_graded": "Not Graded",
}
QUIZ_TYPES = {
    "assignment": "Graded Quiz",
    "practice_quiz": "Practice Quiz",
    "graded_survey": "Graded Survey",
    "survey": "Ungraded Survey",
}
EMPTY = {
    "announcements": "There are no announcements.",
    "assignments": "There are no assignments in this course.",
    "topics": "There are no discussion topics in this course.",
    "quizzes": "There are no quizzes in this course.",
    "pages": "There are no pages in this course.",
}

CSS = """\
body { font-family: sans-serif; line-height: 1.4; margin: 0 0.5em; }
h1 { font-weight: normal; border-bottom: 2px solid #0081bd; padding-bottom: 0.2em; }
h2 { font-weight: normal; margin-top: 1.5em; }
a { color: #2d6a22; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.4em; vertical-align: top; }
.title-page { text-align: center; margin-top: 30%; }
.course-code { font-size: 1.2em; }
.item-details { border: 1px solid #ccc; background-color: #eee; padding: 0 1em; }
.note { font-style: italic; color: #555; }
.locked { font-weight: bold; }
.subheader { font-size: 1.1em; font-weight: bold; }
.indent-1 { margin-left: 1.5em; } .indent-2 { margin-left: 3em; } .indent-3 { margin-left: 4.5em; }
.indent-4 { margin-left: 6em; } .indent-5 { margin-left: 7.5em; }
.back { font-size: 0.9em; margin-top: 2em; }
"""


def human_label(value: str, table: dict[str, str]) -> str:
    return table.get(value) or value.replace("_", " ").strip().title()


def points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class BookLinks:
    """The sanitizer's :class:`~.sanitize.Resolver` for this book."""

    def __init__(self, plan: Plan, media: MediaPlan):
        self.plan, self._media = plan, media

    def content_href(self, link: CanvasLink) -> str | None:
        return self.plan.content_href(link)

    def media(self, file_id: int | None) -> MediaFile | None:
        return self._media.get(file_id)


@dataclass
class Renderer:
    snapshot: CourseSnapshot
    plan: Plan
    media: MediaPlan
    lang: str
    out_dir: Path
    tick: Callable[[int, str], None]  # (items done, message)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        course = self.snapshot.course
        self.sanitizer = Sanitizer(course.id, course.host, BookLinks(self.plan, self.media))
        self.tz = course.time_zone or "UTC"

    # -- documents
    def write_chapters(self) -> list[tuple[str, str]]:
        """Render every part; returns ``(file, title)`` in spine order."""
        written = []
        for chapter in self.plan.chapters:
            for index, part in enumerate(chapter.parts):
                html, body = new_document(chapter.title, self.lang)
                if chapter.kind == "toc":  # lists every item: written as it is built
                    write_document(html, self.out_dir / part.file, {body: self.toc(chapter, body)})
                else:
                    self.chapter_body(chapter, index, body)
                    write_document(html, self.out_dir / part.file)
                written.append((part.file, chapter.title))
                self.tick(part.stop - part.start + 1, f"Rendered {chapter.title}")
        return written

    def chapter_body(self, chapter: Chapter, index: int, body: etree._Element) -> None:
        if chapter.kind == "title":
            self.title_page(body)
            return
        if index == 0:
            body.append(E.h1(title_text(chapter.title), id=chapter.key))
        else:
            body.append(E.p(f"{title_text(chapter.title)} (continued)", {"class": "continued"}))
        entries = None
        if chapter.kind == "syllabus":
            self.syllabus(body)
        elif index == 0:
            if len(chapter.parts) == 1:  # its list and its items are the same entries: read once
                entries = list(self.plan.entries(chapter, 0, whole=not chapter.locked_until))
            self.chapter_intro(chapter, body, entries)
        if not chapter.locked_until:
            for entry in entries if entries is not None else self.plan.entries(chapter, index, whole=True):
                self.entry(entry, body)
        body.append(E.p(E.a("Back to Table of Contents", href="toc.xhtml"), {"class": "back"}))

    def title_page(self, body) -> None:
        course = self.snapshot.course
        page = etree.SubElement(body, xhtml("div"), {"class": "title-page"})
        page.append(E.h1(title_text(course.name)))
        page.append(E.p(title_text(course.course_code, ""), {"class": "course-code"}))
        if course.term.strip():
            page.append(E.p(title_text(course.term)))
        page.append(E.p(f"Exported {friendly_date(self.snapshot.exported_at, self.tz)}"))

    def toc(self, chapter: Chapter, body) -> Iterator[etree._Element]:
        """The table of contents chapter, each element appended to ``body`` and yielded in turn
        (for :func:`write_document`): a course of thousands of items is never held whole."""

        def add(element: etree._Element) -> etree._Element:
            body.append(element)
            return element

        yield add(E.h1(title_text(chapter.title), id=chapter.key))
        yield add(
            E.h2("Course Content" if self.plan.by_content_type else "Course Modules", {"class": "note"})
        )
        for title, href, items in islice(self.plan.outline, 2, None):
            yield add(E.h2(E.a(title_text(title), href=href)))
            if items:
                yield add(E.ol(*(E.li(E.a(title_text(t), href=h)) for t, h in items)))

    def syllabus(self, body) -> None:
        snapshot = self.snapshot
        if snapshot.course.syllabus_body.strip() and (
            snapshot.selection.syllabus_body or snapshot.selection.is_empty()
        ):
            body.append(self.user_content(snapshot.course.syllabus_body, "syllabus"))
        body.append(E.h2("Course Summary"))
        if not self.plan.syllabus:
            body.append(E.p("There are no dated items."))
            return
        listing = etree.SubElement(body, xhtml("ul"), {"class": "syllabus"})
        for row in self.plan.syllabus:
            li = etree.SubElement(listing, xhtml("li"))
            li.append(
                E.a(title_text(row.title), href=row.href) if row.href else E.span(title_text(row.title))
            )
            append_text(li, f": Due {friendly_date(row.due_at, self.tz)}" if row.due_at else ": No due date")

    def chapter_intro(self, chapter: Chapter, body, entries: list[Entry] | None = None) -> None:
        if chapter.locked_until:
            body.append(
                E.p(
                    f"This module is locked until {friendly_date(chapter.locked_until, self.tz)}.",
                    {"class": "locked"},
                )
            )
        if chapter.module is not None and chapter.module.prerequisite_ids:
            names = self.plan.module_names
            required = ", ".join(
                title_text(names.get(i, f"module {i}")) for i in chapter.module.prerequisite_ids
            )
            body.append(E.p(f"Prerequisites: {required}", {"class": "note"}))
        if not chapter.ids:
            body.append(E.p(EMPTY.get(chapter.key, "This module has no items.")))
            return
        if chapter.kind == "announcements":
            return
        listing = etree.SubElement(body, xhtml("ol"), {"class": "items"})
        for entry in entries if entries is not None else self.plan.entries(chapter):
            label = title_text(entry.title)
            li = etree.SubElement(listing, xhtml("li"))
            if entry.item is not None and entry.item.indent > 0:
                li.set("class", f"indent-{min(entry.item.indent, 5)}")
            if entry.href:
                li.append(E.a(label, href=entry.href))
            else:
                li.append(E.span(label, {"class": "subheader"} if entry.kind == "subheader" else {}))

    # -- items
    def entry(self, entry: Entry, body) -> None:
        if entry.kind == "subheader":
            body.append(E.p(title_text(entry.title), {"class": "subheader"}))
            return
        if not entry.anchor:
            return
        section = etree.SubElement(body, xhtml("section"), id=entry.anchor)
        section.append(E.h2(title_text(entry.title)))
        try:  # the snapshot holds outlines: the item is read whole only while it is rendered
            if not entry.whole:
                entry = replace(entry, obj=self.snapshot.load(entry.obj))
        except ItemGone as e:  # deleted or hidden since the snapshot: its title and a note
            note(
                etree.SubElement(section, xhtml("p")),
                "(This item was deleted or hidden while the book was made.)",
            )
            self.warnings.append(f'Left out {entry.kind.replace("_", " ")} "{entry.title}": {e}')
            return
        getattr(self, f"item_{entry.kind}")(entry, section)

    def details(self, section, rows: list[tuple[str, str]]) -> None:
        rows = [(k, v) for k, v in rows if v]
        if rows:
            section.append(E.div(*(E.p(f"{k}: {v}") for k, v in rows), {"class": "item-details"}))

    def user_content(self, html: str, id_prefix: str) -> etree._Element:
        """The sanitized HTML as a copy: moved into the chapter as built, it kept about 200 KB
        alive per chapter after the chapter was written (lxml), so memory grew with the course."""
        return copy.deepcopy(self.sanitizer.to_xhtml(html, id_prefix))

    def html(self, section, html: str, entry: Entry) -> None:
        warning = deep_warning(f'{entry.kind.replace("_", " ")} "{entry.title}"', html)
        if warning:
            self.warnings.append(warning)
        if html and html.strip():
            section.append(self.user_content(html, entry.anchor or "item"))

    def item_page(self, entry: Entry, section) -> None:
        self.html(section, entry.obj.body, entry)

    def item_assignment(self, entry: Entry, section) -> None:
        a = entry.obj
        self.html(section, a.description, entry)
        self.details(
            section,
            [
                ("Due", friendly_date(a.due_at, self.tz)),
                ("Available from", friendly_date(a.unlock_at, self.tz)),
                ("Until", friendly_date(a.lock_at, self.tz)),
                ("Points", points(a.points_possible)),
                ("Grading", human_label(a.grading_type, GRADING_TYPES) if a.grading_type else ""),
                ("Submitting", ", ".join(human_label(t, SUBMISSION_TYPES) for t in a.submission_types)),
                ("File types", ", ".join(a.allowed_extensions)),
            ],
        )

    def item_quiz(self, entry: Entry, section) -> None:
        q = entry.obj
        linked = self.plan.content.quiz_assignment.get(q.id)
        self.html(section, q.description, entry)
        attempts = "Unlimited" if q.allowed_attempts < 0 else str(q.allowed_attempts)
        self.details(
            section,
            [
                ("Type", human_label(q.quiz_type, QUIZ_TYPES)),
                ("Due", friendly_date(q.due_at or (linked.due_at if linked else None), self.tz)),
                ("Available from", friendly_date(q.unlock_at, self.tz)),
                ("Until", friendly_date(q.lock_at, self.tz)),
                ("Points", points(q.points_possible)),
                ("Allowed attempts", attempts),
                ("Time limit", f"{q.time_limit} minutes" if q.time_limit else ""),
                ("Questions", str(len(q.questions)) if q.questions else ""),
            ],
        )

    def item_discussion_topic(self, entry: Entry, section) -> None:
        topic = entry.obj
        graded = self.plan.content.topic_assignment.get(topic.id)
        if graded is not None:
            self.details(
                section,
                [("Due", friendly_date(graded.due_at, self.tz)), ("Points", points(graded.points_possible))],
            )
        self.html(section, topic.message, entry)

    def item_announcement(self, entry: Entry, section) -> None:
        topic = entry.obj
        posted = topic.posted_at or topic.delayed_post_at
        if posted:
            section.append(E.p(f"Posted {friendly_date(posted, self.tz)}", {"class": "note"}))
        self.html(section, topic.message, entry)

    def item_file(self, entry: Entry, section) -> None:
        media = self.media.get(entry.obj.id)
        if media is not None and media.book_path and media.kind == "image":
            section.append(E.p(E.img(src=book_href(media.book_path), alt=title_text(media.name))))
        elif media is not None and media.book_path and media.kind == "audio":
            section.append(
                E.p(
                    E.audio(
                        f"Audio: {title_text(media.name)}",
                        controls="controls",
                        src=book_href(media.book_path),
                    )
                )
            )
        else:
            p = etree.SubElement(section, xhtml("p"))
            note(p, file_note(media).strip())

    def item_external_url(self, entry: Entry, section) -> None:
        url = safe_url(entry.item.url)
        p = etree.SubElement(section, xhtml("p"))
        if url:
            p.append(E.a(url, href=url))
        else:
            note(p, "(This link is not a web address and was left out.)")


# ------------------------------------------------------------------ navigation


def write_nav(plan: Plan, title: str, lang: str, path: Path) -> None:
    """The EPUB 3 navigation document (``nav.xhtml``): chapters, then their items; written
    one chapter at a time, as the course may have thousands of items."""
    html, body = new_document(title, lang, css_href=None, epub_ns=True)
    nav = etree.SubElement(body, xhtml("nav"), {f"{{{EPUB_NS}}}type": "toc", "id": "toc"})
    nav.append(E.h1("Table of Contents"))
    top = etree.SubElement(nav, xhtml("ol"))

    def chapters():
        for chapter_title, href, items in plan.outline:
            li = etree.SubElement(top, xhtml("li"))
            li.append(E.a(title_text(chapter_title), href=href))
            if items:
                li.append(E.ol(*(E.li(E.a(title_text(t), href=h)) for t, h in items)))
            yield li

    write_document(html, path, {top: chapters()})


NCX_NS = "http://www.daisy.org/z3986/2005/ncx/"


def write_ncx(plan: Plan, title: str, identifier: str, lang: str, path: Path) -> None:
    """The EPUB 2 NCX, for older reading systems."""

    def n(tag: str, parent=None, **attrs) -> etree._Element:
        name = f"{{{NCX_NS}}}{tag}"
        return (
            etree.SubElement(parent, name, attrs)
            if parent is not None
            else etree.Element(name, attrs, nsmap={None: NCX_NS})
        )

    ncx = n("ncx", version="2005-1")
    ncx.set("{http://www.w3.org/XML/1998/namespace}lang", lang)
    head = n("head", ncx)
    depth = "2" if plan.outline_has_items else "1"
    for name, content in (
        ("dtb:uid", identifier),
        ("dtb:depth", depth),
        ("dtb:totalPageCount", "0"),
        ("dtb:maxPageNumber", "0"),
    ):
        n("meta", head, name=name, content=content)
    n("text", n("docTitle", ncx)).text = title_text(title)
    nav_map = n("navMap", ncx)
    order = 0

    def point(parent, label: str, href: str) -> etree._Element:
        nonlocal order
        order += 1
        p = n("navPoint", parent, id=f"np{order}", playOrder=str(order))
        n("text", n("navLabel", p)).text = title_text(label)
        n("content", p, src=href)
        return p

    def chapters():
        for chapter_title, href, items in plan.outline:
            parent = point(nav_map, chapter_title, href)
            for item_title, item_href in items:
                point(parent, item_title, item_href)
            yield parent

    with path.open("wb") as dst:  # one chapter at a time, as in nav.xhtml
        write_streamed(dst, ncx, {nav_map: chapters()}, indent=False, encoding="utf-8", xml_declaration=True)
