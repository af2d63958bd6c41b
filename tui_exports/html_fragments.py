"""Parsing and serialising HTML body fragments (shared by importers and exporters)."""

from __future__ import annotations

from collections.abc import Callable

import lxml.html
from lxml import etree


def parse_fragment(html: str) -> etree._Element:
    """Parse an HTML body fragment into a ``<div>`` wrapper (lenient, like a browser)."""
    return lxml.html.fragment_fromstring(html or "", create_parent="div")


def serialize_fragment(root: etree._Element) -> str:
    """The inner HTML of a wrapper made by :func:`parse_fragment`."""
    out = [root.text or ""]
    for child in root:
        out.append(lxml.html.tostring(child, encoding="unicode"))
    return "".join(out)


def rewrite_attrs(html: str, new_value: Callable[[str, str], str | None], attrs=("href", "src")) -> str:
    """``html`` with each ``href``/``src`` value replaced by ``new_value(attribute, value)`` (None:
    kept as it was); the same string back when nothing changed (and when it has no such links)."""
    if not html or not any(a in html for a in attrs):
        return html
    root = parse_fragment(html)
    changed = False
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in attrs:
            value = el.get(attr)
            if value is None:
                continue
            new = new_value(attr, value)
            if new is not None and new != value:
                el.set(attr, new)
                changed = True
    return serialize_fragment(root) if changed else html
