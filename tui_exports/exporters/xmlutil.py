"""Small lxml helpers shared by the CC and QTI writers.

Course text comes from users and may hold characters XML 1.0 cannot carry (control
characters, lone surrogates); lxml refuses those, so every value goes through
:func:`clean` before it reaches a tree.  Dates and booleans are formatted the way
Canvas's ``CCHelper`` does so importers that know Canvas read them back.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from lxml import etree

XSI = "http://www.w3.org/2001/XMLSchema-instance"
CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
CANVAS_SCHEMA_LOCATION = f"{CANVAS_NS} https://canvas.instructure.com/xsd/cccv1p0.xsd"

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(value: Any) -> str:
    """``value`` as text that XML 1.0 can hold (invalid characters dropped)."""
    if value is None:
        return ""
    return _INVALID_XML.sub("", str(value))


def ims_datetime(value: datetime | None) -> str:
    """Canvas's ``ims_datetime``: UTC ``YYYY-MM-DDTHH:MM:SS`` (naive values are taken as UTC)."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def text_value(value: Any) -> str:
    """Ruby's ``to_s`` for the values Canvas writes: booleans lower-case, floats with ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return ims_datetime(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else "0.0"
    return clean(value)


class Builder:
    """Appends namespaced children: ``b.sub(parent, "title", "x")`` (one namespace per document)."""

    def __init__(self, namespace: str | None):
        self.ns = namespace

    def tag(self, name: str) -> str:
        return f"{{{self.ns}}}{name}" if self.ns else name

    def root(self, name: str, /, nsmap: dict[str | None, str] | None = None,
             schema_location: str | None = None, **attrs: Any) -> etree._Element:
        nsmap = dict(nsmap or {})
        if self.ns and None not in nsmap:
            nsmap[None] = self.ns
        if schema_location:
            nsmap.setdefault("xsi", XSI)
        el = etree.Element(self.tag(name), nsmap=nsmap)
        for key, value in attrs.items():
            el.set(key, text_value(value))
        if schema_location:
            el.set(f"{{{XSI}}}schemaLocation", schema_location)
        return el

    def sub(self, parent: etree._Element, name: str, text: Any = None, /, **attrs: Any) -> etree._Element:
        el = etree.SubElement(parent, self.tag(name))
        for key, value in attrs.items():
            if value is not None:
                el.set(key, text_value(value))
        if text is not None:
            el.text = text_value(text)
        return el

    def fields(self, parent: etree._Element, pairs: list[tuple[str, Any]]) -> None:
        """One child per ``(name, value)``; ``None`` gives an empty element, as Canvas writes."""
        for name, value in pairs:
            self.sub(parent, name, value)


canvas = Builder(CANVAS_NS)


def canvas_root(name: str, **attrs: Any) -> etree._Element:
    """Root of a Canvas-namespace metadata file (``cccv1p0``, no schema available offline)."""
    return canvas.root(name, schema_location=CANVAS_SCHEMA_LOCATION, **attrs)
