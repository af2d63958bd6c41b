"""Course HTML → safe, valid XHTML5 for one chapter.

Course bodies are whatever a rich-text editor (or a hostile author) produced: unclosed
tags, scripts, inline handlers, ``javascript:`` links, iframes, forms, blocks inside
inline elements.  Browsers forgive all of that; EPUBCheck validates every chapter
against the HTML5 schema and forgives nothing.  So the sanitizer does not filter the
parsed tree in place: it *rebuilds* it, element by element, in the XHTML namespace,
following a simplified HTML5 content model:

* a whitelist of elements and attributes; obsolete elements are renamed (``font`` →
  ``span``, ``center`` → ``div``…), unknown ones unwrapped (their text kept);
* scripts, styles, form controls and other active content are dropped; ``iframe``,
  ``object``, ``embed`` and ``video`` become a link or a note; a ``form`` leaves its
  text and a note;
* blocks met where only phrasing content may go are unwrapped; lists, definition lists
  and tables are rebuilt so that only ``li`` / ``dt``+``dd`` / rows and cells sit in them;
* ids are prefixed with the item's anchor (several bodies share a chapter) and
  ``#fragment`` links follow them; dangling fragments lose their link;
* every link goes through :func:`tui_exports.exporters.common.links.classify`: content of this
  course becomes a chapter anchor (or a note when it is not in the book), course files
  become embedded media (or a note pointing at the companion zip), other Canvas paths are
  made absolute, ``http(s)``/``mailto`` links stay (re-encoded as valid URLs), anything
  else (``javascript:``, ``data:``, relative paths) loses its link.
"""

from __future__ import annotations

import copy
import re
from typing import Protocol
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from lxml import etree

from tui_exports.exporters.common.links import CanvasLink, classify, parse_fragment

from .media import MediaFile
from .xhtml import XHTML_NS, XML_LANG, append_text, clean_text, language_tag, xhtml

FLOW, PHRASING = "flow", "phrasing"
MAX_DEPTH = 48

NOT_IN_BOOK = " (link removed: the linked content is not included in this book)"
FORM_REMOVED = "(An interactive form was removed from this copy.)"
EMBED_REMOVED = "(Embedded content was removed from this copy.)"

_PHRASING = {
    "abbr",
    "b",
    "bdi",
    "cite",
    "code",
    "dfn",
    "em",
    "i",
    "kbd",
    "mark",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "u",
    "var",
}
_RENAMED = {
    "font": "span",
    "big": "span",
    "nobr": "span",
    "blink": "span",
    "marquee": "span",
    "label": "span",
    "output": "span",
    "time": "span",
    "data": "span",
    "meter": "span",
    "progress": "span",
    "tt": "code",
    "strike": "s",
    "acronym": "abbr",
    "center": "div",
    "address": "div",
    "header": "div",
    "footer": "div",
    "nav": "div",
    "main": "div",
    "section": "div",
    "article": "div",
    "aside": "div",
    "hgroup": "div",
    "search": "div",
    "figure": "div",
    "figcaption": "div",
    "details": "div",
    "summary": "div",
    "fieldset": "div",
    "legend": "div",
    "listing": "pre",
    "xmp": "pre",
    "plaintext": "pre",
    "menu": "ul",
    "dir": "ul",
    # structural elements met outside their structure
    "li": "div",
    "dt": "div",
    "dd": "div",
    "tr": "div",
    "td": "div",
    "th": "div",
    "thead": "div",
    "tbody": "div",
    "tfoot": "div",
    "caption": "div",
}
_BLOCKS = {
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "dl",
    "blockquote",
    "pre",
    "table",
    "hr",
}
#: Element → content model of its children.
_CHILD_MODE = {"div": FLOW, "blockquote": FLOW, "li": FLOW, "dd": FLOW, "td": FLOW, "th": FLOW}
_DROP = {
    "script",
    "style",
    "template",
    "head",
    "title",
    "meta",
    "link",
    "base",
    "select",
    "option",
    "optgroup",
    "datalist",
    "textarea",
    "input",
    "canvas",
    "map",
    "area",
    "param",
    "col",
    "colgroup",
    "frame",
    "frameset",
    "noframes",
    "applet",
    "dialog",
    "slot",
    "basefont",
    "bgsound",
    "isindex",
}
#: HTML5 void elements that libxml2's HTML 4 parser does not know as void: it nests whatever
#: follows them inside, so after handling one its "children" are put back as siblings.
_VOID_UNKNOWN_TO_LIBXML = {"embed", "source", "track", "wbr", "keygen"}
_NOT_TEXT = {"script", "style", "template"}
#: Elements with a method ``_<tag>`` of :class:`_Body`.
_HANDLED = {
    "a",
    "img",
    "audio",
    "video",
    "iframe",
    "embed",
    "object",
    "svg",
    "math",
    "form",
    "br",
    "wbr",
    "hr",
    "dl",
    "table",
}


