"""Documents for pages, assignments, discussion topics and web links (spec §4.3).

Each function returns the bytes or element of one file and raises on bad input;
the exporter decides what a failure means (skip the item, add a warning).
"""

from __future__ import annotations

from datetime import datetime

import lxml.html
from lxml import etree
from lxml.html import builder as E

from ...model import Assignment, CourseSnapshot, DiscussionTopic, ModuleItem, Page
from ..common.canvas_xml import embedded_assignment, fill_assignment
from ..common.ids import mig_id
from ..common.links import parse_fragment
from ..common.xmlutil import Builder, canvas, canvas_root, clean, ims_datetime
from .profile import ASSIGNMENT_LOCATION, ASSIGNMENT_NS, Profile

# ----------------------------------------------------------------------------- HTML pages


def html_page(body_html: str | etree._Element, title: str, meta: list[tuple[str, object]] = ()) -> bytes:
    """Canvas's ``html_page``: a full document with ``<title>`` and ``<meta name content>`` fields.

    ``body_html`` is already rewritten: its HTML, or the ``<div>`` wrapper that
    :func:`parse_fragment` (or ``CCLinkRewriter.fragment``) made of it, which becomes the body
    without being parsed again.  Blank meta values are left out, as Canvas does.
    """
    # libxml2's HTML serializer drops <meta http-equiv=Content-Type>; the HTML5 form survives
    fields = [(name, _meta_text(value)) for name, value in meta if value not in (None, "", False)]
    wrapper = parse_fragment(body_html) if isinstance(body_html, str) else body_html
    title = clean(title)
    if _plain(title) and all(_plain(text) for _, text in fields):
        # the head as libxml2 writes it (nothing to escape), around the body's own serialisation
        inner = lxml.html.tostring(wrapper, encoding="utf-8", method="html")
        if inner.startswith(b"<div>") and inner.endswith(b"</div>") and not wrapper.attrib:
            head = "".join(f'<meta name="{name}" content="{text}">' for name, text in fields)
            return (
                (
                    f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title>{head}</head><body>'
                ).encode()
                + inner[5:-6]
                + b"</body></html>"
            )
    head = E.HEAD(E.META(charset="utf-8"), E.TITLE(title))
    for name, text in fields:
        head.append(E.META(name=name, content=text))
    body = E.BODY()
    body.text = wrapper.text
    body.extend(list(wrapper))
    doc = E.HTML(head, body)
    return lxml.html.tostring(doc, encoding="utf-8", method="html", doctype="<!DOCTYPE html>")


def _meta_text(value: object) -> str:
    return ims_datetime(value) if isinstance(value, datetime) else clean(value)


#: what libxml2's HTML serializer would escape or quote differently in a title or an attribute
_ESCAPED = frozenset("&<>\"'")


def _plain(text: str) -> bool:
    """Printable ASCII that libxml2 writes as it is, in text and in a double-quoted attribute."""
    return text.isascii() and text.isprintable() and _ESCAPED.isdisjoint(text)


def page_document(page: Page, body_html: str | etree._Element) -> bytes:
    return html_page(
        body_html,
        page.title,
        [
            ("identifier", mig_id("wiki_pages", page.id)),
            ("editing_roles", page.editing_roles),
            ("workflow_state", "active" if page.published else "unpublished"),
            ("front_page", "true" if page.front_page else None),
            ("todo_date", page.todo_date),
        ],
    )


# ----------------------------------------------------------------------------- assignments

SUBMISSION_FORMATS = {"online_text_entry": "html", "online_url": "url", "online_upload": "file"}


def assignment_settings(snapshot: CourseSnapshot, a: Assignment) -> etree._Element:
    """``<mig>/assignment_settings.xml``: Canvas's full assignment metadata."""
    return fill_assignment(canvas_root("assignment", identifier=mig_id("assignments", a.id)), snapshot, a)


def assignment_extension(a: Assignment, description_html: str) -> etree._Element:
    """``<mig>/assignment.xml``: the CC 1.3 assignment resource.

    Only what the IMS assignment schema allows: its ``extensions`` wildcard is strict
    and Canvas's own namespace has no published schema, so Canvas's settings stay in
    ``assignment_settings.xml`` beside it instead of being embedded here.
    """
    b = Builder(ASSIGNMENT_NS)
    root = b.root("assignment", schema_location=ASSIGNMENT_LOCATION, identifier=mig_id("assignments", a.id))
    b.sub(root, "title", a.title)
    b.sub(root, "text", description_html, texttype="text/html")
    b.sub(root, "gradable", a.grading_type != "not_graded" and a.points_possible is not None)
    formats = [SUBMISSION_FORMATS[t] for t in a.submission_types if t in SUBMISSION_FORMATS]
    if formats:
        node = b.sub(root, "submission_formats")
        for f in dict.fromkeys(formats):
            b.sub(node, "format", type=f)
    return root


# ----------------------------------------------------------------------------- discussions


def topic_document(profile: Profile, topic: DiscussionTopic, message_html: str) -> etree._Element:
    """``<mig>.xml``: the IMS discussion topic of the cartridge's version."""
    b = Builder(profile.discussion_ns)
    root = b.root("topic", schema_location=f"{profile.discussion_ns} {profile.discussion_location}")
    b.sub(root, "title", topic.title)
    b.sub(root, "text", message_html, texttype="text/html")
    return root


def topic_meta(snapshot: CourseSnapshot, topic: DiscussionTopic) -> etree._Element:
    """``<meta_mig>.xml``: Canvas's ``topicMeta`` (type, dates, flags, graded assignment)."""
    b = canvas
    root = canvas_root("topicMeta", identifier=mig_id("discussion_topics", topic.id, "meta"))
    b.sub(root, "topic_id", mig_id("discussion_topics", topic.id))
    b.sub(root, "title", topic.title)
    b.set_fields(root, topic, ("posted_at", "delayed_post_at", "lock_at"))
    b.fields(
        root,
        [
            ("position", topic.position),
            ("type", "announcement" if topic.is_announcement else "topic"),
            ("discussion_type", topic.discussion_type),
        ],
    )
    if topic.pinned:
        b.sub(root, "pinned", True)
    if topic.require_initial_post:
        b.sub(root, "require_initial_post", True)
    b.fields(
        root,
        [
            ("has_group_category", False),
            ("workflow_state", "active" if topic.published else "unpublished"),
            ("module_locked", False),
            ("allow_rating", False),
            ("only_graders_can_rate", False),
            ("sort_by_rating", False),
            ("todo_date", None),
        ],
    )
    assignment = snapshot.assignment(topic.assignment_id) if topic.assignment_id is not None else None
    if assignment is not None:
        embedded_assignment(root, snapshot, assignment)
    return root


# ----------------------------------------------------------------------------- web links


def weblink_document(profile: Profile, item: ModuleItem) -> etree._Element:
    """``<weblink_mig>.xml`` for a module's external URL."""
    b = Builder(profile.weblink_ns)
    root = b.root("webLink", schema_location=f"{profile.weblink_ns} {profile.weblink_location}")
    b.sub(root, "title", item.title)
    b.sub(root, "url", href=clean(item.url), target="_blank" if item.new_tab else None)
    return root
