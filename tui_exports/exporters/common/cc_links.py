"""Rewriting course HTML for a Common Cartridge (spec §4.6, Canvas's ``HtmlContentExporter``).

A package must not point back at the live course: links to its files become
``$IMS-CC-FILEBASE$`` paths inside the package, links to pages and other objects
become the ``$WIKI_REFERENCE$`` / ``$CANVAS_OBJECT_REFERENCE$`` tokens that importers
resolve against the migration ids, and remaining host-less paths get the course's
host so they still work from elsewhere.  The QTI writer uses the same rewriter.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from lxml import etree

from ...model import CourseSnapshot
from ...vocab import CC_COURSE_TOKEN as COURSE_TOKEN
from ...vocab import CC_FILEBASE as FILEBASE
from ...vocab import CC_OBJECT_TOKEN as OBJECT_TOKEN
from ...vocab import CC_WIKI_TOKEN as WIKI_TOKEN
from .digests import DigestMap
from .ids import mig_id
from .links import CanvasLink, rewrite_links, rewrite_tree
from .xmlutil import clean

__all__ = [
    "CCLinkRewriter",
    "PageIndex",
    "COURSE_TOKEN",
    "FILEBASE",
    "OBJECT_TOKEN",
    "WIKI_TOKEN",
    "file_ids",
]

#: link kind → the select type whose migration id names the object
KIND_TYPES = {
    "assignment": "assignments",
    "quiz": "quizzes",
    "discussion_topic": "discussion_topics",
    "calendar_event": "calendar_events",
    "rubric": "rubrics",
    "module": "context_modules",
    "folder": "folders",
}


def _segment_after_course(raw: str) -> str:
    """``/courses/1/announcements/5`` → ``announcements`` (the URL's own word for the type)."""
    parts = urlsplit(raw.strip()).path.split("/")
    return parts[3] if len(parts) > 3 else ""


def _suffix(query: str, fragment: str) -> str:
    return (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")


class PageIndex:
    """The page ids a page link can name, read in one walk of a snapshot's pages: by url (the
    page :meth:`~tui_exports.model.CourseSnapshot.page_id_by_url` finds), else by lower-cased
    title (the last such page, as :meth:`CCLinkRewriter._page_titled` finds) -- the same ids
    as the rewriter's own lookups, for a process that cannot ask the snapshot."""

    def __init__(self, snapshot: CourseSnapshot):
        pages = snapshot.pages
        walked = hasattr(pages, "id_of")  # a walked list finds the first, a held one the last
        rows = pages.values("url", "id", "title") if walked else ((p.url, p.id, p.title) for p in pages)
        # held as digests (DigestMap): flat in memory, in each render process too
        self.by_url, self.by_title = DigestMap(), DigestMap()
        for url, page_id, title in rows:
            if url is not None:
                self.by_url.put(url, page_id, first=walked)
            self.by_title.put(title.lower(), page_id)

    def page_id(self, slug: str) -> int | None:
        page_id = self.by_url.get(slug)
        return page_id if page_id is not None else self.by_title.get(slug.replace("-", " ").lower())


class CCLinkRewriter:
    """Rewrites the links of one course's HTML; ``file_paths`` maps file id → path under web_resources."""

    def __init__(self, snapshot: CourseSnapshot, file_paths: dict[int, str]):
        self.snapshot = snapshot
        self._by_title: dict[str, int | None] = {}  # the titles links were looked up by
        # pages link to the same few pages again and again: the last ones found are kept (ids)
        self._setup(
            snapshot.course.id, snapshot.course.host, file_paths, lru_cache(maxsize=4096)(self._page_id)
        )

    @classmethod
    def with_index(
        cls, course_id: int, host: str | None, file_paths: dict[int, str], pages: PageIndex
    ) -> CCLinkRewriter:
        """A rewriter that finds pages in ``pages`` (read once) instead of asking a snapshot:
        what a render process uses (:mod:`..cc.render`)."""
        rewriter = cls.__new__(cls)
        rewriter._setup(course_id, host, file_paths, pages.page_id)
        return rewriter

    def _setup(self, course_id: int, host: str | None, file_paths: dict[int, str], page_id) -> None:
        self.course_id, self.host, self.file_paths = course_id, host, file_paths
        self._page_id = page_id
        self._memo: dict[str, str | None] = {}  # the new value of links met before (a link's own)

    def html(self, html: str) -> str:
        """The HTML with every Canvas link rewritten; unparsable URLs are left as they are."""
        if not html:
            return ""
        return rewrite_links(
            clean(html), self.course_id, self._rewrite, self.host, keep_invalid=True, memo=self._memo
        )

    def fragment(self, html: str) -> etree._Element:
        """:meth:`html` parsed: the rewritten body in a ``<div>`` wrapper, for a writer that
        puts it into a document of its own (one parse per body, not one more to read it back)."""
        return rewrite_tree(
            clean(html), self.course_id, self._rewrite, self.host, keep_invalid=True, memo=self._memo
        )

    # -- one link
    def _rewrite(self, _el, _attr, link: CanvasLink) -> str | None:
        try:
            return self._rewrite_link(link)
        except ValueError:  # e.g. an "id" of digits int() refuses ("¹"): not a Canvas link
            return None

    def _rewrite_link(self, link: CanvasLink) -> str | None:
        kind = link.kind
        if kind == "file":
            return self._file(link)
        if kind == "page":
            return self._page(link)
        if kind == "module_item" and link.target_id is not None:
            return f"{COURSE_TOKEN}/modules/items/{mig_id('content_tags', link.target_id)}" + _suffix(
                link.query, link.fragment
            )
        if kind in KIND_TYPES and link.target_id is not None:
            rest = f"/{link.subpath}" if link.subpath else ""
            segment = _segment_after_course(link.raw) or f"{kind}s"
            return f"{OBJECT_TOKEN}/{segment}/{mig_id(KIND_TYPES[kind], link.target_id)}{rest}" + _suffix(
                self._module_item_query(link.query), link.fragment
            )
        if kind == "course":
            rest = link.subpath
            return f"{COURSE_TOKEN}/{rest}" + _suffix(link.query, link.fragment) if rest else COURSE_TOKEN
        if kind in ("site", "other_course"):
            return self._absolute(link)
        return None  # external, fragment, empty: untouched

    def _absolute(self, link: CanvasLink) -> str | None:
        raw = link.raw.strip()
        if raw.startswith("/") and not raw.startswith("//"):
            return f"https://{self.host}{raw}"
        return None

    def _file(self, link: CanvasLink) -> str | None:
        path = self.file_paths.get(link.target_id) if link.target_id is not None else None
        if path is None:
            return self._absolute(link)  # a file that is not in the package: keep it reachable
        url = f"{FILEBASE}/" + "/".join(quote(seg, safe="") for seg in path.split("/"))
        params: list[tuple[str, str]] = []
        sub = link.subpath.strip("/")
        if sub and sub != "preview":
            params.append((f"canvas_{sub}", "1"))
        params += [
            (f"canvas_qs_{k}", v) for k, v in parse_qsl(link.query, keep_blank_values=True) if k != "verifier"
        ]
        return url + _suffix(urlencode(params), link.fragment)

    def _page(self, link: CanvasLink) -> str:
        slug = link.target or ""
        page_id = self._page_id(slug)
        kind = "wiki" if _segment_after_course(link.raw) == "wiki" else "pages"
        target = mig_id("wiki_pages", page_id) if page_id is not None else quote(slug, safe="")
        return f"{WIKI_TOKEN}/{kind}/{target}" + _suffix(link.query, link.fragment)

    def _page_id(self, slug: str) -> int | None:
        """The id of the page a link's slug names: by its url, else by its title."""
        page_id = self.snapshot.page_id_by_url(slug)
        return page_id if page_id is not None else self._page_titled(slug.replace("-", " ").lower())

    def _page_titled(self, title: str) -> int | None:
        """The id of the (last) page whose lower-cased title is ``title``: a walk over the
        pages, once per title (the course's pages are not held)."""
        if title not in self._by_title:
            self._by_title[title] = None
            for p in self.snapshot.pages:
                if p.title.lower() == title:
                    self._by_title[title] = p.id
        return self._by_title[title]

    @staticmethod
    def _module_item_query(query: str) -> str:
        """``module_item_id=7`` names a module item: turn it into its migration id."""
        if "module_item_id=" not in query:
            return query
        pairs = [
            (k, mig_id("content_tags", int(v)) if k == "module_item_id" and v.isdigit() else v)
            for k, v in parse_qsl(query, keep_blank_values=True)
        ]
        return urlencode(pairs)


def file_ids(html: str, course_id: int, host: str | None = None) -> set[int]:
    """The ids of the course files an HTML body links to (malformed links are passed over)."""
    found: set[int] = set()

    def collect(_el, _attr, link: CanvasLink) -> None:
        try:
            if link.kind == "file" and link.target_id is not None:
                found.add(link.target_id)
        except ValueError:
            pass

    rewrite_links(clean(html), course_id, collect, host, keep_invalid=True)
    return found