class Resolver(Protocol):
    """What the sanitizer asks the book about links."""

    def content_href(self, link: CanvasLink) -> str | None:
        """``chapter.xhtml#anchor`` for course content in the book, else None."""

    def media(self, file_id: int | None) -> MediaFile | None:
        """Where a course file went (None: not a file of this book)."""


# ------------------------------------------------------------------ URLs


def _quote(part: str, safe: str) -> str:
    part = re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", part)
    return quote(part, safe=safe + "%")


def safe_url(raw: str) -> str | None:
    """An ``http(s)`` or ``mailto`` URL re-encoded so that it is valid; None for anything else."""
    value = re.sub(r"\s", "%20", clean_text(raw).strip())
    try:
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        if scheme == "mailto":
            address = _quote(value[7:], "@!$&'()*+,;=:~-._?")
            return f"mailto:{address}" if unquote(address).strip() else None
        if scheme not in ("http", "https"):
            return None
        host = (parts.hostname or "").encode("idna").decode("ascii").lower()
        port = parts.port
    except (ValueError, UnicodeError):
        return None
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", host):
        return None
    netloc = f"{host}:{port}" if port else host
    path = _quote(parts.path or "/", "/:@!$&'()*+,;=~-._")
    query = _quote(parts.query, "/:@!$&'()*+,;=?~-._")
    fragment = _quote(parts.fragment, "/:@!$&'()*+,;=?~-._")
    return urlunsplit((scheme, netloc, path, query, fragment))


def book_href(path: str) -> str:
    """A path inside the book as a URL (spaces and non-ASCII percent-encoded)."""
    return quote(path, safe="/()-_.~")


# ------------------------------------------------------------------ notes


def file_note(media: MediaFile | None, what: str = "File") -> str:
    if media is None or not media.zip_path:
        name = f' "{media.name}"' if media else ""
        return f" ({what}{name} is not included in this book.)"
    return (
        f' ({what} "{media.name}" could not be included in the ePub document. '
        f"Please see the separate zip file for access: {media.zip_path})"
    )


def note(parent: etree._Element, text: str) -> None:
    span = etree.SubElement(parent, xhtml("span"))
    span.set("class", "note")
    span.text = clean_text(text)


# ------------------------------------------------------------------ the rebuild


class Sanitizer:
    """Turns course HTML into XHTML elements for one book (one course, one resolver)."""

    def __init__(self, course_id: int, host: str | None, resolver: Resolver):
        self.course_id = course_id
        self.host = host
        self.resolver = resolver

    def to_xhtml(self, html: str, id_prefix: str) -> etree._Element:
        """A ``<div class="user-content">`` holding the sanitized body (flow content)."""
        out = etree.Element(xhtml("div"), nsmap={None: XHTML_NS})
        out.set("class", "user-content")
        try:
            # the empty comment keeps lxml from taking a body that starts with <html> for a
            # whole document (it then finds no <body> and fails)
            source = parse_fragment("<!---->" + clean_text(html))
        except (etree.ParserError, ValueError, AssertionError):
            append_text(out, html)  # could not even be parsed: keep it as plain text
            return out
        _Body(self, id_prefix, source).children(source, out, FLOW, False, 0)
        _drop_dangling_fragments(out)
        return out


