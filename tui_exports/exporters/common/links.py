"""Finding and rewriting the Canvas URLs inside course HTML.

Course bodies hold links the way Canvas stores them (``/courses/1/files/7/download``,
``/courses/1/pages/welcome``…).  Every format needs to know what such a link points
at: the Common Cartridge writer turns them into ``$IMS-CC-FILEBASE$``-style tokens,
the ePub writer into chapter anchors, and the engine follows them to pull linked files
into a selective export.  This module is that one parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from ...html_fragments import parse_fragment, serialize_fragment

#: Attributes that can hold a link.
LINK_ATTRS = ("href", "src", "data", "poster")

_COURSE_PATH = re.compile(r"^/courses/(\d+)(?:/(.*))?$")
_FILES_PATH = re.compile(r"^/files/(\d+)(?:/(.*))?$")

#: Path segment → link kind for objects addressed as ``/courses/C/<segment>/<id>``.
OBJECT_SEGMENTS = {
    "assignments": "assignment",
    "quizzes": "quiz",
    "discussion_topics": "discussion_topic",
    "announcements": "discussion_topic",
    "calendar_events": "calendar_event",
    "rubrics": "rubric",
    "modules": "module",
    "folders": "folder",
}


@dataclass(frozen=True)
class CanvasLink:
    """What one ``href``/``src`` points at.

    kind: ``file``, ``page``, ``assignment``, ``quiz``, ``discussion_topic``,
    ``calendar_event``, ``rubric``, ``module``, ``module_item``, ``folder``,
    ``course`` (another place in this course), ``other_course``, ``site`` (an
    absolute path outside any course), ``external`` (another host, ``mailto:``…),
    ``fragment`` (``#anchor``) or ``empty``.
    """

    kind: str
    raw: str
    course_id: int | None = None
    target: str | None = None  # the id (as text) or the page slug
    subpath: str = ""  # what follows the target, e.g. "download", "preview"
    query: str = ""
    fragment: str = ""

    @property
    def target_id(self) -> int | None:
        return int(self.target) if self.target and self.target.isascii() and self.target.isdigit() else None


def classify(href: str | None, course_id: int, host: str | None = None) -> CanvasLink:
    """Classify a link found in the HTML of course ``course_id`` (served at ``host``)."""
    raw = href or ""
    value = raw.strip()
    if not value:
        return CanvasLink("empty", raw)
    if value.startswith("#"):
        return CanvasLink("fragment", raw, fragment=value[1:])
    parts = urlsplit(value)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return CanvasLink("external", raw)
    if parts.netloc and (host is None or parts.netloc.lower() != host.lower()):
        return CanvasLink("external", raw)
    path = parts.path
    if not path.startswith("/"):
        return CanvasLink("external", raw)  # relative links have no Canvas meaning
    extra = {"query": parts.query, "fragment": parts.fragment}
    m = _FILES_PATH.match(path)
    if m:
        return CanvasLink("file", raw, course_id, m.group(1), m.group(2) or "", **extra)
    m = _COURSE_PATH.match(path)
    if not m:
        return CanvasLink("site", raw, **extra)
    cid = int(m.group(1))
    if cid != course_id:
        return CanvasLink("other_course", raw, cid, **extra)
    segs = [unquote(s) for s in (m.group(2) or "").split("/") if s]
    if not segs:
        return CanvasLink("course", raw, cid, **extra)
    head, rest = segs[0], segs[1:]
    if head == "files" and rest and rest[0].isdigit():
        return CanvasLink("file", raw, cid, rest[0], "/".join(rest[1:]), **extra)
    if head in ("pages", "wiki") and rest:
        return CanvasLink("page", raw, cid, rest[0], "/".join(rest[1:]), **extra)
    if head == "modules" and len(rest) >= 2 and rest[0] == "items" and rest[1].isdigit():
        return CanvasLink("module_item", raw, cid, rest[1], "/".join(rest[2:]), **extra)
    if head in OBJECT_SEGMENTS and rest and rest[0].isdigit():
        return CanvasLink(OBJECT_SEGMENTS[head], raw, cid, rest[0], "/".join(rest[1:]), **extra)
    return CanvasLink("course", raw, cid, None, "/".join(segs), **extra)


def iter_links(html: str, course_id: int, host: str | None = None) -> Iterator[CanvasLink]:
    """Every link in an HTML body, classified (cheap pre-check skips link-free bodies)."""
    if not html or ("href" not in html and "src" not in html and "data" not in html):
        return
    root = parse_fragment(html)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in LINK_ATTRS:
            value = el.get(attr)
            if value is not None:
                yield classify(value, course_id, host)


#: ``rewrite(element, attribute, link)`` returns the new value, or None to keep the old one.
Rewriter = Callable[[etree._Element, str, CanvasLink], "str | None"]


def rewrite_links(html: str, *args: Any, **options: Any) -> str:
    """Apply ``rewrite`` to every link of an HTML body and return the new HTML: the arguments
    of :func:`rewrite_tree` (``course_id, rewrite, host``, ``keep_invalid``: leave a URL that
    cannot be parsed, ``http://[::1``, as it is instead of raising ``ValueError``; ``memo``)."""
    if not html:
        return html or ""
    return serialize_fragment(rewrite_tree(html, *args, **options))


#: how many links a ``memo`` of :func:`rewrite_tree` keeps before it starts again
MEMO_SIZE = 4096

#: the elements that carry one of :data:`LINK_ATTRS`, in document order (one pass in C)
_LINKED = etree.XPath("|".join(f"descendant-or-self::*[@{a}]" for a in LINK_ATTRS))


def rewrite_tree(
    html: str,
    course_id: int,
    rewrite: Rewriter,
    host: str | None = None,
    *,
    keep_invalid: bool = False,
    memo: dict[str, str | None] | None = None,
) -> etree._Element:
    """:func:`rewrite_links`, giving the parsed body (a ``<div>`` wrapper, as
    :func:`parse_fragment` makes it) instead of its HTML: a writer that puts the body into a
    document of its own parses it once.

    ``memo``, for a ``rewrite`` whose answer depends on the link alone (not on the element):
    each link's new value by its old one, kept across bodies (they link to the same files and
    pages again and again), so a link met before is neither classified nor rewritten again.
    """
    root = parse_fragment(html)
    if not any(a in html for a in LINK_ATTRS):
        return root
    for el in _LINKED(root):
        for attr in LINK_ATTRS:
            value = el.get(attr)
            if value is None:
                continue
            if memo is not None and value in memo:
                new = memo[value]
            else:
                try:
                    link = classify(value, course_id, host)
                except ValueError:
                    if not keep_invalid:
                        raise
                    new = None
                else:
                    new = rewrite(el, attr, link)
                if memo is not None:
                    if len(memo) >= MEMO_SIZE:
                        memo.clear()
                    memo[value] = new
            if new is not None:
                el.set(attr, new)
    return root
