"""Parsing and serialising HTML body fragments (shared by importers and exporters)."""

from __future__ import annotations

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