class _Body:
    """One body's rebuild: its id map and the recursive walk."""

    def __init__(self, sanitizer: Sanitizer, prefix: str, source: etree._Element):
        self.s = sanitizer
        self.ids: dict[str, str] = {}  # course id → prefixed id
        self.placed: set[str] = set()  # course ids already put on an element
        used: set[str] = set()
        for el in source.iter():
            if not isinstance(el.tag, str):
                continue
            old = el.get("id") or (el.get("name") if el.tag == "a" else None)
            if old and old not in self.ids:
                new = f"{prefix}-" + (re.sub(r"[^A-Za-z0-9_.-]", "_", clean_text(old))[:64] or "_")
                while new in used:
                    new += "_"
                used.add(new)
                self.ids[old] = new

    # -- walking
    def children(self, src, dst, mode: str, in_a: bool, depth: int) -> None:
        append_text(dst, src.text or "")
        for child in src:
            if isinstance(child.tag, str):
                self.element(child, dst, mode, in_a, depth + 1)
            append_text(dst, child.tail or "")

    def element(self, src, dst, mode: str, in_a: bool, depth: int) -> None:
        tag = src.tag.lower()
        if tag in _VOID_UNKNOWN_TO_LIBXML:
            if tag in _HANDLED:
                getattr(self, f"_{tag}")(src, dst, mode, in_a, depth)
            self.children(src, dst, mode, in_a, depth)
            return
        if tag in _DROP:
            return
        if depth > MAX_DEPTH:
            append_text(dst, _text_of(src))
            return
        if tag in _HANDLED:
            getattr(self, f"_{tag}")(src, dst, mode, in_a, depth)
            return
        if tag == "bdo" and src.get("dir") in ("ltr", "rtl"):
            self.make(src, dst, "bdo", PHRASING, in_a, depth)
        elif tag in _PHRASING or _RENAMED.get(tag) in _PHRASING or tag == "bdo":
            self.make(src, dst, _RENAMED.get(tag, tag if tag != "bdo" else "span"), PHRASING, in_a, depth)
        elif tag in ("ins", "del"):
            self.make(src, dst, tag, mode, in_a, depth)
        elif tag in _BLOCKS or tag in _RENAMED:
            new_tag = _RENAMED.get(tag, tag)
            if mode == PHRASING:
                self.unwrap(src, dst, mode, in_a, depth, spaced=True)
            elif new_tag in ("ul", "ol"):
                self.rebuild_list(src, dst, new_tag, in_a, depth)
            elif new_tag == "hr":
                etree.SubElement(dst, xhtml("hr"))
            else:
                self.make(src, dst, new_tag, _CHILD_MODE.get(new_tag, PHRASING), in_a, depth)
        else:  # unknown, html/body, noscript, button, ruby, picture…: keep the content
            self.unwrap(src, dst, mode, in_a, depth)

    def make(self, src, dst, tag: str, child_mode: str, in_a: bool, depth: int, **attrs) -> etree._Element:
        new = etree.SubElement(dst, xhtml(tag))
        self.common_attrs(src, new)
        for key, value in attrs.items():
            new.set(key, value)
        self.children(src, new, child_mode, in_a, depth)
        return new

    def unwrap(self, src, dst, mode: str, in_a: bool, depth: int, spaced: bool = False) -> None:
        if self.course_id(src) in self.ids and self.course_id(src) not in self.placed:
            anchor = etree.SubElement(dst, xhtml("span"))
            self.common_attrs(src, anchor, only_id=True)
        if spaced:
            append_text(dst, " ")
        self.children(src, dst, mode, in_a, depth)
        if spaced:
            append_text(dst, " ")

    @staticmethod
    def course_id(src) -> str | None:
        return src.get("id") or (src.get("name") if src.tag == "a" else None)

    def common_attrs(self, src, new, only_id: bool = False) -> None:
        old_id = self.course_id(src)
        if old_id in self.ids and old_id not in self.placed:
            new.set("id", self.ids[old_id])
            self.placed.add(old_id)  # an id goes on one element only
        if only_id:
            return
        title = clean_text(src.get("title") or "").strip()
        if title:
            new.set("title", title)
        if src.get("dir") in ("ltr", "rtl", "auto"):
            new.set("dir", src.get("dir"))
        lang = src.get("lang")
        if lang and language_tag(lang) == lang.strip().replace("_", "-"):
            new.set("lang", language_tag(lang))
            new.set(XML_LANG, language_tag(lang))

    # -- links
    def target(self, value: str | None) -> tuple[str, object]:
        """``("href", url)``, ``("file", MediaFile|None)``, ``("missing", None)`` or ``("drop", None)``."""
        link = classify(value, self.s.course_id, self.s.host)
        if link.kind == "empty":
            return "drop", None
        if link.kind == "fragment":
            new = self.ids.get(link.fragment)
            return ("href", "#" + new) if new else ("drop", None)
        if link.kind == "external":
            url = safe_url(link.raw)
            if url:
                return "href", url
            return (
                ("drop", None) if re.match(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:", link.raw) else ("missing", None)
            )
        if link.kind in ("site", "other_course", "course"):
            url = safe_url(urljoin(f"https://{self.s.host or 'canvas.local'}/", link.raw.strip()))
            return ("href", url) if url else ("drop", None)
        if link.kind == "file":
            return "file", self.s.resolver.media(link.target_id)
        href = self.s.resolver.content_href(link)
        return ("href", href) if href else ("missing", None)

    def _a(self, src, dst, mode, in_a, depth):
        if in_a or src.get("href") is None:
            self.unwrap(src, dst, PHRASING, in_a, depth)
            return
        kind, value = self.target(src.get("href"))
        if kind == "href":
            self.make(src, dst, "a", PHRASING, True, depth, href=str(value))
        elif kind == "file":
            self.file_link(src, dst, value, in_a, depth)  # type: ignore[arg-type]
        else:
            self.unwrap(src, dst, PHRASING, in_a, depth)
            if kind == "missing":
                note(dst, NOT_IN_BOOK)

    def file_link(self, src, dst, media: MediaFile | None, in_a: bool, depth: int) -> None:
        """A link (``a``, ``iframe``, ``object``…) to a course file."""
        self.unwrap(src, dst, PHRASING, in_a, depth)
        if media is not None and media.book_path and media.kind == "image":
            if not any(el.tag == "img" for el in src.iter()):
                append_text(dst, " ")
                self.image(dst, media, "")
        elif media is not None and media.book_path and media.kind == "audio" and not in_a:
            append_text(dst, " ")
            self.audio(dst, media)
        else:
            note(dst, file_note(media))

    # -- media
    def image(self, dst, media: MediaFile, alt: str, src=None) -> None:
        img = etree.SubElement(dst, xhtml("img"))
        if src is not None:
            self.common_attrs(src, img)
        img.set("src", book_href(media.book_path or ""))
        img.set("alt", clean_text(alt).strip() or media.name)
        for attr in ("width", "height") if src is not None else ():
            value = (src.get(attr) or "").strip()
            if value.isdigit() and 0 < len(value) <= 5:
                img.set(attr, value)

    def audio(self, dst, media: MediaFile) -> None:
        audio = etree.SubElement(
            dst, xhtml("audio"), controls="controls", src=book_href(media.book_path or "")
        )
        audio.text = clean_text(f"Audio: {media.name}")

    def _img(self, src, dst, mode, in_a, depth):
        alt = clean_text(src.get("alt") or "").strip()
        kind, value = self.target(src.get("src"))
        media = value if kind == "file" else None
        if isinstance(media, MediaFile) and media.book_path and media.kind == "image":
            self.image(dst, media, alt, src)
        elif isinstance(media, MediaFile) and media.book_path and media.kind == "audio" and not in_a:
            self.audio(dst, media)
        elif kind == "file":
            note(dst, file_note(media, "Image"))
        elif kind == "href" and not in_a and str(value).startswith("http"):
            link = etree.SubElement(dst, xhtml("a"), href=str(value))
            link.text = f"[image: {alt}]" if alt else "[image]"  # remote images are not allowed in EPUB
        elif alt:
            append_text(dst, f"[{alt}]")

    def media_sources(self, src) -> list[tuple[str, object]]:
        values = [src.get("src")] + [s.get("src") for s in src.iter("source")]
        return [self.target(v) for v in values if v]

    def _audio(self, src, dst, mode, in_a, depth):
        targets = self.media_sources(src)
        files = [v for k, v in targets if k == "file" and isinstance(v, MediaFile)]
        playable = next((m for m in files if m.book_path and m.kind == "audio"), None)
        if playable is not None and not in_a:
            self.audio(dst, playable)
        else:
            self.media_fallback(dst, targets, files, "Audio", in_a)

    def _video(self, src, dst, mode, in_a, depth):
        targets = self.media_sources(src)
        files = [v for k, v in targets if k == "file" and isinstance(v, MediaFile)]
        self.media_fallback(dst, targets, files, "Video", in_a)

    def media_fallback(self, dst, targets, files: list[MediaFile], what: str, in_a: bool) -> None:
        url = next((str(v) for k, v in targets if k == "href" and str(v).startswith("http")), None)
        if files:
            note(dst, file_note(files[0], what))
        elif url and not in_a:
            link = etree.SubElement(dst, xhtml("a"), href=url)
            link.text = f"{what}: {url}"
        else:
            note(dst, f"({what} is not included in this book.)")

    def _iframe(self, src, dst, mode, in_a, depth, attr: str = "src"):
        kind, value = self.target(src.get(attr))
        if kind == "file":
            self.file_link(src, dst, value, in_a, depth)  # type: ignore[arg-type]
        elif kind == "href" and str(value).startswith("http") and not in_a:
            append_text(dst, "Embedded content: ")
            link = etree.SubElement(dst, xhtml("a"), href=str(value))
            link.text = clean_text(src.get("title") or "").strip() or str(value)
        else:
            note(dst, EMBED_REMOVED)

    def _embed(self, src, dst, mode, in_a, depth):
        self._iframe(src, dst, mode, in_a, depth)

    def _object(self, src, dst, mode, in_a, depth):
        self._iframe(src, dst, mode, in_a, depth, attr="data")

    def _svg(self, src, dst, mode, in_a, depth):
        label = " ".join(_text_of(src).split())
        note(dst, f"[drawing: {label}]" if label else "[drawing]")

    def _math(self, src, dst, mode, in_a, depth):
        span = etree.SubElement(dst, xhtml("span"))
        span.set("class", "math")
        span.text = clean_text(src.get("alttext") or " ".join(_text_of(src).split()))

    def _form(self, src, dst, mode, in_a, depth):
        note(dst, FORM_REMOVED)
        self.unwrap(src, dst, mode, in_a, depth, spaced=True)

    def _br(self, src, dst, mode, in_a, depth):
        etree.SubElement(dst, xhtml("br"))

    def _wbr(self, src, dst, mode, in_a, depth):
        etree.SubElement(dst, xhtml("wbr"))

    def _hr(self, src, dst, mode, in_a, depth):
        etree.SubElement(dst, xhtml("hr" if mode == FLOW else "br"))

    # -- structures
    def rebuild_list(self, src, dst, tag: str, in_a: bool, depth: int) -> None:
        new = etree.Element(xhtml(tag))
        self.common_attrs(src, new)
        if tag == "ol":
            start = (src.get("start") or "").strip()
            if re.fullmatch(r"-?\d{1,9}", start):
                new.set("start", start)
            if src.get("type") in ("1", "a", "A", "i", "I"):
                new.set("type", src.get("type"))
            if src.get("reversed") is not None:
                new.set("reversed", "reversed")
        pending: list[etree._Element] = []  # an anonymous li collecting stray content

        def stray() -> etree._Element:
            if not pending:
                pending.append(etree.SubElement(new, xhtml("li")))
            return pending[0]

        self.structure(
            src, stray, depth, in_a, lambda child: self.list_item(child, new, tag, in_a, depth, pending)
        )
        if len(new):
            dst.append(new)

    def list_item(self, child, parent, list_tag, in_a, depth, pending) -> bool:
        if child.tag.lower() != "li":
            return False
        pending.clear()
        li = self.make(child, parent, "li", FLOW, in_a, depth + 1)
        value = (child.get("value") or "").strip()
        if list_tag == "ol" and re.fullmatch(r"-?\d{1,9}", value):
            li.set("value", value)
        return True

    def structure(self, src, stray, depth: int, in_a: bool, handle) -> None:
        """Children of a structural element: ``handle(child)`` takes the structural ones,
        the rest (text and other elements) goes into ``stray()``."""
        if (src.text or "").strip():
            append_text(stray(), src.text or "")
        for child in src:
            if isinstance(child.tag, str) and child.tag.lower() not in _DROP and not handle(child):
                self.element(child, stray(), FLOW, in_a, depth + 1)
            if (child.tail or "").strip():
                append_text(stray(), child.tail or "")

    def _dl(self, src, dst, mode, in_a, depth):
        if mode == PHRASING:
            self.unwrap(src, dst, mode, in_a, depth, spaced=True)
            return
        new = etree.Element(xhtml("dl"))
        self.common_attrs(src, new)
        last: list[str] = [""]

        def add(tag: str) -> etree._Element:
            if tag == "dd" and last[0] == "":
                etree.SubElement(new, xhtml("dt"))  # a dd needs a dt before it
            last[0] = tag
            return etree.SubElement(new, xhtml(tag))

        def stray() -> etree._Element:
            return new[-1] if last[0] == "dd" and len(new) else add("dd")

        def handle(child) -> bool:
            tag = child.tag.lower()
            if tag == "div":  # HTML 5.2 allows dt/dd groups in a div: flatten them
                self.structure(child, stray, depth + 1, in_a, handle)
                return True
            if tag not in ("dt", "dd"):
                return False
            item = add(tag)
            self.common_attrs(child, item)
            self.children(child, item, PHRASING if tag == "dt" else FLOW, in_a, depth + 1)
            return True

        self.structure(src, stray, depth, in_a, handle)
        if last[0] == "dt":
            etree.SubElement(new, xhtml("dd"))
        if len(new):
            dst.append(new)

    def _table(self, src, dst, mode, in_a, depth):
        if mode == PHRASING:
            self.unwrap(src, dst, mode, in_a, depth, spaced=True)
            return
        table = etree.Element(xhtml("table"))
        self.common_attrs(src, table)
        caption: list[etree._Element] = []
        sections = {
            "thead": etree.Element(xhtml("thead")),
            "tbody": etree.Element(xhtml("tbody")),
            "tfoot": etree.Element(xhtml("tfoot")),
        }
        before = etree.Element(xhtml("div"))  # stray content goes before the table, as browsers do

        def row(tr, section: str) -> None:
            new_row = etree.Element(xhtml("tr"))
            self.common_attrs(tr, new_row)
            cell: list[etree._Element] = []

            def stray_cell() -> etree._Element:
                if not cell:
                    cell.append(etree.SubElement(new_row, xhtml("td")))
                return cell[0]

            def handle_cell(child) -> bool:
                tag = child.tag.lower()
                if tag not in ("td", "th"):
                    return False
                cell.clear()
                new_cell = self.make(child, new_row, tag, FLOW, in_a, depth + 2)
                for attr in ("colspan", "rowspan"):
                    value = (child.get(attr) or "").strip()
                    if value.isdigit() and 1 <= int(value) <= 1000:
                        new_cell.set(attr, str(int(value)))
                if tag == "th" and child.get("scope") in ("row", "col", "rowgroup", "colgroup"):
                    new_cell.set("scope", child.get("scope"))
                return True

            self.structure(tr, stray_cell, depth + 1, in_a, handle_cell)
            if len(new_row):
                sections[section].append(new_row)

        def handle(child, section: str = "tbody") -> bool:
            tag = child.tag.lower()
            if tag == "tr":
                row(child, section)
            elif tag in ("td", "th"):  # a cell outside any row: give it one
                lone = etree.Element("tr")
                lone.append(copy.deepcopy(child))
                lone[0].tail = None
                row(lone, section)
            elif tag in sections and section == "tbody":
                self.structure(child, lambda: before, depth + 1, in_a, lambda c: handle(c, tag))
            elif tag == "caption" and not caption and section == "tbody":
                caption.append(
                    self.make(child, etree.Element(xhtml("div")), "caption", PHRASING, in_a, depth)
                )
            else:
                return False
            return True

        self.structure(src, lambda: before, depth, in_a, handle)
        if len(before) or (before.text or "").strip():
            self.adopt(before, dst)
        if any(len(s) for s in sections.values()):
            table.extend(caption)
            table.extend(s for s in sections.values() if len(s))
            dst.append(table)

    @staticmethod
    def adopt(holder: etree._Element, dst: etree._Element) -> None:
        """Move a holder's text and children into ``dst``."""
        append_text(dst, holder.text or "")
        for child in list(holder):
            dst.append(child)


def _text_of(el) -> str:
    """The readable text below ``el`` (no script or style contents)."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and child.tag.lower() not in _NOT_TEXT:
            parts.append(_text_of(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _drop_dangling_fragments(root: etree._Element) -> None:
    """Unwrap ``<a href="#x">`` whose ``x`` did not survive the rebuild (EPUBCheck RSC-012)."""
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    for link in list(root.iter(xhtml("a"))):
        href = link.get("href") or ""
        if href.startswith("#") and href[1:] not in ids:
            unwrap_element(link)


def unwrap_element(el: etree._Element) -> None:
    """Replace ``el`` by its text and children, in place."""
    parent = el.getparent()
    index = parent.index(el)
    previous = parent[index - 1] if index else None
    text = el.text or ""
    if previous is not None:
        previous.tail = (previous.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    children = list(el)
    tail = el.tail or ""
    parent.remove(el)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    if children:
        children[-1].tail = (children[-1].tail or "") + tail
    elif previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
