"""XHTML5 building blocks shared by the sanitizer, the chapter renderer and the packager.

Every chapter is an lxml tree in the XHTML namespace, serialised as XML (never as
HTML), so what EPUBCheck parses is always well-formed.  Text that reaches the tree goes
through :func:`clean_text` first: lxml refuses characters that XML 1.0 forbids, and
course content (or a hostile title) may contain them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree
from lxml.builder import ElementMaker

from tui_exports.exporters.common.xmlutil import write_streamed

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

E = ElementMaker(namespace=XHTML_NS, nsmap={None: XHTML_NS})

#: Characters XML 1.0 forbids (C0 controls but tab/LF/CR, surrogates, U+FFFE/F) plus
#: the C1 controls, which HTML also treats as errors.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

#: BCP 47 tags as Canvas locales spell them (``en``, ``pt-BR``, ``zh-Hant``, ``en-AU-x-unimelb``).
_LANG_TAG = re.compile(
    r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|\d{3}))?(-([A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*"
    r"(-x(-[A-Za-z0-9]{1,8})+)?$"
)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def clean_text(value: object) -> str:
    """``value`` as text that XML 1.0 accepts."""
    return _NOT_XML.sub("", str(value)) if value is not None else ""


def title_text(value: object, fallback: str = "Untitled") -> str:
    """A title for a heading, ``<title>`` or nav label: never empty, whitespace collapsed."""
    text = " ".join(clean_text(value).split())
    return text or fallback


def language_tag(locale: str | None) -> str:
    """The course locale as a well-formed BCP 47 tag (Canvas writes ``en_GB`` too); ``en`` if unusable."""
    tag = (locale or "").strip().replace("_", "-")
    return tag if _LANG_TAG.match(tag) else "en"


def xhtml(tag: str) -> str:
    return f"{{{XHTML_NS}}}{tag}"


def append_text(parent: etree._Element, text: str) -> None:
    """Append text after the last child of ``parent`` (or as its text)."""
    text = clean_text(text)
    if not text:
        return
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def new_document(title: str, lang: str, css_href: str | None = "style.css", *, epub_ns: bool = False):
    """An empty chapter: returns ``(html, body)``."""
    nsmap = {None: XHTML_NS}
    if epub_ns:
        nsmap["epub"] = EPUB_NS
    html = etree.Element(xhtml("html"), nsmap=nsmap)
    html.set("lang", lang)
    html.set(XML_LANG, lang)
    head = etree.SubElement(html, xhtml("head"))
    etree.SubElement(head, xhtml("meta"), charset="utf-8")
    etree.SubElement(head, xhtml("title")).text = title_text(title)
    if css_href:
        etree.SubElement(head, xhtml("link"), rel="stylesheet", type="text/css", href=css_href)
    body = etree.SubElement(html, xhtml("body"))
    return html, body


def write_document(
    html: etree._Element, path: Path, fills: Mapping[etree._Element, Iterable] | None = None
) -> int:
    """Serialise a chapter as XML with the HTML5 doctype; returns the bytes written.  The
    children of the elements of ``fills`` come from their iterables, one at a time
    (:func:`~tui_exports.exporters.common.xmlutil.write_streamed`)."""
    with path.open("wb") as dst:
        write_streamed(
            dst,
            html,
            fills or {},
            indent=False,
            encoding="utf-8",
            xml_declaration=True,
            doctype="<!DOCTYPE html>",
        )
        return dst.tell()


def friendly_date(value: datetime | None, time_zone: str = "UTC") -> str:
    """``Tue Sep 1, 2026 09:00 BST`` in the course's time zone (UTC when the zone is unknown)."""
    if value is None:
        return ""
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[local.weekday()]
    return f"{day} {_MONTHS[local.month - 1]} {local.day}, {local.year} {local:%H:%M} {local.tzname() or ''}".strip()


def file_timestamp(value: datetime) -> str:
    """``2026-Sep-01_09-00-00`` (Canvas's ePub file-name stamp; English month names always)."""
    return f"{value.year:04d}-{_MONTHS[value.month - 1]}-{value.day:02d}_{value:%H-%M-%S}"


def w3c_datetime(value: datetime) -> str:
    """``dcterms:modified`` form: UTC, seconds, ``Z``."""
    utc = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
